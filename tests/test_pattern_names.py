"""ECMA-262 patterns with named groups (`(?<major>0|[1-9]\\d*)`, the semantic version pattern of many real schemas,
and back references `\\k<major>`) are patterns: `generate` maps them (it refused them as "not a regular
expression", Python's `re` spelling names `(?P<name>…)`), and a document is checked and its faults worded with
the pattern as the schema writes it. Drawn patterns of that class, in `pattern` and as `patternProperties` keys;
SchemaStore's global.json (tests/data/realworld, see PROVENANCE.md) and its documents load and export unchanged
on SQLite, PostgreSQL and MariaDB, and a version that is no semantic version is rejected naming the pattern."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
from conftest import run_schemarel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projects import generate, user_path, write_project
from schemarel.runtime.validation import DocumentValidator
from schemarel.schema.loader import load_schemas

DATA = Path(__file__).parent / "data" / "realworld"
NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
BODIES = st.sampled_from(["0|[1-9]\\d*", "[a-z]+", "\\d{2}", "a(?:b|c)?", "[^.]+", "x"])
TEXT = st.text(alphabet="0123456789abcx.-_+", max_size=10)


@st.composite
def named_pattern(draw: st.DrawFn) -> str:
    """A pattern of 1-3 named groups joined by literals, perhaps anchored."""
    names = draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
    pattern = "\\.".join(f"(?<{name}>{draw(BODIES)})" for name in names)
    return ("^" if draw(st.booleans()) else "") + pattern + ("$" if draw(st.booleans()) else "")


def _validator(root: Path, schema: dict[str, Any]) -> DocumentValidator:
    root.mkdir(parents=True, exist_ok=True)
    (root / "doc.schema.json").write_text(json.dumps(schema))
    sources = load_schemas(root)  # refused the pattern before
    return DocumentValidator(sources[0], sources)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pattern=named_pattern(), values=st.lists(TEXT, min_size=1, max_size=6), keyed=st.booleans())
def test_named_groups_are_patterns_checked_and_worded_as_written(
    tmp_path_factory: Any, pattern: str, values: list[str], keyed: bool
) -> None:
    if keyed:  # the pattern chooses which keys an object may have
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {"m": {"type": "object", "patternProperties": {pattern: {}}, "additionalProperties": False}},
        }
        documents: list[dict[str, Any]] = [{"m": {value: 1}} for value in values]
    else:
        schema = {"type": "object", "properties": {"v": {"type": "string", "pattern": pattern}}}
        documents = [{"v": value} for value in values]
    validator = _validator(tmp_path_factory.mktemp("doc"), schema)
    verdict = jsonschema_rs.validator_for(schema)
    for document in documents:
        found = validator.violations(document)
        assert (found == []) == verdict.is_valid(document), (document, found)
        for violation in found:  # worded with the schema's pattern, never Python's spelling of it
            assert "(?P" not in violation.message, violation
            if not keyed:
                assert repr(pattern) in violation.message, violation


def test_a_back_reference_to_a_named_group_is_checked(tmp_path: Path) -> None:
    # jsonschema-rs cannot compile `\\k<name>`: jsonschema alone decides, with Python's `(?P=q)`
    pattern = "^(?<q>['\"])x\\k<q>$"
    validator = _validator(tmp_path, {"type": "object", "properties": {"v": {"type": "string", "pattern": pattern}}})
    assert validator.violations({"v": "'x'"}) == validator.violations({"v": '"x"'}) == []
    for bad in ("'x\"", '"x', "x"):
        assert [v.message for v in validator.violations({"v": bad})] == [f"{bad!r} does not match {pattern!r}"]


def test_named_groups_generate(tmp_path: Path) -> None:
    schema = {"title": "Doc", "type": "object", "properties": {"v": {"type": "string", "pattern": "^(?<n>a+)$"}}}
    result = generate(write_project(tmp_path, {"doc": schema}))
    assert result.exit_code == 0, result.output


def test_global_json_and_its_documents_round_trip(tmp_path: Path, three_db_url: str) -> None:
    root = write_project(tmp_path / "project", {"global": (DATA / "global-json.schema.json").read_text()})
    source = DATA / "global-json.examples.ndjson"
    sent = [json.loads(line) for line in source.read_text().splitlines()]
    assert user_path(root, "global", source, three_db_url) == sent
    bad = tmp_path / "bad.ndjson"
    bad.write_text(json.dumps({"sdk": {"version": "8.0"}}) + "\n")
    refused = run_schemarel(root, "load", str(bad), "--schema", "global", "--db", three_db_url)
    assert refused.returncode == 1, refused.stderr
    assert "Traceback" not in refused.stderr
    written = json.loads((DATA / "global-json.schema.json").read_text())["properties"]["sdk"]["properties"]
    assert f"'8.0' does not match {written['version']['pattern']!r}" in refused.stderr, refused.stderr
