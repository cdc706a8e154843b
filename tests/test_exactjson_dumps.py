"""`exactjson.dumps` and `dumps_lines` write what simplejson writes, or refuse what it refuses: NaN, ±Infinity and
-0.0 among other values, integers past 64 bits, nulls beside floats, values orjson refuses in a page of many."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import simplejson
from hypothesis import given, settings
from hypothesis import strategies as st
from schemarel.runtime import exactjson

TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=8)  # lone surrogates and line breaks too
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**70)  # orjson refuses past 64 bits: simplejson writes them
    | st.floats()  # NaN, ±Infinity, -0.0
    | st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.0])
    | st.decimals()  # NaN among them
    | TEXT
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def simplejsons(value: Any) -> str | None:
    """simplejson's text of `value`, or None where it refuses it."""
    try:
        text: str = simplejson.dumps(
            value, use_decimal=True, allow_nan=False, ensure_ascii=False, separators=(",", ":")
        )
    except (ValueError, TypeError):
        return None
    return text


def ours(value: Any) -> str | None:
    try:
        return exactjson.dumps(value)
    except (ValueError, TypeError):
        return None


def same(got: str | None, expected: str | None) -> bool:
    """The same text, or both refused; a float may be spelled otherwise (`1e16`): then the same numbers."""
    if got is None or expected is None:
        return got is expected
    return got == expected or exactjson.loads(got) == exactjson.loads(expected)


@settings(max_examples=400, deadline=None)
@given(value=VALUES)
def test_dumps_writes_or_refuses_as_simplejson(value: Any) -> None:
    assert same(ours(value), simplejsons(value))


@settings(max_examples=200, deadline=None)
@given(values=st.lists(VALUES, max_size=6))
def test_dumps_lines_is_dumps_of_each_then_a_newline(values: list[Any]) -> None:
    """Line by line what `dumps` writes (a page where some value is refused raises, as `dumps` of it does)."""
    expected = [ours(v) for v in values]
    if any(line is None for line in expected):
        with pytest.raises((ValueError, TypeError)):
            exactjson.dumps_lines(values)
        return
    text = exactjson.dumps_lines(values)
    assert text == "".join(f"{line}\n" for line in expected)
    assert text.count("\n") == len(values)


@pytest.mark.parametrize(
    "value",
    [
        {"a": None, "b": float("nan")},
        [None, 1.5, float("-inf")],
        {"a": None, "deep": [[{"x": float("inf")}]]},
        (None, float("nan")),
    ],
)
def test_a_null_beside_a_non_finite_float_is_refused(value: Any) -> None:
    """orjson writes NaN as `null`: a value holding both a null and a NaN is refused (never written as nulls)."""
    with pytest.raises(ValueError):
        exactjson.dumps(value)
    with pytest.raises(ValueError):
        exactjson.dumps_lines([{"ok": None}, value])


def test_nulls_beside_finite_numbers_are_written_by_orjson() -> None:
    """The common case the check exists for: nulls beside finite floats, Decimals and big integers."""
    value = {"a": None, "b": 1.5, "c": Decimal("1.50"), "d": [None, -0.0, 2**64]}
    assert exactjson.dumps(value) == simplejsons(value)
    assert exactjson.dumps_lines([value, None]) == f"{simplejsons(value)}\nnull\n"
