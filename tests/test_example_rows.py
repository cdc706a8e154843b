"""The docs' "stored as these rows" tables are the rows `Store.create` writes: one shredder for both, checked
against what the database holds for many documents, presence and extra columns included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis_jsonschema import from_schema
from runtime_helpers import open_store
from schemarel.render.rows import document_rows
from schemarel.runtime.store import Store

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Note",
    "type": "object",
    "required": ["title", "parts"],
    "patternProperties": {"^n_": {"type": "integer", "minimum": -99, "maximum": 99}},  # a map table's rows
    "properties": {
        "title": {"type": "string", "maxLength": 20},
        "note": {"type": ["string", "null"], "maxLength": 20},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 3},
        "count": {"type": "integer", "minimum": -1000, "maximum": 1000},
        "level": {"enum": ["low", "high"]},
        "meta": {
            "type": "object",
            "properties": {"a": {"type": "integer", "minimum": 0, "maximum": 9}, "b": {"type": ["boolean", "null"]}},
            "additionalProperties": {"type": "boolean"},
        },
        "parts": {
            "type": "array",
            "maxItems": 2,
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "maxLength": 8},
                    "size": {"type": ["integer", "null"], "minimum": -99, "maximum": 99},  # a bigint holds it
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("rows")
    (root / "schemas").mkdir()
    (root / "schemas" / "note.schema.json").write_text(json.dumps(SCHEMA))
    return open_store(f"sqlite:///{root / 'rows.db'}", "note", schemas_dir=root / "schemas")


def _database_rows(store: Store, table: sa.Table, doc_id: Any) -> list[dict[str, Any]]:
    """The rows of one document, as text the way the docs show them (JSON columns as their JSON text)."""
    tm = next(tm for tm in store.mapping.tables if tm.sa_table is table)
    columns = [sa.cast(c, sa.Text()) if isinstance(c.type, sa.JSON) else c for c in table.c]
    query = sa.select(*columns)
    if tm.parent is not None:
        query = query.where(table.c[tm.fk or tm.key] == doc_id)
    else:
        query = query.where(table.c[tm.key] == doc_id)
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query.order_by(table.c[tm.key]))]


def _shown(value: Any, is_json: bool) -> str:
    if value is None:
        return "NULL"
    if is_json:  # the same JSON value: the database may space or order it its own way
        return json.dumps(json.loads(value), sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(from_schema(SCHEMA))
def test_docs_rows_are_the_rows_the_runtime_writes(store: Store, document: dict[str, Any]) -> None:
    shown = {t.table: t for t in document_rows(store.mapping.model, document)}
    doc_id = store.create(document)
    try:
        for tm in store.mapping.tables:
            made_by_database = {tm.key, tm.fk, "created_at", "updated_at"}
            rows = _database_rows(store, tm.sa_table, doc_id)
            table = shown[tm.table.name]
            assert len(table.rows) == len(rows), tm.table.name
            for docs_row, row in zip(table.rows, rows, strict=True):
                for column, cell in zip(table.columns, docs_row, strict=True):
                    if column in made_by_database:
                        continue
                    is_json = tm.table.column(column).type.kind == "json"
                    shown_cell = json.dumps(json.loads(cell), sort_keys=True) if is_json and cell != "NULL" else cell
                    assert shown_cell == _shown(row[column], is_json), (tm.table.name, column)
    finally:
        store.delete(doc_id)


def test_presence_and_extra_columns_are_shown_as_written(store: Store) -> None:
    """The issue's example: `_present` and `_extra` were shown as NULL where the runtime writes JSON."""
    document = {"title": "t", "tags": ["x"], "note": None, "parts": [], "zz": 2, "n_1": 3}
    root = next(t for t in document_rows(store.mapping.model, document) if t.table == store.mapping.root.table.name)
    (row,) = root.rows
    cells = dict(zip(root.columns, row, strict=True))
    assert json.loads(cells["_present"]) == {"/tags": True, "/note": None}
    assert cells["_extra"] == '{"":{"zz":2}}'  # `n_1` matches the pattern: a row of the map table
    (entries,) = [t for t in document_rows(store.mapping.model, document) if t.table == "note_entries"]
    assert [dict(zip(entries.columns, r, strict=True))["key"] for r in entries.rows] == ["n_1"]


def test_check_shreds_the_examples_without_sqlalchemy(project: Path) -> None:
    """The docs' rows come from the runtime's shredder, which must not pull SQLAlchemy onto `check`'s path."""
    probe = (
        "import sys; from schemarel.cli.main import main\n"
        "try:\n    main(['check'])\nexcept SystemExit as exit:\n    assert exit.code == 0, exit.code\n"
        "print('sqlalchemy' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=project, capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "False", result.stdout + result.stderr


@pytest.mark.parametrize("document", [{"a": 1}, "text", {"b": [1, None]}, None, [1, {"c": "d"}]])
def test_a_document_stored_whole_as_json_round_trips_and_shows_its_row(tmp_path: Path, document: Any) -> None:
    """A root that can take several shapes is one JSON `document` column: the runtime stores it, the docs
    show its row (the docs' rows made `generate` fail on such schemas before the runtime could)."""
    (tmp_path / "schemas").mkdir()
    schema = {"title": "Thing", "oneOf": [{"type": "object"}, {"type": "string"}, {"type": "array"}, {"type": "null"}]}
    (tmp_path / "schemas" / "thing.schema.json").write_text(json.dumps(schema))
    store = open_store(f"sqlite:///{tmp_path / 'thing.db'}", "thing", schemas_dir=tmp_path / "schemas")
    assert store.mapping.root.table.json_root == "document"
    doc_id = store.create(document)
    assert store.get(doc_id) == document
    (rows,) = document_rows(store.mapping.model, document)
    assert rows.columns == ("id", "document")
    assert json.loads(rows.rows[0][1]) == document
