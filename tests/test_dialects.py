"""One schema that uses everything the mapping knows, on SQLite, PostgreSQL and MariaDB: the migration goes up
and down with nothing left to compare, documents come back as they went in (absent, null and empty apart),
the database applies defaults and CHECKs, and hostile text stays what it was in Python, SQL and Markdown."""

from __future__ import annotations

import copy
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from dbtools import engine, load_models, migrate, schema_diff, table_names
from projects import generate, write_project
from schemarel.errors import DocumentInvalid
from schemarel.runtime.store import Store

NASTY = 'It\'s "quoted" \'\'\' """ \\ back\\slash\nnew line | pipe `tick` {{ jinja }} {% raw %} <b>html</b> ünï ☃'
ENUM = ["plain", "it's", 'say "hi"', "back\\slash", "pi|pe", "{{x}}", "ünï"]
DEFAULT = 'a "b" | {{ c }} {% d %} <e> ü'  # no ' nor \: MariaDB echoes those escaped, and SQLAlchemy misreads them
LINE = {"type": "object", "required": ["sku"], "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}}
CARD = {"type": "object", "required": ["method", "last4"],
        "properties": {"method": {"const": "card"}, "last4": {"type": "string", "maxLength": 4}}}  # fmt: skip
CASH = {
    "type": "object",
    "required": ["method"],
    "properties": {"method": {"const": "cash"}, "change": {"type": "number"}},
}
LONG = "aVeryLongPropertyNameThatGoesOnAndOnForTheSakeOfItsIdentifiers"  # names past 63 bytes: shortened
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Order",
    "description": NASTY,
    "type": "object",
    "additionalProperties": False,
    "required": ["user", "status", "lines", "flags"],
    "properties": {
        "user": {"type": "string", "minLength": 1, "maxLength": 80, "title": NASTY},
        "select": {"type": ["string", "null"], "description": "An optional, nullable scalar."},
        "status": {"type": "string", "enum": ENUM, "default": "plain"},
        "note": {"type": "string", "default": DEFAULT},
        "level": {"type": "integer", "minimum": 1, "maximum": 5, "default": 3},
        "price": {"type": "number", "multipleOf": 0.01, "minimum": 0, "maximum": 100000},
        "paid": {"type": "boolean", "default": False},
        "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "placed": {"type": "string", "format": "date-time"},
        "day": {"type": "string", "format": "date"},
        "ref": {"type": "string", "format": "uuid"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "lines": {"type": "array", "items": LINE},
        "grid": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
        "group": {"type": ["object", "null"], "x-sql": {"table": "group"}, "properties": {"name": {"type": "string"}}},
        "flags": {"type": ["array", "null"], "items": {"type": "boolean"}},
        "shipping": {
            "type": "object",
            "x-sql": {"storage": "flatten"},
            "properties": {"city": {"type": "string"}, "zip": {"type": ["string", "null"]}},
        },  # fmt: skip
        "payment": {"oneOf": [CARD, CASH]},
        "anything": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "children": {"type": "array", "items": {"$ref": "#"}},
        LONG: {"type": "array", "uniqueItems": True, "items": {"type": "string", "maxLength": 30}},
    },
}
BASE = {"user": "ada", "status": "plain", "lines": [], "flags": []}
DOCUMENTS = [
    BASE,
    {**BASE, "select": None, "tags": [], "flags": None, "group": None, "shipping": {}, "lines": [{"sku": "a"}]},
    {**BASE, "select": "x", "tags": ["t", "t"], "group": {}, "shipping": {"zip": None}, "grid": [[1, 2], [], [3]],
     "lines": [{"sku": "a", "qty": 2, "gift": {"wrap": True}}, {"sku": "b"}], "status": "it's", "flags": [True],
     "payment": {"method": "card", "last4": "4242"}, "anything": 7, "price": 12.5, "placed": "2024-02-03T04:05:06Z",
     "day": "2024-02-29", "ref": "0b1c7d0e-9f1a-4d7c-8f6e-2a3b4c5d6e7f", "code": "ABC", "level": 5, "paid": True},
    {**BASE, LONG: ["x", "y"], "payment": {"method": "cash"}, "anything": "seven", "group": {"name": NASTY},
     "note": NASTY,
     "children": [{**BASE, "user": "child", "children": [{**BASE, "user": "grandchild"}]}, {**BASE, "user": "c2"}]},
]  # fmt: skip


@pytest.fixture(scope="module")
def order_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_project(tmp_path_factory.mktemp("order"), {"order": SCHEMA})
    result = generate(root)
    assert result.exit_code == 0, result.stderr
    return root


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def any_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue({"postgresql": "postgres_url"}.get(request.param, f"{request.param}_url")))


def test_a_value_of_several_scalar_types_takes_a_column_per_type(order_project: Path) -> None:
    """`oneOf` integer | string: no JSON column and no warning, a typed column per JSON type (the round trips
    below read `7` and `"seven"` back as written)."""
    result = generate(order_project)
    assert result.stderr.splitlines() == []
    models = (order_project / "generated" / "models" / "order.py").read_text(encoding="utf-8")
    assert "anything_integer: Mapped[int | None]" in models and "anything_string: Mapped[str | None]" in models


def test_three_dialects(order_project: Path, any_url: str) -> None:
    out = order_project / "generated"
    models = load_models(out)
    migrate(out, any_url, "upgrade", "head")
    assert schema_diff(any_url, out, models) == []
    with Store(any_url, "order", schemas_dir=order_project / "schemas") as store:
        ids = store.create_many(copy.deepcopy(DOCUMENTS))
        assert [store.get(i) for i in ids] == DOCUMENTS
        assert len(store) == len(DOCUMENTS)  # the nested children are parts of their document
        one = store.create(DOCUMENTS[2])
        assert store.get(one) == DOCUMENTS[2]
        store.replace(one, DOCUMENTS[3])
        assert store.get(one) == DOCUMENTS[3]
        with pytest.raises(DocumentInvalid, match="/user"):
            store.create({**BASE, "user": ""})
    _database_rules(any_url, models.Order.__table__)
    migrate(out, any_url, "downgrade", "base")
    assert table_names(any_url) == set()


def _database_rules(url: str, orders: sa.Table) -> None:
    """Defaults and CHECKs are the database's own, not only the runtime's."""
    with engine(url) as eng:
        with eng.begin() as conn:
            key = uuid.uuid4()
            conn.execute(orders.insert().values(id=key, user="raw"))
            row = conn.execute(sa.select(orders).where(orders.c.id == key)).mappings().one()
            assert (row["note"], row["status"], row["level"], bool(row["paid"])) == (DEFAULT, "plain", 3, False)
        for bad in ({"user": ""}, {"user": "x", "level": 9}, {"user": "x", "price": -1}):
            with pytest.raises(sa.exc.DBAPIError), eng.begin() as conn:
                conn.execute(orders.insert().values(id=uuid.uuid4(), **bad))
        regex = {"user": "x", "code": "abc"}  # a regex CHECK is PostgreSQL's alone
        if url.startswith("postgresql"):
            with pytest.raises(sa.exc.IntegrityError), eng.begin() as conn:
                conn.execute(orders.insert().values(id=uuid.uuid4(), **regex))
        else:
            with eng.begin() as conn:
                conn.execute(orders.insert().values(id=uuid.uuid4(), **regex))
        if not url.startswith("sqlite"):  # SQLite keeps no comments
            assert sa.inspect(eng).get_table_comment("orders")["text"] == NASTY


def test_hostile_text_is_python_markdown_and_sql_that_mean_the_same(order_project: Path, sqlite_url: str) -> None:
    models = load_models(order_project / "generated")
    order = models.Order
    assert order.__doc__ == NASTY.strip()
    assert order.__table__.comment == NASTY
    assert order.__table__.c.user.comment == NASTY
    # a backslash in a label keeps it from being a native enum (MySQL reads it back doubled): a CHECK lists them
    (status,) = [c for c in order.__table__.constraints if c.name == "ck_orders__status_enum"]
    assert status.sqltext.right.value == ENUM
    assert order.__table__.c.note.server_default.arg == DEFAULT
    doc = (order_project / "generated/docs/order.md").read_text(encoding="utf-8")
    for table in re.findall(r"\| Column \| Type .*?\n\n", doc, flags=re.S):
        rows = [line for line in table.splitlines() if line.startswith("|")]
        assert {len(re.findall(r"(?<!\\)\|", row)) for row in rows} == {6}, table  # every row keeps its 5 cells
    assert "<b>" not in doc and "&lt;b&gt;" in doc
    for path in (order_project / "generated").rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mysql"])
def test_quotes_and_backslashes_in_defaults_are_stored_exactly(tmp_path: Path, dialect: str, request: Any) -> None:
    url = str(request.getfixturevalue({"postgresql": "postgres_url"}.get(dialect, f"{dialect}_url")))
    hostile = "it's \\ 'x' \"y\" \\n %s %(a)s"
    schema = {"title": "Note", "type": "object", "properties": {"body": {"type": "string", "default": hostile}}}
    root = write_project(tmp_path, {"note": schema})
    assert generate(root).exit_code == 0
    migrate(root / "generated", url, "upgrade", "head")
    if dialect != "mysql":  # MariaDB echoes such a default backslash-escaped; SQLAlchemy reads it back as none
        assert schema_diff(url, root / "generated") == []
    notes = load_models(root / "generated").Note.__table__
    with engine(url) as eng, eng.begin() as conn:
        conn.execute(notes.insert().values(id=uuid.uuid4()))
        assert conn.execute(sa.select(notes.c.body)).scalar_one() == hostile
    migrate(root / "generated", url, "downgrade", "base")
