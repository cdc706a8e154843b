"""`values.problems`' quick pass (`_clean`) never clears a value the full pass finds a problem in."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
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
