"""A violation quotes a long value abbreviated (its start and end, a few items of a container), so that a 1 MB
string or a large object failing a keyword makes a message of a few hundred characters, in the Store's
exception, the reject file and the terminal alike, still naming the value's place and the rule it breaks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import run_schemarel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projects import write_project
from runtime_helpers import drawn_store
from schemarel.errors import DocumentInvalid
from schemarel.runtime.validation import LONGEST_MESSAGE

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# a keyword of property `v`, and what it refuses: drawn to be long
RULES = {
    "maxLength": ({"type": "string", "maxLength": 3}, st.text(min_size=400, max_size=5000)),
    "pattern": ({"type": "string", "pattern": "^[0-9]*$"}, st.text("abc", min_size=400, max_size=5000)),
    "type": ({"type": "integer"}, st.dictionaries(st.text(max_size=30), st.text(max_size=60), min_size=30)),
    "enum": ({"enum": ["a", "b"]}, st.lists(st.integers(), min_size=200, max_size=2000)),
    "uniqueItems": ({"type": "array", "uniqueItems": True}, st.lists(st.just("same" * 50), min_size=50)),
    "maxItems": ({"type": "array", "maxItems": 1}, st.lists(st.text(max_size=40), min_size=300, max_size=600)),
}


@SETTINGS
@given(rule=st.sampled_from(sorted(RULES)), data=st.data())
def test_a_long_value_is_quoted_briefly(tmp_path: Path, sqlite_url: str, rule: str, data: Any) -> None:
    keyword, values = RULES[rule]
    value = data.draw(values)
    schema = {"$schema": DRAFT, "title": "Probe", "type": "object", "properties": {"v": keyword}}
    with drawn_store(tmp_path, sqlite_url, "probe", schema) as store, pytest.raises(DocumentInvalid) as refused:
        store.create({"v": value})
    [violation] = refused.value.violations
    assert violation.pointer == "#/v"
    assert len(violation.message) <= LONGEST_MESSAGE + 10, violation.message
    assert len(str(refused.value)) < 2 * LONGEST_MESSAGE, str(refused.value)


def test_load_shows_and_lists_a_long_value_briefly(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"probe": {"$schema": DRAFT, "title": "Probe", "type": "object",
                                              "properties": {"v": {"type": "string", "maxLength": 3}}}})  # fmt: skip
    for step in ("generate", "upgrade"):
        assert run_schemarel(root, step).returncode == 0
    (root / "in.ndjson").write_text(json.dumps({"v": "x" * 1_000_000 + "END"}) + "\n")
    result = run_schemarel(root, "load", "in.ndjson", "--schema", "probe")
    assert result.returncode == 1
    [shown] = [line for line in result.stderr.splitlines() if line.startswith("in.ndjson:1: ")]
    assert shown.startswith("in.ndjson:1: #/v: 'xxxx") and "xxxEND' is too long" in shown and len(shown) < 400
    [reject] = [json.loads(line) for line in (root / "in.ndjson.rejects.ndjson").read_text().splitlines()]
    assert reject["errors"] == [shown.removeprefix("in.ndjson:1: ")]
