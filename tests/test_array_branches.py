"""A union whose branches are all arrays (a conditional case narrowing the object's array, as dependabot.yml's
`updates` and Helm's `Chart.yaml` `dependencies` in SchemaStore) maps to one array whose item is any branch's
item: a child table, not a JSON column ("`anyOf` allows different shapes (array)"). Drawn schemas of that class
keep their child table and store a document exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projects import generate, model, write_project
from runtime_helpers import open_store

COUNTER = iter(range(10**6))
SCALARS = st.sampled_from([{"type": "string"}, {"type": "integer"}, {"enum": ["npm", "pip"]}, {"type": "boolean"}])


@st.composite
def narrowed_array(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A schema whose `list` property is an array of objects narrowed per case, and a document of it."""
    names = draw(st.lists(st.sampled_from(["eco", "dir", "n", "on"]), min_size=1, max_size=3, unique=True))
    item = {"type": "object", "properties": {n: {"type": "string"} for n in names}}
    narrowed = {"type": "array", "items": {"type": "object", "properties": {names[0]: draw(SCALARS)}}}
    how = draw(st.sampled_from(["else", "then"]))
    schema: dict[str, Any] = {"title": "Doc", "type": "object"}
    schema["properties"] = {"beta": {"type": "boolean"}, "list": {"type": "array", "items": item}}
    schema["if"] = {"properties": {"beta": {"const": True}}, "required": ["beta"]}
    schema[how] = {"properties": {"list": narrowed}}
    schema["then" if how == "else" else "else"] = {}
    document: dict[str, Any] = {"beta": how == "else"}  # the case that does not narrow: any strings
    document["list"] = [{n: f"v{i}" for n in names} for i in range(draw(st.integers(0, 3)))]
    return schema, document


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=narrowed_array())
def test_a_union_of_arrays_is_one_child_table(tmp_path: Path, case: tuple[dict[str, Any], dict[str, Any]]) -> None:
    schema, document = case
    root = tmp_path / f"p{next(COUNTER)}"
    tables = {t.name: t for t in model(root, schema).tables}
    assert "doc_lists" in tables, sorted(tables)
    assert "list" not in {c.name for c in tables["docs"].columns}
    write_project(root, {"doc": schema})
    assert generate(root).exit_code == 0
    store = open_store(f"sqlite:///{root / 'db.sqlite'}", "doc", root / "schemas")
    try:
        assert store.get(store.create(document)) == document
    finally:
        store.close()
