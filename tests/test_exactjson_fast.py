"""`exactjson.loads_checked`'s fast reading (msgspec) gives what the exact decoder gives, or leaves the text to it.

The drawn lines stress what msgspec reads otherwise than `loads`: keys given twice (msgspec keeps the last
silently), spelled with whitespace before the colon and string values that look like key ends, numbers in every
spelling (fractions and exponents are Decimals, `5E0` an int, integers past 64 bits exact), NaN and infinities,
escapes, nesting around `MAX_DEPTH`. The oracle is the stdlib decoder with its own hooks, written here.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from schemarel.runtime import exactjson
from schemarel.runtime.exactjson import MAX_DEPTH
from schemarel.runtime.values import problems

NUMBERS = st.one_of(
    st.integers().map(str),
    st.integers(2**63 - 2, 2**70).map(str),  # past 64 bits
    st.sampled_from(
        [
            "-0",
            "0",
            "1.0",
            "1.50",
            "-0.0",
            "5E0",
            "5e0",
            "0e0",
            "1e400",
            "1E-7",
            "2.5e+3",
            "0.1000000000000000001",
            "9007199254740993",
            "1" * 30,
            "NaN",
            "-Infinity",
        ]
    ),  # fmt: skip
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)
STRINGS = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters='"\\', min_codepoint=0x20), max_size=6),
    st.sampled_from([" :x", ":", 'a" :', " ", '" : "', "\\u0041", "\\\\", "é"]),  # quote-like contents, escapes
).map(lambda s: '"' + s.replace('"', '\\"') + '"')
KEYS = st.sampled_from(["a", "b", "a ", " a", ":", "é", "a:b", ""]).map(lambda k: f'"{k}"')
COLONS = st.sampled_from([":", ": ", " :", "\t:\n", " : "])
COMMAS = st.sampled_from([",", ", ", " ,\n"])


def lines() -> st.SearchStrategy[str]:
    leaves = st.one_of(NUMBERS, STRINGS, st.sampled_from(["true", "false", "null"]))
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.tuples(st.lists(inner, max_size=4), COMMAS).map(lambda t: "[" + t[1].join(t[0]) + "]"),
            st.tuples(st.lists(st.tuples(KEYS, COLONS, inner), max_size=4), COMMAS).map(
                lambda t: "{" + t[1].join(k + c + v for k, c, v in t[0]) + "}"
            ),
        ),
        max_leaves=14,
    )


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({k for k, _ in pairs}) < len(pairs):
        _oracle_state["twice"] = True
    return dict(pairs)


def _constant(text: str) -> str:
    _oracle_state["constant"] = True
    return text


_oracle_state: dict[str, bool] = {}


def oracle(line: bytes) -> tuple[str, bool] | None:
    """The exact reading as the stdlib gives it (repr: int and Decimal told apart) and whether the line is plain:
    no backslash, fewer brackets than MAX_DEPTH (or short), no key twice, no NaN or Infinity. None: not JSON."""
    _oracle_state.clear()
    try:
        value = json.loads(line, parse_float=_number, parse_constant=_constant, object_pairs_hook=_pairs)
    except (ValueError, RecursionError):
        return None
    shallow = len(line) < 2 * MAX_DEPTH or line.count(b"[") + line.count(b"{") < MAX_DEPTH
    plain = b"\\" not in line and shallow and not _oracle_state
    return (repr(value) if not _oracle_state.get("constant") else ""), plain


def _number(text: str) -> Decimal | int:
    number = Decimal(text)
    return int(str(number)) if str(number).lstrip("-").isdigit() else number


@settings(max_examples=1500, deadline=None)
@given(lines(), st.sampled_from(["", " ", "\n", " \r\n"]))
def test_the_fast_reading_is_the_exact_one(text: str, end: str) -> None:
    line = (text + end).encode()
    expected = oracle(line)
    try:
        value, plain = exactjson.loads_checked(line)
    except exactjson.NotJSON:
        assert expected is None, line
        return
    assert expected is not None, line
    event("plain" if plain else "not plain")
    shown, plain_expected = expected
    assert plain == plain_expected, line
    if shown:  # NaN reads as exactjson.NonFinite: compared by the plain flag alone
        assert repr(value) == shown, line


@pytest.mark.parametrize(
    "line",
    [
        b'{"a": 1, "b": [1.50, 5E0, 18446744073709551616], "c": {"d": "x"}}',
        b'{"a":1,"b":{"a":2}}',
        b'[{"a" : "b"}, {"a": ":"}]',
    ],
)
def test_common_lines_take_the_fast_reading(line: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain lines never reach the stdlib decoder (else the fast reading would only add work)."""
    expected = oracle(line)

    def refuse(text: Any) -> Any:
        raise AssertionError("the exact decoder was asked")

    monkeypatch.setattr(exactjson, "loads", refuse)
    value, plain = exactjson.loads_checked(line)
    assert plain and expected == (repr(value), True)


@pytest.mark.parametrize(
    "line", [b'{"a": 1, "a": 2}', b'{"a": 1, "a" : 2}', b'{"a":1,"a"\t:\n2}', b'{"a": {"b": 1, "b": 1}}']
)
def test_a_key_given_twice_is_found_however_spelled(line: bytes) -> None:
    """The line is left to the exact decoder, whose reading `values.problems` then names the key in."""
    value, plain = exactjson.loads_checked(line)
    assert not plain
    assert "is given twice" in problems(value, nul_ok=False).invalid[0].message
