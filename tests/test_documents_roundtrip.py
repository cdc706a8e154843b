"""Typed documents against what the Store does: for schemas hypothesis draws (property names that are keywords,
builtins, dunder-like, NFKC-changed or no identifier at all; every scalar type and format, enums, nullables,
arrays of arrays, maps, nested objects), the generated TypedDict's keys are the schema's property names, a
document made of every property round-trips on SQLite, and every value `get` gives back is of the type the
module declares for it (a `number` comes back a Decimal or an int, never only what `float` says)."""

from __future__ import annotations

import datetime as dt
import inspect
import os
import subprocess
import sys
import tempfile
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runtime_helpers import REPO, open_store
from test_documents_literals import generated_documents

# names that a class body or a method signature would read otherwise than as the key it is
TRICKY_NAMES = [
    "class", "None", "match", "type", "str", "int", "float", "list", "dict", "Any", "Literal", "NotRequired",
    "Decimal", "uuid", "self", "conn", "__x", "__x__", "_", "__", "1st", "a-b", "a_b", "a b", "A_B", "ﬁeld",
    "ℌx", "x²", "é", "l", "I", "O", "e\u0301", "Thing", "ThingWhere", "StrFilter",
]  # fmt: skip
NAMES = st.one_of(st.sampled_from(TRICKY_NAMES), st.from_regex(r"\A[a-zA-Z_][a-zA-Z0-9_-]{0,6}\Z"))
TEXT = st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=5)
NUMBER = st.decimals(min_value=-(10**6), max_value=10**6, places=3, allow_nan=False, allow_infinity=False)


@dataclass
class Shape:
    """A property's schema node and the values a document may give it."""

    node: dict[str, Any]
    values: st.SearchStrategy[Any]


SCALARS = [
    Shape({"type": "string"}, TEXT),
    Shape({"type": "integer"}, st.integers(-(2**53), 2**53)),
    Shape({"type": "number"}, NUMBER),
    Shape({"type": "boolean"}, st.booleans()),
    Shape({"type": "string", "format": "date"}, st.dates().map(dt.date.isoformat)),
    Shape({"type": "string", "format": "date-time"}, st.datetimes().map(lambda d: d.isoformat() + "Z")),
    Shape({"type": "string", "format": "uuid"}, st.uuids().map(str)),
    Shape({"enum": ["a", "b c", "class"]}, st.sampled_from(["a", "b c", "class"])),
    Shape({"enum": [1, 2, 30]}, st.sampled_from([1, 2, 30])),
    Shape({"enum": ["x", 1, True]}, st.sampled_from(["x", 1, True])),
    Shape({"const": "fixed"}, st.just("fixed")),
    Shape({"type": ["string", "null"]}, st.one_of(st.none(), TEXT)),
    Shape({"type": ["number", "null"]}, st.one_of(st.none(), NUMBER)),
    Shape({"type": ["string", "integer"]}, st.one_of(TEXT, st.integers(-5, 5))),
    Shape({"anyOf": [{"type": "number"}, {"type": "boolean"}]}, st.one_of(NUMBER, st.booleans())),
    Shape({"enum": ["a", None]}, st.sampled_from(["a", None])),
    Shape(
        {"type": "object", "patternProperties": {"^x": {"type": "integer"}}},
        st.dictionaries(st.from_regex(r"\Ax[a-z]{0,2}\Z"), st.integers(0, 9), max_size=2),
    ),
    Shape(
        {"$ref": "#/$defs/node"},
        st.recursive(
            st.fixed_dictionaries({"v": st.integers(0, 3)}),
            lambda kids: st.fixed_dictionaries({"v": st.integers(0, 3)}, optional={"next": kids}),
            max_leaves=3,
        ),
    ),
]
DEFS = {
    "node": {
        "type": "object",
        "required": ["v"],
        "properties": {"v": {"type": "integer"}, "next": {"$ref": "#/$defs/node"}},
    }
}


def _shapes(depth: int) -> st.SearchStrategy[Shape]:
    scalar = st.sampled_from(SCALARS)
    if depth == 0:
        return scalar
    inner = _shapes(depth - 1)
    return st.one_of(
        scalar,
        inner.map(lambda s: Shape({"type": "array", "items": s.node}, st.lists(s.values, max_size=3))),
        scalar.map(lambda s: Shape({"type": "object", "additionalProperties": s.node},
                                   st.dictionaries(st.from_regex(r"\A[a-z]{1,3}\Z"), s.values, max_size=3))),
        st.lists(st.tuples(NAMES, inner, st.booleans()), min_size=1, max_size=3, unique_by=lambda p: p[0]).map(
            _object
        ),
    )  # fmt: skip


def _object(properties: list[tuple[str, Shape, bool]]) -> Shape:
    """An object of the properties (name, shape, required); an optional one is left out or given a value that is
    not null (an optional property that is null reads back absent: README, What `get` returns)."""
    node = {"type": "object", "properties": {k: s.node for k, s, _ in properties},
            "required": [k for k, _, required in properties if required]}  # fmt: skip
    values = st.fixed_dictionaries(
        {k: s.values for k, s, required in properties if required},
        optional={k: s.values.filter(lambda v: v is not None) for k, s, required in properties if not required},
    )
    return Shape(node, values)


def conforms(value: Any, hint: Any) -> bool:
    """Whether `value` is of the type `hint` (as typing evaluates the generated annotations)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if hint is None or hint is type(None):
        return value is None
    if origin is typing.Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if origin is typing.Union or (origin is not None and type(hint).__name__ == "UnionType"):
        return any(conforms(value, a) for a in args)
    if origin is list:
        return isinstance(value, list) and all(conforms(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(isinstance(k, str) and conforms(v, args[1]) for k, v in value.items())
    if typing.is_typeddict(hint):
        hints = typing.get_type_hints(hint)
        return isinstance(value, dict) and all(k in hints and conforms(v, hints[k]) for k, v in value.items())
    if hint is float:  # typing's numeric tower: an int is a float
        return type(value) in (int, float)
    if hint is int:
        return type(value) is int
    return isinstance(value, hint)


@st.composite
def schemas_and_documents(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    properties = draw(
        st.lists(st.tuples(NAMES, _shapes(2), st.booleans()), min_size=1, max_size=8, unique_by=lambda p: p[0])
    )
    shape = _object(properties)
    return {"title": "Thing", **shape.node, "$defs": DEFS}, draw(shape.values)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(drawn=schemas_and_documents())
def test_documents_round_trip_as_their_declared_types(
    tmp_path_factory: pytest.TempPathFactory, drawn: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    schema, document = drawn
    root = tmp_path_factory.mktemp("rt")
    module = generated_documents(root, schema)
    hints = typing.get_type_hints(module.Thing)
    ruff = [sys.executable, "-m", "ruff", "check", "--no-force-exclude", "--config", str(REPO / "pyproject.toml")]
    checked = subprocess.run([*ruff, str(root / "documents.py")], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout
    assert list(hints) == list(schema["properties"])  # the keys as the schema spells them, none mangled
    store = open_store(f"sqlite:///{root / 'db.sqlite'}", "thing", root / "schemas")
    try:
        doc_id = store.create(document)
        back = store.get(doc_id)
        assert back == document
        assert conforms(back, module.Thing), (back, hints)
        ((found_id, found),) = store.find()
        assert found_id == doc_id and conforms(found, module.Thing)
    finally:
        store.close()
    where = typing.get_type_hints(module.ThingWhere)  # paths of find: each starts with a property's name
    assert {path.split(".")[0] for path in where} <= set(schema["properties"])
    if hasattr(module.ThingStore, "get_by"):  # its keywords are properties (not mangled, not its own `conn`)
        params = list(inspect.signature(module.ThingStore.get_by).parameters)[2:]
        assert set(params) <= set(schema["properties"])


# what a flattened object may hold that lives in a table of its own (nothing of it in the object's columns)
TABLED = [
    {"type": "array", "items": {"type": "string"}},
    {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "integer"}}}},
    {"type": "object", "additionalProperties": {"type": "integer"}},
]


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(depth=st.integers(1, 3), inner=st.sampled_from(TABLED), in_item=st.booleans(), filled=st.booleans())
def test_a_required_object_holding_only_tables_reads_back_when_empty(
    tmp_path_factory: pytest.TempPathFactory, depth: int, inner: dict[str, Any], in_item: bool, filled: bool
) -> None:
    """`{"a": {}}` where `a` is required and holds only an optional array or map came back `{}` (`a` lost: the
    document no longer valid), at the root and in array items, as deep as the required objects go."""
    node: dict[str, Any] = {"type": "object", "properties": {"k": inner}}
    value: dict[str, Any] = {"k": {"x": 1} if inner["type"] == "object" else []} if filled else {}
    for _ in range(depth):
        node = {"type": "object", "properties": {"a": node}, "required": ["a"]}
        value = {"a": value}
    if in_item:
        node = {"type": "object", "properties": {"items": {"type": "array", "items": node}}, "required": ["items"]}
        value = {"items": [value, value]}
    root = tmp_path_factory.mktemp("req")
    module = generated_documents(root, {"title": "Thing", **node})
    store = open_store(f"sqlite:///{root / 'db.sqlite'}", "thing", root / "schemas")
    try:
        doc_id = store.create(value)
        assert store.get(doc_id) == value
        assert [doc for _, doc in store.find()] == [value] == [doc for _, doc in store.items()]
        assert conforms(store.get(doc_id), module.Thing)
    finally:
        store.close()


CONSUMER = """
from __future__ import annotations

from decimal import Decimal

from documents import Thing, ThingStore


def use(store: ThingStore) -> None:
    doc: Thing = {document!r}
    new_id = store.create(doc)
    back = store.get(new_id)
{reads}
    store.replace(new_id, back)
    print(store.patch(new_id, {{}}), [d for _, d in store.find()], store.page().items)
"""


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(drawn=schemas_and_documents())
def test_a_drawn_document_literal_type_checks(
    tmp_path_factory: pytest.TempPathFactory, drawn: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    """The document as a literal in application code, given to the typed store and read back key by key, passes
    mypy --strict with the module (a Decimal for a `number`, a key `__x` or `ﬁeld` were errors)."""
    schema, document = drawn
    root = tmp_path_factory.mktemp("lit")
    generated_documents(root, schema)
    reads = "\n".join(f"    print(back[{key!r}])" for key in document)  # a literal key: what mypy checks
    (root / "app.py").write_text(CONSUMER.format(document=document, reads=reads), encoding="utf-8")
    cache = Path(tempfile.gettempdir()) / f"schemarel-mypy-{os.getuid()}"
    command = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), "documents.py", "app.py"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=root, check=False)
    assert result.returncode == 0, result.stdout
