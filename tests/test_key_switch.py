"""Switching a root's key from the surrogate `pk` to its `id` property: a revision that keeps the data both ways."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from conftest import run_schemarel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projects import model
from schemarel.ir import Database, database_from_snapshot, snapshot
from schemarel.migrate.plan import plan
from schemarel.runtime.store import Store

# an array table, a 1:1 object table keyed by the root's key, and tables below both (the switch cascades)
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.test/order.schema.json",
    "title": "Order",
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "name", "lines"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["sku"],
                "properties": {"sku": {"type": "string"}, "parts": {"type": "array", "items": {"type": "string"}}},
            },
        },
        "ship": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"city": {"type": "string"}, "legs": {"type": "array", "items": {"type": "string"}}},
        },
    },
}


def _documents(ids: list[str]) -> list[dict[str, Any]]:
    shapes: list[dict[str, Any]] = [
        {"name": "two lines, a ship with legs", "lines": [{"sku": "x", "parts": ["p1", "p2"]}, {"sku": "y"}],
         "ship": {"city": "Oslo", "legs": ["l1", "l2"]}},
        {"name": "no lines, no ship", "lines": []},
        {"name": "a ship without legs", "lines": [{"sku": "z", "parts": []}], "ship": {"city": "Rome"}},
        {"name": "an empty ship", "lines": [{"sku": "z"}, {"sku": "z"}], "ship": {}},
    ]  # fmt: skip
    return [{"id": i, **shapes[n % len(shapes)]} for n, i in enumerate(ids)]


def _ok(project: Path, *args: str) -> str:
    result = run_schemarel(project, *args)
    assert result.returncode == 0, result.stderr
    return result.stderr


def _project(tmp_path: Path, url: str, documents: list[dict[str, Any]]) -> Path:
    """A project at revision 0001 (keyed by `pk`) holding `documents`; its schema then switched to `id`."""
    project = tmp_path / "project"
    (project / "schemas").mkdir(parents=True)
    schema = project / "schemas" / "order.schema.json"
    schema.write_text(json.dumps(SCHEMA, indent=2), encoding="utf-8")
    _ok(project, "generate")
    _ok(project, "upgrade", "--db", url)
    lines = tmp_path / "orders.ndjson"
    lines.write_text("".join(json.dumps(d) + "\n" for d in documents), encoding="utf-8")
    _ok(project, "load", "--schema", "order", "--db", url, str(lines))
    schema.write_text(json.dumps({**SCHEMA, "x-sql": {"primaryKey": {"property": "id"}}}), encoding="utf-8")
    return project


def _read_back(project: Path, url: str, ids: list[str]) -> list[Any]:
    with Store(url, "order", source=project / "generated") as store:
        return [store.get(i) for i in ids]


def _keys(url: str) -> dict[str, list[str]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        inspector = sa.inspect(engine)
        tables = [t for t in inspector.get_table_names() if t.startswith("order")]
        return {t: inspector.get_pk_constraint(t)["constrained_columns"] for t in sorted(tables)}
    finally:
        engine.dispose()


def test_the_switch_keeps_every_document_up_and_down(tmp_path: Path, three_db_url: str) -> None:
    ids = [str(uuid.UUID(int=n * 7919 + 1, version=4)) for n in range(6)]
    documents = _documents(ids)
    project = _project(tmp_path, three_db_url, documents)

    generated = run_schemarel(project, "generate")  # a supported change: no --allow-destructive
    assert generated.returncode == 0, generated.stderr
    (revision,) = (project / "generated" / "migrations" / "versions").glob("0002_*.py")
    code = revision.read_text(encoding="utf-8")
    imported = set(re.findall(r"^(?:from|import) ([\w.]+)", code, re.MULTILINE))
    assert imported <= {"__future__", "sqlalchemy", "alembic", "schemarel.support"}, imported
    assert '("key", "orders", "id")' in code  # NULL and repeated ids are refused before anything changes
    doc = next((project / "generated" / "docs").rglob("0002*.md")).read_text(encoding="utf-8")
    assert "primary key" in doc and "fresh values" in doc  # what reverting does to the surrogate

    _ok(project, "upgrade", "--db", three_db_url)
    keys = _keys(three_db_url)
    assert keys["orders"] == ["id"] and keys["order_ships"] == ["order_id"]
    assert _read_back(project, three_db_url, ids) == documents

    _ok(project, "downgrade", "-1", "--db", three_db_url)
    keys = _keys(three_db_url)
    assert keys["orders"] == ["pk"] and keys["order_ships"] == ["order_pk"]
    _ok(project, "upgrade", "--db", three_db_url)  # the children were pointed at the fresh surrogate keys
    assert _read_back(project, three_db_url, ids) == documents


def _dump(url: str) -> dict[str, Any]:
    """Every table's columns, key and rows: what the database holds."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        md = sa.MetaData()
        md.reflect(engine)
        with engine.connect() as conn:
            return {
                name: (
                    [c.name for c in table.columns],
                    [c.name for c in table.primary_key.columns],
                    sorted(map(repr, conn.execute(sa.select(table)).all())),
                )
                for name, table in md.tables.items()
            }
    finally:
        engine.dispose()


def test_repeated_ids_refuse_the_switch_before_anything_changes(tmp_path: Path, db_url: str) -> None:
    twice, once = str(uuid.uuid4()), str(uuid.uuid4())
    project = _project(tmp_path, db_url, _documents([twice, once, twice, twice]))
    _ok(project, "generate")
    before = _dump(db_url)

    result = run_schemarel(project, "upgrade", "--db", db_url)

    assert result.returncode != 0
    assert "`orders.id` becomes the primary key but is NULL or not unique in 3 rows" in result.stderr
    assert f"repeated: {twice.replace('-', '')!r}" in result.stderr or f"repeated: {twice!r}" in result.stderr
    assert "(3 rows)" in result.stderr and "give each row its own value" in result.stderr
    assert "Traceback" not in result.stderr
    assert _dump(db_url) == before


@st.composite
def nested(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    """Properties holding scalars, arrays and objects down to three levels: tables under tables."""
    props: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(["a", "b", "c"]), unique=True, max_size=3)):
        kinds = ["scalar", "strings"] + (["object", "objects"] if depth < 2 else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "scalar":
            props[name] = {"type": "string"}
        elif kind == "strings":
            props[name] = {"type": "array", "items": {"type": "string"}}
        else:
            inner: dict[str, Any] = {
                "type": "object",
                "additionalProperties": False,
                "properties": draw(nested(depth + 1)),
            }
            inner["properties"].setdefault("x", {"type": "string"})
            props[name] = inner if kind == "object" else {"type": "array", "items": inner}
    return props


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(properties=nested())
def test_every_table_under_the_root_follows_the_switch(tmp_path: Path, properties: dict[str, Any]) -> None:
    schema = {"title": "Thing", "type": "object", "required": ["id"],
              "properties": {"id": {"type": "string", "format": "uuid"}, **properties}}  # fmt: skip
    switched = {**schema, "x-sql": {"primaryKey": {"property": "id"}}}
    old = database_from_snapshot(snapshot(Database((model(tmp_path / "a", schema, "thing"),))))
    new = database_from_snapshot(snapshot(Database((model(tmp_path / "b", switched, "thing"),))))

    p = plan(old, new)

    assert not [c for c in p.changes if c.destructive]  # no column dropped, no key column left unfilled
    assert [(c.action, c.what, c.before, c.after) for c in p.changes if c.what == "primary key"] == [
        ("alter", "primary key", "pk", "id")
    ]
    referring = [t for t in old.tables if any(fk.ref_columns[0].endswith("pk") for fk in t.foreign_keys)]
    assert all(repr(t.name) in p.upgrade and repr(t.name) in p.downgrade for t in referring)
