"""A stored value that SQLAlchemy's result processing or the driver refuses (a row another program wrote: SQLite
keeps 'yesterday' in a DATE column, PostgreSQL 'infinity' in a date and '24:00' in a time) is refused by every read
path naming the table, the column, the row's key and the value; exit 1 and no traceback from `schemarel export`.

Reads said `ValueError: Invalid isoformat string: 'yesterday'` (SQLite; a bare traceback from export) or "the
database cannot store a value of the document: date too large" (PostgreSQL, a read taken for a write), naming
neither where the value is nor that stored data is wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projects import generate, write_project
from schemarel import Store
from stored_values import plant, refused_by_every_read, upgraded_url

SCHEMA = {
    "title": "Item",
    "type": "object",
    "properties": {
        "code": {"type": "string", "x-sql": {"unique": True}},
        "day": {"type": "string", "format": "date"},
        "at": {"type": "string", "format": "date-time"},
        "clock": {"type": "string", "format": "time"},
        "ref": {"type": "string", "format": "uuid"},
        "price": {"type": "number"},
        "amount": {"type": "number", "x-sql": {"type": "numeric(12,2)"}},
        "n": {"type": "integer"},
        "meta": {"type": "object"},
        "tags": {
            "type": "array",
            "items": {"type": "object", "properties": {"on": {"type": "string", "format": "date"}}},
        },
    },
    "required": ["code"],
}
# a document of one table: read by one statement, on psycopg by the driver itself (the direct paths), and patched
# by one UPDATE … RETURNING
THING = {
    "title": "Thing",
    "type": "object",
    "properties": {k: v for k, v in SCHEMA["properties"].items() if k != "tags"},  # type: ignore[attr-defined]
    "required": ["code"],
}
GOOD = {
    "day": "2024-01-02",
    "at": "2024-01-02T03:04:05Z",
    "clock": "03:04:05Z",
    "ref": "5f0c6a52-53f4-4bd7-9a4f-0ac5a8d6c0a1",
    "price": 1.25,
    "amount": 2.5,
    "n": 3,
    "meta": {"a": 1},
    "tags": [{"on": "2024-01-01"}],
}
COLUMNS = [("items", c) for c in ("day", "at", "clock", "ref", "price", "amount", "n", "meta")] + [("item_tags", "on")]
# text no value of any column's kind is spelled as: no digits, no hex letters (a uuid), no float words
NONSENSE = st.text(
    st.characters(blacklist_categories=("Cs", "Nd"), blacklist_characters="abcdefABCDEF"), min_size=1, max_size=12
).filter(lambda t: t.strip().lower().lstrip("+-") not in {"nan", "inf", "infinity", "snan", "true", "null"})
SQLITE_CASES = st.tuples(
    st.sampled_from(COLUMNS),
    st.one_of(NONSENSE, st.sampled_from(["2024-13-45", "2024-02-30", "25:61:00", "yesterday", "1.2.3", "{bad", "NaN"])),
)
# what PostgreSQL's typed columns hold and psycopg cannot load (its text as PostgreSQL prints it back)
PG_DATES = ["infinity", "-infinity", "12345-06-07", "0044-03-15 BC", "200000-01-01"]
PG_CASES = st.one_of(
    st.tuples(st.sampled_from([("items", "day"), ("item_tags", "on")]), st.sampled_from(PG_DATES)),
    st.tuples(st.just(("items", "at")), st.sampled_from(["infinity", "-infinity"])),
    st.tuples(st.just(("items", "clock")), st.just("24:00:00")),
)
# what MariaDB's DATE and DATETIME hold where the SQL mode allows it, and PyMySQL gives as text
MYSQL_DATES = ["0000-00-00", "2024-00-10", "2024-02-00"]
MYSQL_CASES = st.one_of(
    st.tuples(st.sampled_from([("items", "day"), ("item_tags", "on")]), st.sampled_from(MYSQL_DATES)),
    st.tuples(st.just(("items", "at")), st.sampled_from([f"{d} 00:00:00" for d in MYSQL_DATES])),
)
CASES = {"sqlite": SQLITE_CASES, "postgresql": PG_CASES, "mysql": MYSQL_CASES}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_project(tmp_path_factory.mktemp("unreadable_stored"), {"item": SCHEMA, "thing": THING})
    assert generate(root).exit_code == 0
    return root


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def url(request: pytest.FixtureRequest, project: Path) -> str:
    return upgraded_url(request, project)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_an_unreadable_stored_value_is_named_by_every_read(project: Path, url: str, data: st.DataObject) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    dialect = engine.dialect.name
    (table, column), text = data.draw(CASES[dialect])
    name = data.draw(st.sampled_from(["item", "thing"] if table == "items" else ["item"]))
    good_doc = {k: v for k, v in GOOD.items() if k in (SCHEMA if name == "item" else THING)["properties"]}
    # behind schemarel's back: the bad document's value, as another program would write it
    planted = plant(url, project, name, good_doc, table, column, ":v", {"v": text})
    table = f"{name}s" if table == "items" else table
    with engine.connect() as conn:
        # the value as the database gives it (PostgreSQL: as its text, which psycopg cannot load; SQLite's
        # column affinity may have made a number of the text)
        quoted = engine.dialect.identifier_preparer.quote(column)
        raw = f"CAST({quoted} AS TEXT)" if dialect == "postgresql" else quoted
        found = conn.execute(sa.text(f"SELECT {raw} FROM {table} WHERE id = :r"), {"r": planted.row_key})
        stored = found.scalar_one()
    refused_by_every_read(url, project, name, planted.bad, f"{planted.named}{stored!r}, which is no ")
    with Store(url, name, source=project / "generated") as store:
        assert store.get(planted.good)["code"] == "good"  # the other document is read as before
    if name == "item":  # the refused patch wrote nothing
        with engine.connect() as conn:
            code = conn.execute(sa.text("SELECT code FROM items WHERE id = :k"), {"k": planted.key}).scalar_one()
            assert code == "bad"
    engine.dispose()
