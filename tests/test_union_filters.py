"""Filters and ordering on unions of scalars (a column per JSON type): a value is compared in the column of its
type, on SQLite, PostgreSQL and MariaDB, sync and async, as a pure-Python evaluation of the filter says."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import run_schemarel
from filter_semantics import SETTINGS, Step, async_found, matches, operations, order_key, walk
from hypothesis import given
from hypothesis import strategies as st
from projects import write_project
from runtime_helpers import open_store
from schemarel.runtime.query import QueryError
from schemarel.runtime.store import Store

UNIONS = {"v": ["string", "integer", "boolean", "null"], "u": ["number", "string", "boolean"]}
FLAT: dict[str, Any] = {"title": "Doc", "type": "object", "properties": {k: {"type": t} for k, t in UNIONS.items()}}
NESTED = {**FLAT, "properties": {**FLAT["properties"], "items": {"type": "array", "items": FLAT}}}
PATHS = {"v": "v", "u": "u", "items.v": "v", "items.u": "u"}  # a path → the union it names
# strings every collation orders as Python does (no case, no trailing space: MariaDB's collations ignore both)
STRINGS = st.sampled_from(["", "1", "10", "a", "ab", "b", "ba"])
VALUES = {
    "v": st.one_of(STRINGS, st.integers(-3, 11), st.booleans(), st.none()),
    "u": st.one_of(STRINGS, st.sampled_from([-1.5, 0.5, 1.0, 1.5, 10.0]), st.integers(-2, 10), st.booleans()),
}


def steps(path: str) -> list[Step]:
    """A path spelled out: `items.v` is `v` in the items of the array `items`."""
    return [("items", True), (path.removeprefix("items."), False)] if path.startswith("items.") else [(path, False)]


@st.composite
def filters(draw: st.DrawFn, paths: list[str]) -> dict[str, Any]:
    where: dict[str, Any] = {}
    for path in draw(st.lists(st.sampled_from(paths), min_size=1, max_size=2, unique=True)):
        values = VALUES[PATHS[path]].filter(lambda v: v is not None)
        where[path] = draw(operations(values, STRINGS))
    return where


def document(draw: Callable[[st.SearchStrategy[Any]], Any], nested: bool) -> dict[str, Any]:
    def node() -> dict[str, Any]:
        return {k: draw(v) for k, v in VALUES.items() if draw(st.booleans())}

    doc = node()
    if nested and draw(st.booleans()):
        doc["items"] = [node() for _ in range(draw(st.integers(0, 3)))]
    return doc


@pytest.fixture(params=["flat", "nested"])
def union_store(request: pytest.FixtureRequest, three_db_url: str, tmp_path: Path) -> Iterator[Store]:
    """A store of documents with unions of scalars: in the root row only (read directly on PostgreSQL), or
    also in the items of an array (filters through EXISTS)."""
    schema = FLAT if request.param == "flat" else NESTED
    root = write_project(tmp_path / "p", {"doc": schema})
    store = open_store(three_db_url, "doc", root / "schemas")
    yield store
    store.close()


def test_filters_on_unions_compare_in_the_column_of_the_values_type(union_store: Store) -> None:
    """`{"v": 10}` read only `v_string` (the union's first column): it found `"10"` and missed `10`. Every
    operator, on a root union and inside an array, finds what Python finds: find, count, page, the AsyncStore."""
    store = union_store
    nested = "items" in store.paths.targets or any(p.startswith("items.") for p in store.paths.targets)
    paths = [p for p in PATHS if nested or "." not in p]
    url = store.engine.url.render_as_string(hide_password=False)
    is_pg = store.engine.dialect.name == "postgresql"

    @SETTINGS
    @given(st.data())
    def check(data: st.DataObject) -> None:
        documents = [document(data.draw, nested) for _ in range(data.draw(st.integers(1, 8)))]
        ids = store.create_many(documents)
        try:
            for _ in range(4):
                where = data.draw(filters(paths))
                expected = sorted(str(k) for k, d in zip(ids, documents, strict=True) if matches(d, where, steps))
                found = sorted(str(k) for k, _ in store.find(where))
                assert found == expected, (where, documents)
                assert store.count(where) == len(expected), where
                paged = [str(k) for p in store.pages(where, batch_size=3) for k, _ in p]
                assert sorted(paged) == expected, where
                if is_pg:
                    assert asyncio.run(async_found(url, store, where)) == (expected, len(expected)), where
            union, desc = data.draw(st.sampled_from(sorted(UNIONS))), data.draw(st.booleans())
            everything = sorted(
                zip(ids, documents, strict=True), key=order_key(union, desc, ["string", "number", "boolean"])
            )
            order_by = f"-{union}" if desc else union
            assert [k for k, _ in store.find(order_by=order_by, batch_size=2)] == [k for k, _ in everything]
            # keyset pages: the cursor holds a position in one of the union's columns
            assert walk(store, order_by) == [k for k, _ in everything], order_by
        finally:
            for key in ids:
                store.delete(key)

    check()


def test_what_no_column_of_a_union_holds_is_refused_naming_the_path(sqlite_url: str, tmp_path: Path) -> None:
    """A value of a type no column of the union holds, a pattern on a union without strings, an ordered
    comparison with null, `get_by`: QueryError naming the path, before any SQL runs."""
    schema: dict[str, Any] = {**FLAT, "properties": {**FLAT["properties"], "w": {"type": ["integer", "boolean"]}}}
    store = open_store(sqlite_url, "doc", write_project(tmp_path, {"doc": schema}) / "schemas")
    refused: list[tuple[dict[str, Any], str]] = [
        ({"w": "10"}, "w: '10' is not a value of this property (it holds boolean or integer)"),
        ({"w": {"in": [1, 1.5]}}, "w: 1.5 is not a value of this property"),
        ({"v": {"lt": 1.5}}, "v: 1.5 is not a value of this property (it holds boolean or integer or string)"),
        ({"u": {"eq": [1]}}, "u: [1] is not a value of this property"),
        ({"w": {"startswith": "1"}}, "w: `startswith` matches strings and this property holds boolean or integer"),
        ({"v": {"startswith": 1}}, "v: `startswith` takes a string, not 1"),
        ({"u": {"gte": None}}, "u: `gte` takes a value, not null"),
    ]
    for where, message in refused:
        with pytest.raises(QueryError) as caught:
            store.count(where)
        assert message in str(caught.value), where
    with pytest.raises(QueryError, match="'v' is not unique"):
        store.get_by(v=1)
    store.close()


def test_export_where_on_a_union_reads_the_column_of_the_values_type(tmp_path: Path, three_db_url: str) -> None:
    """`schemarel export --where '{"v": 10}'` exported the document holding "10" and not the one holding 10;
    a pattern on a union without strings exits 2 naming the path, nothing on stdout."""
    schema: dict[str, Any] = {**FLAT, "properties": {**FLAT["properties"], "w": {"type": ["integer", "boolean"]}}}
    root = write_project(tmp_path / "project", {"doc": schema})
    assert run_schemarel(root, "generate").returncode == 0
    assert run_schemarel(root, "upgrade", "--db", three_db_url).returncode == 0
    docs = [{"v": "10", "w": 1}, {"v": 10, "w": True}, {"v": True}, {"u": 10}, {"u": 10.0}, {"u": "10"}]
    (root / "docs.ndjson").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    assert run_schemarel(root, "load", "docs.ndjson", "--schema", "doc", "--db", three_db_url).returncode == 0
    args = ("export", "--schema", "doc", "--db", three_db_url, "--where")
    for where, expected in [({"v": 10}, [1]), ({"v": "10"}, [0]), ({"v": {"in": [True, "10"]}}, [0, 2]),
                            ({"u": 10}, [3, 4]), ({"u": {"lt": "2"}}, [5]), ({"w": {"gte": 1}}, [0]),
                            ({"v": {"ne": 10}}, [0, 2]), ({"w": None}, [2, 3, 4, 5])]:  # fmt: skip
        result = run_schemarel(root, *args, json.dumps(where))
        assert result.returncode == 0, result.stderr
        got = [json.loads(line) for line in result.stdout.splitlines()]
        assert sorted(map(json.dumps, got)) == sorted(json.dumps(docs[i]) for i in expected), where
    failed = run_schemarel(root, *args, '{"w": {"contains": "1"}}')
    assert failed.returncode == 2 and failed.stdout == "", failed.stderr
    assert failed.stderr.startswith("error: w: `contains` matches strings") and "Traceback" not in failed.stderr


@pytest.mark.parametrize("union", [False, True])
def test_pages_ordered_by_a_number_walk_every_document(three_db_url: str, tmp_path: Path, union: bool) -> None:
    """A full page ordered by a number property had no cursor: a number column reads as a Decimal, which the
    cursor's `json.dumps` refused (a TypeError). The pages, ordered either way, are Python's order."""
    n = {"type": ["number", "string"]} if union else {"type": "number"}
    schema = {"title": "Doc", "type": "object", "properties": {"n": n}}
    store = open_store(three_db_url, "doc", write_project(tmp_path, {"doc": schema}) / "schemas")
    numbers = st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.integers(-5, 5), st.none())

    @SETTINGS
    @given(st.lists(numbers, min_size=1, max_size=7), st.integers(1, 3), st.booleans())
    def check(values: list[Any], size: int, desc: bool) -> None:
        ids = store.create_many([{} if v is None else {"n": v} for v in values])
        try:
            present = sorted((v, k) for k, v in zip(ids, values, strict=True) if v is not None)
            if desc:
                present = sorted(present, key=lambda p: (-p[0], p[1]))
            expected = [k for _, k in present] + sorted(k for k, v in zip(ids, values, strict=True) if v is None)
            assert walk(store, "-n" if desc else "n", size) == expected, values
        finally:
            for key in ids:
                store.delete(key)

    check()
    store.close()
