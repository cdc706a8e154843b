"""No schema pattern runs in Python's backtracking `re` on document text: a pattern with nested quantifiers
(`^(a+)+$`, as real email and identifier patterns have them) and a string that almost matches it (40 `a`s and a
`!`: 2^40 backtracking steps) are decided and worded at once, wherever the pattern stands (`pattern`,
`propertyNames`, `patternProperties` keys before `additionalProperties`/`unevaluatedProperties: false`, and a
map's key patterns that route a valid document's keys), through the Store and `schemarel load`; and the
bounded search answers as Python's `re` does where both answer."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import deadline, run_schemarel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projects import write_project
from runtime_helpers import drawn_store
from schemarel.errors import DocumentInvalid
from schemarel.schema.patterns import search
from schemarel.sql.regex import from_python, to_python

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
HANG = 60  # seconds: a bound on work that, backtracking, takes hours (no timing is asserted)
# nested quantifiers over one character: each takes 2^n steps in `re` to refuse n of it and one other
FAMILIES = ["^({c}+)+$", "^({c}|{c})*$", "^({c}*)*$", "^(?:{c}+)+$", "^([{c}]+)*$"]
DRAFT = "https://json-schema.org/draft/2020-12/schema"


@st.composite
def catastrophe(draw: st.DrawFn) -> tuple[str, str]:
    """A pattern with nested quantifiers and a string it refuses only after exponential backtracking."""
    c = draw(st.sampled_from("abcxyz019"))
    family = draw(st.sampled_from(FAMILIES))
    return family.format(c=c), c * draw(st.integers(40, 80)) + draw(st.sampled_from("!-_ ."))


def refusing(placement: str, pattern: str, text: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A schema with `pattern` in `placement`, a document that fails it by `text`, and the failure's pointer."""
    schemas: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
        "pattern": ({"properties": {"v": {"type": "string", "pattern": pattern}}}, {"v": text}, "#/v"),
        "propertyNames": ({"propertyNames": {"pattern": pattern}, "additionalProperties": {"type": "string"}},
                          {text: "x"}, "#"),
        "additionalProperties": ({"patternProperties": {pattern: {"type": "string"}}, "additionalProperties": False},
                                 {text: "x"}, "#"),
        "unevaluatedProperties": ({"patternProperties": {pattern: {"type": "string"}},
                                   "unevaluatedProperties": False}, {text: "x"}, "#"),
    }  # fmt: skip
    schema, document, where = schemas[placement]
    return {"$schema": DRAFT, "title": "Probe", "type": "object", **schema}, document, where


@SETTINGS
@given(case=catastrophe(), placement=st.sampled_from(["pattern", "propertyNames", "additionalProperties",
                                                       "unevaluatedProperties"]))  # fmt: skip
def test_a_backtracking_pattern_refuses_at_once(tmp_path: Path, sqlite_url: str, case: Any, placement: str) -> None:
    pattern, text = case
    schema, document, where = refusing(placement, pattern, text)
    with (
        drawn_store(tmp_path, sqlite_url, "probe", schema) as store,
        deadline(HANG),
        pytest.raises(DocumentInvalid) as refused,
    ):
        store.create(document)
    assert [v.pointer for v in refused.value.violations] == [where], refused.value.violations


@SETTINGS
@given(case=catastrophe())
def test_a_map_key_pattern_routes_a_valid_document_at_once(tmp_path: Path, sqlite_url: str, case: Any) -> None:
    """A key that matches no pattern (its value is the open object's, not the map's) is told apart without `re`."""
    pattern, text = case
    schema = {
        "$schema": DRAFT, "title": "Probe", "type": "object", "properties": {"name": {"type": "string"}},
        "patternProperties": {pattern: {"type": "integer"}},  # the map; other keys are kept as the root's extras
    }  # fmt: skip
    document = {"name": "n", text: "not an integer", text[0] * 3: 7}  # the last key matches: the map's
    with drawn_store(tmp_path, sqlite_url, "probe", schema) as store, deadline(HANG):
        doc_id = store.create(document)
        assert store.get(doc_id) == document


def test_load_rejects_the_line_and_goes_on(tmp_path: Path) -> None:
    """`schemarel load` as users run it: the line is rejected with its reason, the next one is loaded."""
    probe = {"type": "object", "properties": {"v": {"type": "string", "pattern": "^(a+)+$"}}}
    root = write_project(tmp_path, {"probe": {"$schema": DRAFT, "title": "Probe", **probe}})
    for step in ("generate", "upgrade"):
        assert run_schemarel(root, step).returncode == 0
    (root / "in.ndjson").write_text(json.dumps({"v": "a" * 60 + "!"}) + "\n" + json.dumps({"v": "aaa"}) + "\n")
    result = run_schemarel(root, "load", "in.ndjson", "--schema", "probe")  # the subprocess has a timeout
    assert result.returncode == 1, result.stderr
    assert "loaded 1 probe document" in result.stdout
    [reject] = [json.loads(line) for line in (root / "in.ndjson.rejects.ndjson").read_text().splitlines()]
    assert reject["line"] == 1 and reject["errors"] == [f"#/v: '{'a' * 60}!' does not match '^(a+)+$'"]


# -- the bounded search answers as `re` does ---------------------------------------------------------------
ATOMS = st.sampled_from(["a", "b", ".", r"\d", r"\w", r"\s", "[a-c]", "[^b]", r"\.", "-", "(?:ab)", "(a|b)"])
QUANTIFIERS = st.sampled_from(["", "", "*", "+", "?", "{2}", "{1,3}"])
PATTERNS = st.builds(
    lambda start, parts, end: start + "".join(parts) + end,
    st.sampled_from(["", "^"]),
    st.lists(st.builds(str.__add__, ATOMS, QUANTIFIERS), min_size=1, max_size=5),
    st.sampled_from(["", "$"]),
)
TEXTS = st.text(st.sampled_from("ab c.-1_\n\u00e9"), max_size=8)


@settings(max_examples=400, deadline=None)
@given(pattern=PATTERNS, text=TEXTS)
def test_the_bounded_search_answers_as_re_does(pattern: str, text: str) -> None:
    python = to_python(pattern)  # the spelling map tables keep (`$` as `\\Z`, classes spelled out)
    assert python is not None
    expected = re.search(python, text) is not None
    assert search(pattern, text) == expected
    assert search(from_python(python), text) == expected  # what `marks.mapped` asks
