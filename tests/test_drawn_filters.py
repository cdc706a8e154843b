"""Filters and orderings on drawn schemas (scalars, enums, unions of scalars, a scalar that may be an object,
nested objects, arrays of scalars and of objects) and documents: `find`, `count`, `pages`, `page` and the
AsyncStore select what a pure-Python evaluation of the README's semantics selects, on SQLite, PostgreSQL and
MariaDB, and refuse what it refuses; `export --where` exports what `find` selects."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import run_schemarel
from filter_semantics import PATTERNS, SETTINGS, Step, async_found, kind, matches, operations, order_key, walk
from hypothesis import example, given, settings
from hypothesis import strategies as st
from projects import write_project
from runtime_helpers import open_store
from schemarel.runtime.query import QueryError
from schemarel.runtime.store import Store

SCALARS = ["string", "integer", "number", "boolean"]
# case, accents and trailing spaces (MariaDB's collations ignore them, SQLite's LIKE ignores case); `%`, `_` and
# `/` are LIKE's wildcards and the escape character
STRINGS = st.sampled_from(["", "1", "10", "a", "A", "ab", "aB", "a ", "b", "B", "ba", "é", "e", "a%", "a_b", "/", "/%"])
ENUM = ["b", "a", "ab"]  # not in sorted order: a native enum orders by its labels' places
VALUES = {
    "string": STRINGS,
    "integer": st.integers(-3, 11),
    "number": st.sampled_from([-1.5, 0.5, 1.5, 10.25]),
    "boolean": st.booleans(),
    "enum": st.sampled_from(ENUM),
}


@dataclass
class Spec:
    """A drawn property: `scalar` (`types`, an enum when `enum`), `object` (`props`), `either` (a scalar of
    `types[0]` or the object `props`), `array` (of `items`)."""

    shape: str
    types: list[str] = field(default_factory=list)
    nullable: bool = False
    enum: bool = False
    props: dict[str, Spec] = field(default_factory=dict)
    items: Spec | None = None

    def schema(self) -> dict[str, Any]:
        if self.shape == "scalar":
            if self.enum:
                return {"enum": [*ENUM, *([None] if self.nullable else [])]}
            types = [*self.types, *(["null"] if self.nullable else [])]
            return {"type": types[0] if len(types) == 1 else types}
        if self.shape == "object":
            return {"type": "object", "properties": {k: v.schema() for k, v in self.props.items()}}
        if self.shape == "either":
            obj = Spec("object", props=self.props).schema()
            return {"anyOf": [{"type": self.types[0]}, obj, *([{"type": "null"}] if self.nullable else [])]}
        assert self.items is not None
        return {"type": "array", "items": self.items.schema()}


@st.composite
def specs(draw: st.DrawFn, depth: int, names: Iterator[str]) -> Spec:
    shapes = ["scalar", "scalar", "enum", "union"] + (["object", "either", "array", "array"] if depth < 2 else [])
    shape = draw(st.sampled_from(shapes))
    nullable = draw(st.booleans())
    if shape in ("scalar", "enum"):
        return Spec("scalar", [draw(st.sampled_from(SCALARS))] if shape == "scalar" else ["string"], nullable,
                    enum=shape == "enum")  # fmt: skip
    if shape == "union":
        types = draw(st.lists(st.sampled_from(SCALARS), min_size=2, max_size=3, unique=True))
        return Spec("scalar", types, nullable)
    if shape == "object":
        return Spec("object", props=draw(objects(depth + 1, names)))
    if shape == "either":
        return Spec("either", [draw(st.sampled_from(SCALARS))], nullable, props=draw(objects(depth + 1, names)))
    item = draw(st.one_of(specs(depth + 1, names).filter(lambda s: s.shape == "scalar" and not s.nullable),
                          st.builds(lambda p: Spec("object", props=p), objects(depth + 1, names))))  # fmt: skip
    return Spec("array", items=item)


@st.composite
def objects(draw: st.DrawFn, depth: int, names: Iterator[str]) -> dict[str, Spec]:
    # names unique in the whole schema (and without `_`): no two columns of a flattened object meet
    return {next(names): draw(specs(depth, names)) for _ in range(draw(st.integers(1, 3)))}


@dataclass
class PathInfo:
    steps: list[Step]
    types: set[str]  # the JSON types of the values at the path (`object` for a scalar that may be one)
    root: bool  # a property of the root object, which `order_by` takes


def paths_of(props: dict[str, Spec], prefix: list[Step] | None = None) -> dict[str, PathInfo]:
    """Every path a filter may name, as the README lists them: scalars, in objects and in arrays."""
    out: dict[str, PathInfo] = {}
    for name, spec in props.items():
        here = [*(prefix or []), (name, spec.shape == "array")]
        dotted = ".".join(n for n, _ in here)
        if spec.shape == "scalar":
            out[dotted] = PathInfo(here, set(spec.types), prefix is None)
        elif spec.shape == "either":
            out[dotted] = PathInfo(here, {spec.types[0], "object"}, prefix is None)
        if spec.shape in ("object", "either"):
            out.update(paths_of(spec.props, here))
        if spec.shape == "array":
            assert spec.items is not None
            if spec.items.shape == "scalar":
                out[dotted] = PathInfo(here, set(spec.items.types), False)
            else:
                out.update(paths_of(spec.items.props, here))
    return out


@st.composite
def values_of(draw: st.DrawFn, spec: Spec) -> Any:
    if spec.nullable and draw(st.integers(0, 4)) == 0:
        return None
    if spec.shape == "scalar":
        return draw(VALUES["enum"] if spec.enum else VALUES[draw(st.sampled_from(spec.types))])
    if spec.shape == "either" and draw(st.booleans()):
        return draw(VALUES[spec.types[0]])
    if spec.shape in ("object", "either"):
        return draw(nodes(spec.props))
    assert spec.items is not None
    return draw(st.lists(values_of(spec.items), max_size=3))


@st.composite
def nodes(draw: st.DrawFn, props: dict[str, Spec]) -> dict[str, Any]:
    return {k: draw(values_of(v)) for k, v in props.items() if draw(st.integers(0, 3))}


def fits(types: set[str], value: Any) -> bool:
    """Whether a filter's value is one of the path's (a number with a fraction is no integer)."""
    if isinstance(value, bool):
        return "boolean" in types
    if isinstance(value, int):
        return bool(types & {"integer", "number"})
    return kind(value) in types


def refused(info: PathInfo, spec: Any) -> bool:
    """Whether the README says QueryError: a value the path does not hold, `lt: null`, a pattern on a path
    holding no strings (or a non-string pattern)."""
    for op, operand in spec.items() if isinstance(spec, dict) else [("eq", spec)]:
        if op in PATTERNS and ("string" not in info.types or not isinstance(operand, str)):
            return True
        if op == "in" and any(v is not None and not fits(info.types, v) for v in operand):
            return True
        if op not in PATTERNS and op != "in" and (op not in ("eq", "ne") if operand is None else
                                                   not fits(info.types, operand)):  # fmt: skip
            return True
    return False


@st.composite
def filters(draw: st.DrawFn, paths: dict[str, PathInfo]) -> dict[str, Any]:
    where: dict[str, Any] = {}
    for path in draw(st.lists(st.sampled_from(sorted(paths)), min_size=1, max_size=3, unique=True)):
        info = paths[path]
        mostly = [t for t in info.types if t != "object"]
        if draw(st.integers(0, 5)) == 0:  # sometimes a value of any type: refused where the path holds none
            mostly = SCALARS
        values = st.one_of(*(VALUES[t] for t in mostly))
        where[path] = draw(operations(values, STRINGS, odd=True))
    return where


RANKS = ["string", "number", "boolean"]  # a union's columns, in the order it orders by


def test_drawn_filters_select_what_python_selects(three_db_url: str, tmp_path: Path) -> None:
    """Every drawn filter finds, counts and pages what Python finds (the AsyncStore too, on PostgreSQL), or is
    refused with QueryError naming the path where Python says so; every root property orders documents as
    Python orders them, by `find` and by keyset pages."""
    url = three_db_url
    counter = itertools.count()

    @SETTINGS
    @given(st.data())
    def check(data: st.DataObject) -> None:
        number = next(counter)
        names = (f"p{i}" for i in itertools.count())
        props = data.draw(objects(0, names))
        schema = {"title": "Doc", **Spec("object", props=props).schema()}
        store = open_store(url, "doc", write_project(tmp_path / f"p{number}", {"doc": schema}) / "schemas")
        try:
            compare(data, store, props, url)
        finally:
            with store.engine.begin() as conn:
                store.metadata.drop_all(conn)
            store.close()

    check()


def compare(data: st.DataObject, store: Store, props: dict[str, Spec], url: str) -> None:
    # a path the tables keep in a JSON column (how the schema maps is generate's matter) is refused
    targets = store.paths.targets
    paths = {p: info for p, info in paths_of(props).items() if p in targets and not targets[p].field.json}
    for path in sorted(paths_of(props).keys() - paths.keys())[:2]:
        with pytest.raises(QueryError, match=f"'{path}'"):
            store.count({path: None})
    if not paths:
        return
    documents = data.draw(st.lists(nodes(props), min_size=1, max_size=7))
    ids = store.create_many(documents)
    pairs = list(zip(ids, documents, strict=True))
    is_pg = store.engine.dialect.name == "postgresql"
    where: dict[str, Any] = {}  # the last filter Python answers: pages in order are filtered by it
    for _ in range(5):
        drawn = data.draw(filters(paths))
        if any(refused(paths[p], spec) for p, spec in drawn.items()):
            with pytest.raises(QueryError) as caught:
                store.count(drawn)
            assert any(str(caught.value).startswith(f"{p}: ") for p in drawn), (drawn, caught.value)
            continue
        where = drawn
        expected = sorted(str(k) for k, d in pairs if matches(d, where, lambda p: paths[p].steps))
        shown = (where, json.dumps(documents))
        assert sorted(str(k) for k, _ in store.find(where)) == expected, shown
        assert store.count(where) == len(expected), shown
        assert sorted(str(k) for p in store.pages(where, batch_size=2) for k, _ in p) == expected, shown
        with store.snapshot() as conn:  # SQLAlchemy's statements, not those sent through psycopg
            assert sorted(str(k) for k, _ in store.find(where, conn=conn)) == expected, shown
            assert store.count(where, conn=conn) == len(expected), shown
        if is_pg:
            assert asyncio.run(async_found(url, store, where)) == (expected, len(expected)), shown
    orderable = sorted(p for p, info in paths.items() if info.root)
    if orderable:
        name, desc = data.draw(st.sampled_from(orderable)), data.draw(st.booleans())
        chosen = [(k, d) for k, d in pairs if matches(d, where, lambda p: paths[p].steps)]
        expected_order = [k for k, _ in sorted(chosen, key=order_key(name, desc, RANKS))]
        order_by, ordered = f"-{name}" if desc else name, (name, where, json.dumps(documents))
        assert [k for k, _ in store.find(where, order_by=order_by, batch_size=2)] == expected_order, ordered
        assert walk(store, order_by, where=where) == expected_order, ordered


# a scalar that may be an object, an enum, a union, numbers and strings in an array of objects
ROW = Spec("object", props={"m": Spec("scalar", ["number"]), "s": Spec("scalar", ["string"])})
EXPORTED = {
    "x": Spec("either", ["string"], nullable=True, props={"a": Spec("scalar", ["integer"])}),
    "e": Spec("scalar", ["string"], enum=True),
    "n": Spec("scalar", ["integer", "boolean"]),
    "rows": Spec("array", items=ROW),
}  # fmt: skip


def test_export_where_exports_what_python_selects(tmp_path: Path, three_db_url: str) -> None:
    """`schemarel export --where` on drawn filters: the documents Python selects (`{"x": null}` exported the
    documents whose `x` is an object too), or exit 2 naming the path where Python says QueryError."""
    schema = {"title": "Doc", **Spec("object", props=EXPORTED).schema()}
    root = write_project(tmp_path / "project", {"doc": schema})
    assert run_schemarel(root, "generate").returncode == 0
    assert run_schemarel(root, "upgrade", "--db", three_db_url).returncode == 0
    paths = paths_of(EXPORTED)
    documents: list[dict[str, Any]] = [{"x": None}, {"x": {"a": 1}}, {"x": {}}, {"x": "a", "e": "b", "n": True},
                 {"e": "ab", "n": 3, "rows": [{"m": 0.5, "s": "a"}, {"m": 1.5}]}, {"n": 10, "rows": [{"s": "b"}]},
                 {"x": {"a": 3}, "e": "a", "n": False}]  # fmt: skip
    (root / "docs.ndjson").write_text("".join(json.dumps(d) + "\n" for d in documents), encoding="utf-8")
    assert run_schemarel(root, "load", "docs.ndjson", "--schema", "doc", "--db", three_db_url).returncode == 0
    args = ("export", "--schema", "doc", "--db", three_db_url, "--where")

    def steps(path: str) -> list[Step]:
        return paths[path].steps

    @settings(SETTINGS, max_examples=10)
    @given(filters(paths))
    @example({"x": None}).via("an object is not null")
    @example({"x": {"ne": "a"}}).via("an object differs")
    @example({"n": {"startswith": "1"}}).via("no strings")
    @example({"e": {"lt": "b"}, "rows.s": {"in": ["a", "b", 3]}}).via("an enum orders as text; 3 is no string")
    def check(where: dict[str, Any]) -> None:
        result = run_schemarel(root, *args, json.dumps(where))
        if any(refused(paths[p], spec) for p, spec in where.items()):
            assert result.returncode == 2 and result.stdout == "", (where, result.stderr)
            assert any(result.stderr.startswith(f"error: {p}: ") for p in where), (where, result.stderr)
            return
        assert result.returncode == 0, (where, result.stderr)
        expected = sorted(json.dumps(d, sort_keys=True) for d in documents if matches(d, where, steps))
        got = sorted(json.dumps(json.loads(line), sort_keys=True) for line in result.stdout.splitlines())
        assert got == expected, where

    check()
