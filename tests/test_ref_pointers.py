"""A `$ref`'s JSON Pointer is read as RFC 6901 reads it: an array index is `0` or digits without a leading zero,
`~1`/`~0` and percent-escapes decode, and a pointer that leads nowhere (`-1`, `01`, ` 1`, `1_0`, a name for an
index, one past the end, a missing key, a step under a string) is refused with a one-line message that says
where it stops, never a traceback, another node, or the whole schema file printed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import run_schemarel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projects import write_project
from schemarel.errors import SchemaError, pointer
from schemarel.schema.loader import load_schemas

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
KEYS = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6)
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=3))
TREES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=12) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=30,
)
# what `int()` (referencing's reading of an index) takes that RFC 6901 does not, and other non-indexes
NOT_INDEXES = ["-1", "-0", "01", "00", " 1", "1 ", "+1", "1_0", "1.0", "x", "", "1e0", "٣"]


def steps(tree: Any) -> list[tuple[tuple[Any, ...], Any]]:
    """Every (path, value) in `tree`, the root's path first."""
    found: list[tuple[tuple[Any, ...], Any]] = [((), tree)]
    if isinstance(tree, dict):
        found += [((k, *p), v) for k, child in tree.items() for p, v in steps(child)]
    elif isinstance(tree, list):
        found += [((i, *p), v) for i, child in enumerate(tree) for p, v in steps(child)]
    return found


def ref_of(path: tuple[Any, ...], percent: bool) -> str:
    """The `$ref` of `path` under `#/x-data` (a keyword of no vocabulary: any JSON there), escaped per RFC 6901
    and, with `percent`, as a URI fragment."""
    fragment = pointer("x-data", *path)
    return "#" + quote(fragment[1:], safe="/~$") if percent else fragment


def source_of(tmp_path: Path, data: Any) -> Any:
    schemas = tmp_path / "schemas"
    schemas.mkdir(exist_ok=True)
    contents = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Host", "type": "object",
                "x-data": data}  # fmt: skip
    (schemas / "host.schema.json").write_text(json.dumps(contents), encoding="utf-8")
    [source] = load_schemas(schemas, tmp_path)
    return source


@SETTINGS
@given(data=TREES, choice=st.data(), percent=st.booleans())
def test_a_pointer_to_a_value_leads_to_that_value(tmp_path: Path, data: Any, choice: Any, percent: bool) -> None:
    source = source_of(tmp_path, data)
    path, value = choice.draw(st.sampled_from(steps(data)))
    found = source.lookup(ref_of(path, percent), source.resolver, "#/properties/x").contents
    assert found == value and type(found) is type(value)


@st.composite
def nowhere(draw: st.DrawFn) -> tuple[Any, tuple[Any, ...], str, str]:
    """A tree, the path of a node in it, a step from that node that leads nowhere, and where the walk stops."""
    data = draw(TREES)
    path, node = draw(st.sampled_from(steps(data)))
    if isinstance(node, list):
        step = draw(st.sampled_from([*NOT_INDEXES, str(len(node)), str(len(node) + 10**30)]))
    elif isinstance(node, dict):
        step = draw(KEYS.filter(lambda k: k not in node))
    else:
        step = draw(st.sampled_from(["0", "a", ""]))
    return data, path, step, pointer("x-data", *path)


@SETTINGS
@given(case=nowhere())
def test_a_pointer_that_leads_nowhere_is_refused_where_it_stops(tmp_path: Path, case: Any) -> None:
    data, path, step, stops_at = case
    source = source_of(tmp_path, data)
    ref = pointer("x-data", *path, step)
    with pytest.raises(SchemaError) as refused:
        source.lookup(ref, source.resolver, "#/properties/x")
    message = str(refused.value)
    assert message.startswith("schemas/host.schema.json#/properties/x: cannot resolve $ref "), message
    assert f": {stops_at} " in message, message  # the last node the pointer reached
    assert len(message) < 400 + 2 * len(ref), message  # not the schema file (the CLI shows control characters escaped)


@pytest.mark.parametrize("step", ["-1", "01", " 0", "1_0", "name", "2"])
def test_generate_refuses_a_ref_past_an_array_and_writes_nothing(tmp_path: Path, step: str) -> None:
    """The CLI as users run it: exit 2, the `$ref`'s place and the array named, nothing written."""
    root = write_project(tmp_path, {"evil": {
        "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Evil", "type": "object",
        "$defs": {"pair": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "properties": {"x": {"$ref": f"#/$defs/pair/anyOf/{step}"}},
    }})  # fmt: skip
    result = run_schemarel(root, "generate")
    assert result.returncode == 2, result.stderr
    where = "error: schemas/evil.schema.json#/properties/x"
    assert result.stderr.startswith(
        f"{where}: cannot resolve $ref '#/$defs/pair/anyOf/{step}': #/$defs/pair/anyOf is "
    ), result.stderr
    assert "Traceback" not in result.stderr
    assert not (root / "generated").exists()


def test_generate_follows_a_ref_into_an_array(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"fine": {
        "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Fine", "type": "object",
        "$defs": {"pair": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "properties": {"x": {"$ref": "#/$defs/pair/anyOf/1"}, "y": {"$ref": "#/%24defs/pair/anyOf/0"}},
    }})  # fmt: skip
    result = run_schemarel(root, "generate")
    assert result.returncode == 0, result.stderr
    models = (root / "generated" / "models" / "fine.py").read_text(encoding="utf-8")
    assert "x: Mapped[int | None]" in models and "y: Mapped[str | None]" in models


@pytest.mark.parametrize(
    "place",
    [
        {"not": {"$ref": "#/$defs/gone"}},
        {"if": {"$ref": "other.schema.json"}, "then": {"required": ["x"]}},
        {"properties": {"x": {"type": "array", "contains": {"$ref": "http://example.com/s.json"}}}},
        {"properties": {"x": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"$ref": "#/nowhere"}}]}}},
        {"$defs": {"unused": {"$ref": "#/$defs/missing"}}},
    ],
    ids=["not", "if", "contains", "union", "unused"],
)
def test_a_ref_that_leads_nowhere_is_refused_wherever_it_stands(tmp_path: Path, place: dict[str, Any]) -> None:
    """Parts the mapping keeps as JSON or never reads are followed by the validators on a document: a `$ref`
    there that leads nowhere is refused by generate (it raised at the first document that reached it)."""
    root = write_project(tmp_path, {"evil": {"$schema": "https://json-schema.org/draft/2020-12/schema",
                                             "title": "Evil", "type": "object", **place}})  # fmt: skip
    result = run_schemarel(root, "generate")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: schemas/evil.schema.json#") and "cannot resolve $ref" in result.stderr
    assert not (root / "generated").exists()
