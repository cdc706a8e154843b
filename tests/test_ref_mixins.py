"""From draft 2019-09 a `$ref` beside other keywords is one part of its node (as an allOf's are), not the node:
a base that the root and a definition both `$ref` (schema.org's `Thing` under `Person` and `Organization`,
OpenAPI 3.1's `specification-extensions` under every object) is no recursion. It was taken for one, so the
definition's objects were rows of the root's table (refused: the root's required column NULL) or JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from projects import model, write_project
from runtime_helpers import drawn_store, open_store, same_json

EXAMPLES = settings(
    max_examples=10,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BASES = st.sampled_from(
    [
        {"type": "object", "properties": {"name": {"type": "string"}, "url": {"type": "string"}}},
        {"patternProperties": {"^x-": True}},
        {"properties": {"sameAs": {"type": "array", "items": {"type": "string"}}}},
    ]
)


@st.composite
def schemas(draw: st.DrawFn) -> dict[str, Any]:
    """A 2020-12 root and an `Org` definition, each a `$ref` to `Base` beside keywords of its own; the root holds
    orgs as an object, an array of them, or both."""
    org = {"$ref": "#/$defs/Base", "type": "object", "properties": {"kind": {"enum": ["Org", "Corp"]}}}
    holders = draw(st.sampled_from([["worksFor"], ["alumniOf"], ["worksFor", "alumniOf"]]))
    properties: dict[str, Any] = {"context": {"type": "string"}, "label": {"type": "string"}}
    for holder in holders:
        ref = {"$ref": "#/$defs/Org"}
        properties[holder] = ref if holder == "worksFor" else {"type": "array", "items": ref}
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Person",
        "$ref": "#/$defs/Base",
        "type": "object",
        "required": ["context", "label"],
        "properties": properties,
        "$defs": {"Base": draw(BASES), "Org": org},
    }
    if draw(st.booleans()):
        schema["unevaluatedProperties"] = False
    return schema


TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=5)
ORGS = st.fixed_dictionaries(
    {}, optional={"kind": st.sampled_from(["Org", "Corp"]), "name": TEXT, "url": TEXT, "sameAs": st.lists(TEXT)}
)


@pytest.mark.parametrize("run", range(2))
def test_a_shared_base_is_no_recursion(three_db_url: str, tmp_path: Path, run: int) -> None:
    @EXAMPLES
    @given(st.data())
    def round_trip(data: st.DataObject) -> None:
        schema = data.draw(schemas())
        with drawn_store(tmp_path, three_db_url, "person", schema) as store:
            assert [t for t in store.database.schema("person").tables if t.self_refs] == []  # no recursion
            for _ in range(3):
                document: dict[str, Any] = {"context": data.draw(TEXT), "label": data.draw(TEXT)}
                for holder in schema["properties"]:
                    if holder in ("worksFor", "alumniOf") and data.draw(st.booleans()):
                        document[holder] = data.draw(ORGS if holder == "worksFor" else st.lists(ORGS, max_size=3))
                if store.validator.violations(document):
                    continue
                got = store.get(store.create(document))
                assert same_json(got, document), (schema, document, got)

    round_trip()


@pytest.mark.parametrize(
    "draft", ["http://json-schema.org/draft-07/schema#", "https://json-schema.org/draft/2020-12/schema"]
)
def test_recursion_through_a_ref_beside_keywords_still_ends(tmp_path: Path, sqlite_url: str, draft: str) -> None:
    """`items: {"$ref": "#", "type": "object"}` is recursion in every draft: it is stored, never walked without end."""
    schema = {
        "$schema": draft,
        "title": "Tree",
        "type": "object",
        "properties": {"name": {"type": "string"}, "kids": {"type": "array", "items": {"$ref": "#", "type": "object"}}},
    }
    assert model(tmp_path, schema).tables
    root = write_project(tmp_path / "p", {"tree": schema})
    store = open_store(sqlite_url, "tree", root / "schemas")
    try:
        document = {"name": "a", "kids": [{"name": "b", "kids": [{"name": "c", "kids": []}]}, {"kids": [{}]}]}
        assert store.get(store.create(document)) == document
    finally:
        store.close()
