"""The compiled row builder (runtime/rowplan.py) gives exactly the rows of the generic mapping, for any document.

The generic mapping (`DocumentMap.add_generic`) is the reference: documents generated from each schema (its own
strategy, or hypothesis-jsonschema's) go through both, and the rows, parent links, keys — or the refusal —
must be identical. No database: only rows are built.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED, require_shared
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from schemarel.errors import ValueRejected
from schemarel.runtime.documents import DocumentMap
from schemarel.runtime.rowplan import compile_plan
from schemarel.runtime.source import from_schemas
from value_strategies import SCHEMA as READING
from value_strategies import documents as readings

# every way a node is kept: flattened objects (required or not), nullable scalars and objects (presence marks),
# open objects (extras), arrays of scalars, of objects holding arrays, of arrays, spelled values, defaults
KITCHEN: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Kitchen",
    "type": "object",
    "required": ["id", "name", "flat"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string", "maxLength": 20},
        "note": {"type": ["string", "null"]},
        "size": {"type": "integer", "default": 3, "minimum": 0, "maximum": 1000},
        "price": {"type": "number", "multipleOf": 0.01, "maximum": 1e6, "minimum": -1e6},
        "at": {"type": "string", "format": "date-time"},
        "flat": {
            "type": "object",
            "required": ["a"],
            "properties": {"a": {"type": "boolean"}, "b": {"type": ["number", "null"]},
                           "deep": {"type": "object", "properties": {"c": {"type": "string"}}}},
        },
        "maybe": {"type": ["object", "null"], "additionalProperties": False,
                  "properties": {"x": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}}},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 4},
        "grid": {"type": "array", "maxItems": 3,
                 "items": {"type": "array", "maxItems": 3, "items": {"type": "integer"}}},
        "lines": {
            "type": "array",
            "maxItems": 3,
            "items": {
                "type": "object",
                "required": ["sku"],
                "properties": {
                    "sku": {"type": "string"},
                    "qty": {"type": ["integer", "null"]},
                    "day": {"type": "string", "format": "date"},
                    "parts": {"type": "array", "maxItems": 3,
                              "items": {"type": "object", "properties": {"n": {"type": "number"}}}},
                },
            },
        },
        "free": {"type": "object", "additionalProperties": {"type": "integer"}},
        "any": {},
    },
}  # fmt: skip

CORPUS_SCHEMAS = ["cloudevents", "stripe-address", "problem-details", "json-feed"]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def mapping_of(root: Path, name: str, schema: Any) -> DocumentMap:
    (root / "schemas").mkdir(parents=True, exist_ok=True)
    (root / "schemas" / f"{name}.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    return DocumentMap(from_schemas(root / "schemas").database.schema(name), None)


def assert_same(mapping: DocumentMap, document: Any) -> None:
    plan = compile_plan(mapping)
    assert plan is not None
    key = uuid.UUID(int=7)
    generic, compiled = mapping.new_batch(), mapping.new_batch()
    results = []
    for batch, add in ((generic, mapping.add_generic), (compiled, plan.add)):
        try:
            # twice: the second document's parent indexes follow the first one's rows
            results.append([add(batch, document, key), add(batch, document, key)])
        except ValueRejected as exc:
            results.append([str(exc)])
    assert results[0] == results[1]
    assert generic.rows == compiled.rows
    assert generic.parents == compiled.parents
    assert generic.documents == compiled.documents


@pytest.fixture(scope="module")
def kitchen(tmp_path_factory: pytest.TempPathFactory) -> DocumentMap:
    return mapping_of(tmp_path_factory.mktemp("kitchen"), "kitchen", KITCHEN)


@pytest.fixture(scope="module")
def reading(tmp_path_factory: pytest.TempPathFactory) -> DocumentMap:
    return mapping_of(tmp_path_factory.mktemp("reading"), "reading", READING)


@SETTINGS
@given(document=from_schema(KITCHEN))
def test_kitchen_documents(kitchen: DocumentMap, document: Any) -> None:
    mapping = kitchen
    assert_same(mapping, mapping.with_defaults(document))


@SETTINGS
@given(document=readings(1))
def test_values_at_their_edges(reading: DocumentMap, document: Any) -> None:
    """Exact numbers, instants and times of any spelling, text of any length, JSON values: spelled the same."""
    assert_same(reading, document)


@SETTINGS
@given(document=from_schema(READING))
def test_values_the_schema_allows(reading: DocumentMap, document: Any) -> None:
    assert_same(reading, document)


@pytest.mark.parametrize("name", CORPUS_SCHEMAS)
def test_real_schemas(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    # ../shared's corpus: a skip saying so in a clone without it, a failure when CI is set (CI has it)
    schema = json.loads(require_shared(SHARED / "corpus" / f"{name}.schema.json").read_text(encoding="utf-8"))
    mapping = mapping_of(tmp_path_factory.mktemp(name), name, schema)

    @SETTINGS
    @given(document=from_schema(schema))
    def check(document: Any) -> None:
        assert_same(mapping, mapping.with_defaults(document))

    check()


def test_nodes_that_are_not_objects(kitchen: DocumentMap) -> None:
    """What no valid document holds still goes as the generic code says (a null item, a scalar for an object)."""
    odd = [{"id": "x", "name": "n", "flat": {"a": True}, "lines": [None, 3, {"sku": "s"}]},
           {"id": "x", "name": "n", "flat": 5}, {"id": "x", "name": "n", "flat": {"a": True}, "maybe": []}]  # fmt: skip
    for document in odd:
        assert_same(kitchen, document)


def test_table_kinds_it_does_not_know_go_the_generic_way(kitchen: DocumentMap) -> None:
    """A table of a kind (or with an IR attribute) the compiler was not written for is left to the generic
    code, with the tables under it; the rows stay the same."""
    kinds = {tm.table.name: tm.table.kind for tm in kitchen.tables}
    lines = next(tm for tm in kitchen.tables if tm.table.parent_path == ("lines",))
    assert lines.children  # `parts`, mapped under it
    plan = compile_plan(kitchen)
    maps = tuple(name for name, kind in kinds.items() if kind == "map")  # `free`: map tables are not compiled yet
    assert plan is not None and plan.generic == maps and maps
    # a kind the IR cannot hold, on purpose: the plan must leave a table it does not know to the generic path
    lines.table = dataclasses.replace(lines.table, kind="unheard-of")  # type: ignore[arg-type]
    try:
        plan = compile_plan(kitchen)
        assert plan is not None and set(plan.generic) == {lines.table.name, *maps}
        document = {"id": "x", "name": "n", "flat": {"a": True}, "lines": [{"sku": "s", "parts": [{"n": 1}]}]}
        assert_same(kitchen, document)
    finally:
        lines.table = dataclasses.replace(lines.table, kind=kinds[lines.table.name])


def test_recursive_documents_go_the_generic_way(tmp_path: Path) -> None:
    tree = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Node", "type": "object",
            "properties": {"name": {"type": "string"}, "kids": {"type": "array", "items": {"$ref": "#"}}}}  # fmt: skip
    mapping = mapping_of(tmp_path, "node", tree)
    assert mapping.root.links and compile_plan(mapping) is None
    batch = mapping.new_batch()
    mapping.add(batch, {"name": "a", "kids": [{"name": "b"}]})
    assert len(batch.rows[0]) == 2


@given(st.data())
@SETTINGS
def test_store_mapping_uses_the_plan(kitchen: DocumentMap, data: st.DataObject) -> None:
    """`add` of a mapping that writes (metadata given) is the compiled one, and agrees with the generic one."""
    document = kitchen.with_defaults(data.draw(from_schema(KITCHEN)))
    writing = DocumentMap(kitchen.model, None)
    writing._compiled = False  # as a Store's mapping: compiled at its first document
    key = uuid.UUID(int=9)
    a, b = writing.new_batch(), writing.new_batch()
    try:
        writing.add(a, document, key)
    except ValueRejected:
        return
    assert writing._plan is not None
    writing.add_generic(b, document, key)
    assert a.rows == b.rows
