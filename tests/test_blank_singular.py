"""A property whose name singularizes to nothing (`s`, `S`, `_s`: inflection drops a lone `s` whole) names the
value column and the tables of its array as it is: `generate` crashed on the blank column name (found by
test_documents_roundtrip's drawn names), and documents of it round-trip."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projects import generate, write_project
from runtime_helpers import open_store

NAMES = st.from_regex(r"\A[_\- ]{0,2}[sS][_\- ]{0,2}\Z").filter(lambda s: s.strip() == s)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=NAMES, nested=st.booleans())
def test_an_array_named_s_generates_and_round_trips(
    tmp_path_factory: pytest.TempPathFactory, name: str, nested: bool
) -> None:
    items = {"type": "object", "properties": {name: {"type": "array", "items": {"type": "integer"}}}}
    schema = {"title": "Thing", "type": "object", "required": [name],
              "properties": {name: {"type": "array", "items": items if nested else {"type": "string"}}}}  # fmt: skip
    root = write_project(tmp_path_factory.mktemp("s"), {"thing": schema})
    result = generate(root)
    assert result.exit_code == 0, result.output
    document = {name: [{name: [1, 2]}, {}] if nested else ["a", "b"]}
    store = open_store(f"sqlite:///{root / 'db.sqlite'}", "thing", root / "schemas")
    try:
        assert json.dumps(store.get(store.create(document))) == json.dumps(document)
    finally:
        store.close()
