"""`oneOf`/`anyOf` of object branches that each have the same array property (`{"kind": "a", "list": [{x}]}` or
`{"kind": "b", "list": [{y}]}`) map to one child table for the array, holding the union of the branches' item
properties, as the branches share one table for their scalars (it was a JSON column: "its items have no type").
Drawn schemas of that class (items that are objects or scalars, the array directly in the branch or in an object
inside it, some branches without it) keep the child table and store every branch's documents exactly on SQLite,
PostgreSQL and MariaDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projects import generate, model, write_project
from runtime_helpers import open_store

COUNTER = iter(range(10**6))
# item properties by name, one type per name (branches that disagree on a property's type are another class)
ITEM_PROPS: dict[str, dict[str, Any]] = {"x": {"type": "string"}, "y": {"type": "integer"},
                                         "z": {"type": "boolean"}, "w": {"type": "string", "maxLength": 8}}  # fmt: skip
ITEM_VALUES: dict[str, Any] = {"x": "ex", "y": -7, "z": True, "w": "dbl"}
SCALAR_ITEMS: dict[str, tuple[dict[str, Any], Any]] = {
    "string": ({"type": "string"}, "s"),
    "integer": ({"type": "integer"}, 42),
}


@st.composite
def branch_arrays(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A schema whose property `v` is a union of object branches, some holding array `list` (or `cfg.list`),
    and a document of every branch."""
    count = draw(st.integers(2, 3))
    holders = draw(st.sets(st.integers(0, count - 1), min_size=1, max_size=count))
    nested = draw(st.booleans())
    scalar = draw(st.sampled_from([None, "string", "integer"]))  # None: items are objects
    branches, documents = [], []
    for i in range(count):
        branch: dict[str, Any] = {"type": "object", "properties": {"kind": {"const": f"k{i}"}}}
        document: dict[str, Any] = {"kind": f"k{i}"}
        if i in holders:
            if scalar is None:
                names = draw(st.lists(st.sampled_from(sorted(ITEM_PROPS)), min_size=1, max_size=3, unique=True))
                items: dict[str, Any] = {"type": "object", "properties": {n: ITEM_PROPS[n] for n in names}}
                values = [{n: ITEM_VALUES[n] for n in names[: k + 1]} for k in range(draw(st.integers(0, 3)))]
            else:
                items, value = SCALAR_ITEMS[scalar]
                values = [value] * draw(st.integers(0, 3))
            array = {"type": "array", "items": items}
            if nested:
                branch["properties"]["cfg"] = {"type": "object", "properties": {"list": array}}
                document["cfg"] = {"list": values}
            else:
                branch["properties"]["list"] = array
                document["list"] = values
        branches.append(branch)
        documents.append(document)
    keyword = draw(st.sampled_from(["oneOf", "anyOf"]))
    title = f"D{next(COUNTER)}"  # a table name per example: the examples share one database
    schema = {"title": title, "type": "object", "properties": {"v": {keyword: branches}}}
    return schema, [{"v": d} for d in documents]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=branch_arrays())
def test_branches_sharing_an_array_share_its_child_table(
    tmp_path: Path, three_db_url: str, case: tuple[dict[str, Any], list[dict[str, Any]]]
) -> None:
    schema, documents = case
    root = tmp_path / schema["title"]
    tables = model(root, schema).tables
    held = [(t.name, c.name) for t in tables for c in t.columns if c.path[-1:] == ("list",)]
    assert held == [], f"`list` is a column, not a child table: {held}"
    assert any(t.name.endswith("_lists") for t in tables), sorted(t.name for t in tables)
    name = schema["title"].lower()
    write_project(root, {name: schema})
    result = generate(root)
    assert result.exit_code == 0, result.output
    store = open_store(three_db_url, name, root / "schemas")
    try:
        for document in documents:
            assert store.get(store.create(document)) == document
    finally:
        store.close()
