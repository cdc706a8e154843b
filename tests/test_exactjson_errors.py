"""A line of NDJSON that is not JSON is rejected with where the fault is *in that line* (its column, or its end)."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from schemarel.runtime import exactjson

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)


def reason(text: bytes) -> str | None:
    try:
        exactjson.loads(text)
    except exactjson.NotJSON as exc:
        return str(exc)
    return None


@settings(max_examples=300)
@given(json_values, st.data(), st.sampled_from([b"\n", b"\r\n", b""]))
def test_a_broken_line_is_placed_within_the_line(value: object, data: st.DataObject, end: bytes) -> None:
    line = json.dumps(value, ensure_ascii=False).encode()
    cut = data.draw(st.integers(0, len(line) - 1), label="cut")
    broken = line[:cut] + data.draw(st.sampled_from([b"", b"}", b",", b"]x", b" @"]), label="tail")
    text = broken + end
    found = reason(text)
    if found is None:  # the cut left valid JSON ("12" of "123")
        return
    assert "line 2" not in found and "char" not in found, found
    if found.startswith("not UTF-8"):  # the cut split a character: its byte
        assert int(found.rsplit(" ", 1)[1]) < len(text)
        return
    place = re.search(r"\w at (?:column (\d+)|the end of the line)$", found)
    assert place is not None, found
    if place.group(1) is not None:
        assert 1 <= int(place.group(1)) <= len(broken.decode("utf-8", "replace"))


def test_examples_of_the_wording() -> None:
    assert reason(b'{"bad": \n') == "Expecting value at the end of the line"
    assert reason(b'{"a": "b\n') == "Unterminated string at the end of the line"
    assert reason(b'{"a": "b\tc"}') == "Invalid control character at column 9"
    assert reason(b'{"a": 1,}\n') == "Expecting property name enclosed in double quotes at column 9"
    assert reason('\ufeff{"a": 1}'.encode()) == "a byte order mark (U+FEFF) starts the line: JSON text has none"
    # text of several lines keeps the decoder's line and column
    assert reason(b'{"a"\n: x}') == "Expecting value: line 2 column 3 (char 7)"
