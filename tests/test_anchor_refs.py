"""A `$ref` to an `$anchor` (`"#thing"`) maps as the `$ref` by JSON pointer to the same subschema does.

An anchor's target was placed at `#`, the root's own place: a property referring to a boolean by its anchor was
taken for the root again ("it contains # again (recursion)") and stored as JSON, and a problem inside the
anchored subschema was reported at `#`. For anchored subschemas of several shapes, anchor names, places and
numbers of references, the tables, enums and warnings of both spellings are equal; an anchor on the root is
the recursion `#` is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from projects import model

TARGETS: list[dict[str, Any]] = [
    {"type": "boolean"},
    {"type": "string", "format": "date-time"},
    {"type": "string", "enum": ["a", "b"]},
    {"type": "integer", "minimum": 0},
    {"type": "object", "required": ["x"], "properties": {"x": {"type": "string"}, "y": {"type": "number"}}},
    {"type": "array", "items": {"type": "object", "properties": {"z": {"type": "string"}}}},
]
ANCHORS = st.from_regex(r"\A[A-Za-z_][-A-Za-z0-9._]{0,8}\Z")
PLACES = st.sampled_from([("$defs", "d"), ("$defs", "a/b~c"), ("definitions", "x y")])


def schema(target: dict[str, Any], anchor: str, place: tuple[str, str], refs: int, by_anchor: bool) -> str:
    keyword, name = place
    escaped = name.replace("~", "~0").replace("/", "~1").replace(" ", "%20")
    ref = f"#{anchor}" if by_anchor else f"#/{keyword}/{escaped}"
    properties: dict[str, Any] = {f"p{i}": {"$ref": ref} for i in range(refs)}
    properties["q"] = {"type": "object", "properties": {"inner": {"$ref": ref}}}
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Doc",
        "type": "object",
        "properties": properties,
        keyword: {name: {"$anchor": anchor, **target}},
    }
    return json.dumps(document)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(TARGETS), ANCHORS, PLACES, st.integers(1, 3))
@example({"type": "boolean"}, "thing", ("$defs", "t"), 1)
def test_an_anchor_maps_as_its_pointer(
    tmp_path: Path, target: dict[str, Any], anchor: str, place: tuple[str, str], refs: int
) -> None:
    by_pointer = model(tmp_path / "pointer", schema(target, anchor, place, refs, False))
    by_anchor = model(tmp_path / "anchor", schema(target, anchor, place, refs, True))
    assert by_anchor.tables == by_pointer.tables
    assert by_anchor.enums == by_pointer.enums
    assert by_anchor.warnings == by_pointer.warnings
    assert not any("again" in w.message for w in by_anchor.warnings)  # no recursion where there is none


@pytest.mark.parametrize("anchor", ["node", "T-1.x"])
def test_an_anchor_on_the_root_is_recursion_as_hash_is(tmp_path: Path, anchor: str) -> None:
    def tree(ref: str) -> dict[str, Any]:
        children = {"type": "array", "items": {"$ref": ref}}
        return {"$anchor": anchor, "title": "Node", "type": "object", "properties": {"children": children}}

    by_anchor, by_hash = model(tmp_path / "anchor", tree(f"#{anchor}")), model(tmp_path / "hash", tree("#"))
    assert (by_anchor.tables, by_anchor.warnings) == (by_hash.tables, by_hash.warnings)
