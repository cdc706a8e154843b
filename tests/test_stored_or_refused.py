"""A document is stored and read back as it was, or refused (DocumentInvalid, ValueRejected): never changed;
so is the document that replaces it and the merge patch after it (a refused write leaves what was).

Drawn object schemas combine what decides which keys an object may hold and where they go: a root `type`
that is absent or admits null or an array, `properties` typed and untyped, `patternProperties` typed and
untyped, `additionalProperties` and `unevaluatedProperties` (true, false, a schema, {}), `allOf` parts with
their own, `$dynamicRef`; drawn documents are any JSON value, objects with those keys most. Found this way (the
JSON-Schema-Test-Suite's cases): a null document was read back as {}, an array or a number given to a map root
as {}, an object given to an array root as []; a key kept by `additionalProperties: true` (beside, or in an
`allOf` part, or by an inner `unevaluatedProperties: true`) was dropped by an `unevaluatedProperties: false`;
an untyped pattern's array value was refused by the typed map column of `additionalProperties`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from runtime_helpers import drawn_store
from schemarel.errors import DocumentInvalid, SchemaError, ValueRejected
from schemarel.runtime.store import Store
from value_strategies import by_value, json_values

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# property names: plain, and those a mapping might confuse with its own (the key column, system columns, a
# parent's foreign key, JSON Pointer and SQL syntax, case and spacing variants, the empty name)
ODD = ["id", "ID", "_extra", "_present", "created_at", "probe_id", "key", "value", "", " ", "a.b", "a/b", "~1",
       "$ref", "__proto__", "select", "Ä", "a b"]  # fmt: skip
KEYS = ["a", "b", "c", "d", "f", "x1", "y1", "zz", *ODD]
PROPERTIES = {
    "a": {"type": "string"},
    "b": {"type": "integer"},
    "c": {},
    "d": {"type": "object", "properties": {"e": {"type": "string"}}, "unevaluatedProperties": False},
}
OPEN = st.sampled_from([None, True, False, {}, {"type": "string"}])  # additionalProperties / unevaluatedProperties


@st.composite
def object_schemas(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"$schema": DRAFT, "title": "Probe"}
    root = draw(st.sampled_from([None, "object", ["object", "null"]]))
    if root is not None:
        schema["type"] = root
    names = draw(st.lists(st.sampled_from(sorted(PROPERTIES)), unique=True))
    odd = draw(st.lists(st.sampled_from(ODD), unique=True, max_size=4))
    if names or odd:
        schema["properties"] = {n: PROPERTIES[n] for n in names} | {
            n: draw(st.sampled_from([{"type": "string"}, {"type": "integer"}, {}, PROPERTIES["d"]])) for n in odd
        }
    patterns = draw(st.sampled_from([None, {"^x": {"type": "integer"}}, {"^y": {"minItems": 1}}]))
    if patterns:
        schema["patternProperties"] = patterns
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        value = draw(OPEN)
        if value is not None:
            schema[keyword] = value
    part = draw(st.sampled_from([None, {"properties": {"f": {"type": "boolean"}}},
                                 {"properties": {"f": {"type": "boolean"}}, "additionalProperties": True},
                                 {"unevaluatedProperties": True}]))  # fmt: skip
    if part is not None:
        schema["allOf"] = [part]
    if draw(st.booleans()):  # the same object through a dynamic reference to a definition
        inner = {k: v for k, v in schema.items() if k not in ("$schema", "title")}
        outer = {"unevaluatedProperties": False} if draw(st.booleans()) else {}
        schema = {"$schema": DRAFT, "title": "Probe", "$defs": {"it": {**inner, "$dynamicAnchor": "it"}},
                  "$dynamicRef": "#it", **outer}  # fmt: skip
    return schema


ITEM = st.sampled_from([
    {}, {"type": "integer"}, {"type": ["string", "null"]}, {"type": "array", "items": {"type": "integer"}},
    {"type": "object", "properties": {"e": {"type": "string"}}},
    {"type": ["object", "null"], "properties": {"e": {"type": "string"}}, "additionalProperties": False},
    {"anyOf": [{"type": "string"}, {"type": "object", "properties": {"e": {"type": "integer"}}}]},
    {"oneOf": [{"type": "integer"}, {"type": "array", "items": {"type": "string"}}]},
    {"prefixItems": [{"type": "string"}, {"type": "integer"}]},
    {"enum": ["a", 1, None, True]}, {"const": {"k": [1]}},
    {"type": "object", "additionalProperties": {"type": "integer"}},
    {"type": "object", "patternProperties": {"^p": {"type": "string"}}, "properties": {"q": {"type": "boolean"}}},
    {"type": "array", "items": {"type": "array", "items": {"type": "object", "properties": {"e": {}}}}},
    {"type": "string", "format": "date-time"}, {"type": "number", "multipleOf": 0.5},
    {"type": ["integer", "string", "null"]}, {"type": "object", "properties": {"n": {"type": ["object", "null"],
                                                                                      "properties": {"o": {}}}}},
])  # fmt: skip


@st.composite
def value_schemas(draw: st.DrawFn) -> dict[str, Any]:
    """Arrays and unions in properties: items of every kind, tuples, `contains`, unions of objects and
    scalars, nullable objects and arrays."""
    g: dict[str, Any] = {"type": draw(st.sampled_from(["array", ["array", "null"]])), "items": draw(ITEM)}
    for keyword, value in (("uniqueItems", True), ("contains", {"type": "integer"}), ("minItems", 1)):
        if draw(st.booleans()):
            g[keyword] = value
    properties = {"g": g, "h": draw(ITEM), "k": {"type": "object", "properties": {"m": draw(ITEM)}}}
    return {"$schema": DRAFT, "title": "Probe", "type": "object", "properties": properties}


VALUES = json_values(nul=False, max_leaves=6)
VALUE_DOCUMENTS = st.fixed_dictionaries({}, optional={
    "g": st.one_of(st.lists(VALUES, max_size=4), VALUES),
    "h": VALUES,
    "k": st.one_of(st.fixed_dictionaries({}, optional={"m": VALUES}), VALUES),
})  # fmt: skip


@SETTINGS
@given(schema=value_schemas(), first=VALUE_DOCUMENTS, second=VALUE_DOCUMENTS)
def test_arrays_and_unions_are_stored_as_they_are_or_refused(
    tmp_path: Path, three_db_url: str, schema: dict[str, Any], first: Any, second: Any
) -> None:
    with probe_store(tmp_path, three_db_url, schema) as store:
        if store is not None:
            stored_or_refused(store, first, second)


ARRAY_SCHEMAS = st.sampled_from([
    {"$schema": DRAFT, "title": "Probe", "items": {"type": "integer"}},
    {"$schema": DRAFT, "title": "Probe", "type": ["array", "null"], "items": {"type": "string"}},
])  # fmt: skip
OBJECTS = st.dictionaries(st.sampled_from(KEYS), json_values(nul=False, max_leaves=4), max_size=5)
DOCUMENTS = st.one_of(OBJECTS, OBJECTS, json_values(nul=False, max_leaves=4), st.lists(st.integers(-5, 5), max_size=3))


@SETTINGS
@given(schema=st.one_of(object_schemas(), object_schemas(), ARRAY_SCHEMAS), first=DOCUMENTS, second=DOCUMENTS)
def test_a_document_is_stored_as_it_is_or_refused(
    tmp_path: Path, three_db_url: str, schema: dict[str, Any], first: Any, second: Any
) -> None:
    with probe_store(tmp_path, three_db_url, schema) as store:
        if store is not None:
            stored_or_refused(store, first, second)


@contextmanager
def probe_store(tmp_path: Path, url: str, schema: dict[str, Any]) -> Iterator[Store | None]:
    """The drawn schema's Store, or None where generate refuses the schema (a property named as a column
    schemarel adds, `_extra`), with a message that names the place."""
    stack = ExitStack()
    try:
        store = stack.enter_context(drawn_store(tmp_path, url, "probe", schema))
    except SchemaError as refused:
        event("schema refused")
        assert refused.pointer.startswith("#"), str(refused)
        yield None
        return
    with stack:
        yield store


def stored_or_refused(store: Store, first: Any, second: Any) -> None:
    """`first` created, then replaced by `second`, then merge-patched: each read back as it is, or refused
    leaving what was."""
    try:
        doc_id = store.create(first)
    except (DocumentInvalid, ValueRejected) as refused:
        event(f"create: {type(refused).__name__}")
        return
    event("create: stored")
    assert by_value(store.get(doc_id)) == by_value(first)
    if not written(store, doc_id, "replace", lambda: store.replace(doc_id, second), first, second):
        return
    if isinstance(second, dict):
        merge_patch = {k: None for k in list(second)[:1]} | (first if isinstance(first, dict) else {})
        written(store, doc_id, "patch", lambda: store.patch(doc_id, merge_patch), second, merged(second, merge_patch))


def written(store: Store, doc_id: Any, what: str, write: Any, before: Any, after: Any) -> bool:
    """`write` either stored `after` or was refused leaving `before`; whether it stored."""
    try:
        write()
    except (DocumentInvalid, ValueRejected) as refused:
        event(f"{what}: {type(refused).__name__}")
        assert by_value(store.get(doc_id)) == by_value(before)
        return False
    event(f"{what}: stored")
    assert by_value(store.get(doc_id)) == by_value(after)
    return True


def merged(target: Any, merge_patch: Any) -> Any:
    """RFC 7396: the result of a JSON Merge Patch."""
    if not isinstance(merge_patch, dict):
        return merge_patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in merge_patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merged(result.get(key), value)
    return result


@SETTINGS
@given(schema=st.one_of(object_schemas(), value_schemas()), documents=st.lists(st.one_of(DOCUMENTS, VALUE_DOCUMENTS),
                                                                                min_size=1, max_size=6))  # fmt: skip
def test_a_bulk_write_stores_every_document_as_it_is_or_none(
    tmp_path: Path, three_db_url: str, schema: dict[str, Any], documents: list[Any]
) -> None:
    """`create_many` (COPY on PostgreSQL, its text made by `copytext`), then `items()`: the same documents, or
    a refusal and nothing written."""
    with probe_store(tmp_path, three_db_url, schema) as store:
        if store is None:
            return
        try:
            ids = store.create_many(documents, batch_size=len(documents))
        except (DocumentInvalid, ValueRejected) as refused:
            event(f"create_many: {type(refused).__name__}")
            assert store.count() == 0
            return
        event("create_many: stored")
        found = dict(store.items())
        assert [by_value(found[i]) for i in ids] == [by_value(d) for d in documents]
