"""`values.problems`' quick pass (`_clean`) never clears a value the full pass finds a problem in."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from schemarel.runtime import exactjson
from schemarel.runtime.exactjson import MAX_DEPTH, Duplicated, NonFinite
from schemarel.runtime.values import _clean, _found, problems


def duplicated(d: dict[str, Any]) -> Duplicated:
    dup = Duplicated(d)
    dup.twice = tuple(d)[:1]
    return dup


LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.decimals(),
    st.text(st.characters(codec=None, min_codepoint=0), max_size=6),  # NULs and lone surrogates too
    st.sampled_from([NonFinite("NaN"), object(), b"bytes", ("a",)]),
)  # fmt: skip
KEYS = st.one_of(st.text(st.characters(min_codepoint=0), max_size=4), st.integers(0, 3))


def deep(levels: int) -> Any:
    value: Any = 1
    for n in range(levels):
        value = [value] if n % 2 else {"k": value}
    return value


VALUES = st.recursive(
    st.one_of(LEAVES, st.sampled_from([deep(MAX_DEPTH - 1), deep(MAX_DEPTH), deep(MAX_DEPTH + 1)])),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(KEYS, inner, max_size=4),
        st.dictionaries(st.text(max_size=3), inner, min_size=1, max_size=3).map(duplicated),
    ),
    max_leaves=15,
)


@settings(max_examples=400, deadline=None)
@given(VALUES, st.booleans())
def test_quick_pass_agrees_with_the_full_one(value: Any, nul_ok: bool) -> None:
    full = _found(value, nul_ok)
    if _clean(value, nul_ok):
        assert not full.invalid and not full.refused
    found = problems(value, nul_ok=nul_ok)
    assert (found.invalid, found.refused) == (full.invalid, full.refused)


def test_clean_documents_pass_quickly() -> None:
    """The quick pass does clear plain documents (else it would only add work)."""
    document = {"a": [1, 2.5, Decimal("1.50"), None, True, "é😀", {"b": "x" * 100}], "c": deep(MAX_DEPTH - 1)}
    assert _clean(document, nul_ok=False)
    assert not _clean({"a": "\x00"}, nul_ok=False) and _clean({"a": "\x00"}, nul_ok=True)


# JSON text as a load reads it: keys given twice, NaN and infinities, escapes of NUL and lone surrogates, text
# that is not ASCII, nesting around MAX_DEPTH, spaces between tokens
def _text_of(value: Any, ascii_only: bool) -> str:
    return json.dumps(value, ensure_ascii=ascii_only)


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(st.characters(codec=None), max_size=6))
TEXT_LEAVES = st.one_of(
    st.builds(_text_of, SCALARS, st.booleans()),  # NULs and lone surrogates escaped, or raw (then not UTF-8)
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-0.0", "1.50", "0e0", '"a\\\\u0000"']),
    st.sampled_from(['"\\x00"', '"\\x1f"', '"é\\u00e9"']),  # raw control characters (not JSON), an escape
    st.sampled_from([json.dumps(deep(n)) for n in (MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1)]),
)
TEXTS = st.recursive(
    TEXT_LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ",".join(items) + "]"),
        st.lists(st.tuples(st.sampled_from(["a", "b", "é", "\\u0000", "\\udc00"]), inner), max_size=4).map(
            lambda pairs: "{" + ", ".join(f'"{k}": {v}' for k, v in pairs) + "}"
        ),
    ),
    max_leaves=12,
)


@settings(max_examples=600, deadline=None)
@given(TEXTS, st.sampled_from(["", " ", "\t"]))
def test_a_line_found_plain_has_no_problem(text: str, space: str) -> None:
    """`exactjson.loads_checked` clears only text whose value `problems` finds nothing wrong with (on
    PostgreSQL, which refuses NUL too), and parses it as `loads` does; a load then skips `problems`."""
    line = (space + text + space).encode("utf-8", "surrogatepass")
    try:
        value, plain = exactjson.loads_checked(line)
    except exactjson.NotJSON:
        return
    assert repr(value) == repr(exactjson.loads(line))
    if plain:
        found = problems(value, nul_ok=False)
        assert not found.invalid and not found.refused


def test_plain_lines_are_found_plain() -> None:
    """The check does clear a load's common lines (else it would only add work), and each of its conditions
    matters: a line that breaks one is left to `problems`."""
    assert exactjson.loads_checked(b'{"a": [1, 2.5, null, true, "x"], "b": {"c": "d"}}')[1]
    assert exactjson.loads_checked(json.dumps(deep(MAX_DEPTH - 1)).encode())[1]
    for line in ('{"a": 1, "a": 2}', '{"a": NaN}', '[-Infinity]', '{"a": "\\u0000"}', '["\\ud800"]',
                 json.dumps(deep(MAX_DEPTH + 1))):  # fmt: skip
        value, plain = exactjson.loads_checked(line.encode())
        found = problems(value, nul_ok=False)
        assert not plain and found.invalid + found.refused, line
    assert exactjson.loads_checked('{"é": "😀"}'.encode())[1]  # strict UTF-8 holds no lone surrogate
