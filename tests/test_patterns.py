"""`pattern` CHECKs on the real PostgreSQL server say what the validator says, string by string.

Every pattern of the corpus and patterns hypothesis builds from ECMA-262's syntax are translated
(`schemarel.sql.regex`); for strings that match and strings that do not, `s ~ translated` on PostgreSQL must
equal jsonschema-rs's verdict on the ECMA-262 pattern. A pattern with no translation gets no CHECK (and
a warning), which is safe; one whose translation PostgreSQL refuses or reads differently fails here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import sqlalchemy as sa
from conftest import SHARED, edit_schema, require_shared, run_schemarel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemarel.sql.regex import to_postgres

# characters where ECMA-262 and PostgreSQL's defaults part: line terminators, Unicode spaces and digits,
# letters outside ASCII, astral code points, and the class syntax characters
ALPHABET = "aAbz09_-.~ \t\n\r\u2028\u00a0\u0663é😀[]^\\/{},:"
SOME_TEXT = st.text(alphabet=ALPHABET, max_size=12) | st.text(max_size=12)


@pytest.fixture
def pg(postgres_url: str) -> Iterator[sa.Connection]:
    engine = sa.create_engine(postgres_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def _validator(pattern: str) -> Any:
    try:
        return jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
    except ValueError:  # not a pattern the validator accepts: no document could be checked against it
        return None


def _postgres_verdicts(conn: sa.Connection, translated: str, strings: list[str]) -> list[bool]:
    query = sa.text(
        "SELECT coalesce(array_agg(s ~ :p ORDER BY i), '{}') FROM unnest(CAST(:ss AS text[])) WITH ORDINALITY t(s, i)"
    )
    return list(conn.execute(query, {"p": translated, "ss": strings}).scalar_one())


def _candidates(pattern: str) -> st.SearchStrategy[str]:
    """Strings around the pattern: Python's reading of it (mostly matches), and mutations and noise (mostly not)."""
    try:
        re.compile(pattern)
        near = st.from_regex(pattern, fullmatch=False)
    except re.error:
        near = SOME_TEXT
    # one character of a near string swapped for a character where the dialects part, or text spliced in
    swapped = st.tuples(near, st.sampled_from(ALPHABET), st.integers(0, 12)).map(lambda t: _splice(*t))
    spliced = st.tuples(near, SOME_TEXT, st.integers(0, 12)).map(lambda t: _splice(*t))
    return st.one_of(near, swapped, swapped, spliced, SOME_TEXT).filter(lambda s: "\x00" not in s)


def _splice(text: str, part: str, at: int) -> str:
    at = at % (len(text) + 1)
    return text[:at] + part + text[at + 1 :]


def _agree(conn: sa.Connection, pattern: str, strings: list[str]) -> tuple[int, int]:
    """Assert PostgreSQL's verdicts equal the validator's; returns (matching, not matching) counts."""
    validator = _validator(pattern)
    translated = to_postgres(pattern)
    if validator is None or translated is None:
        return 0, 0
    expected = [validator.is_valid(s) for s in strings]
    got = _postgres_verdicts(conn, translated, strings)
    wrong = [(s, e) for s, e, g in zip(strings, expected, got, strict=True) if e != g]
    assert not wrong, f"{pattern!r} → {translated!r}: PostgreSQL disagrees on {wrong[:5]} (validator's verdict)"
    return sum(expected), len(expected) - sum(expected)


def _corpus_patterns() -> list[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            found.update(v for k, v in node.items() if k == "pattern" and isinstance(v, str))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for path in sorted(require_shared(SHARED / "corpus").glob("*.schema.json")):
        walk(json.loads(path.read_text(encoding="utf-8")))
    return sorted(found)


def _strings_agree(pg: sa.Connection, pattern: str, totals: list[int]) -> Any:
    """A hypothesis test of one pattern: lists of strings around it, verdicts counted into `totals`."""

    @settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strings=st.lists(_candidates(pattern), min_size=1, max_size=25))
    def check(strings: list[str]) -> None:
        for i, n in enumerate(_agree(pg, pattern, strings)):
            totals[i] += n

    return check


def test_every_corpus_pattern_means_the_same_on_postgresql(pg: sa.Connection) -> None:
    patterns = _corpus_patterns()
    totals = [0, 0]
    translated = 0
    for pattern in patterns:
        translated += to_postgres(pattern) is not None
        _strings_agree(pg, pattern, totals)()
    assert translated >= len(patterns) * 0.9, f"only {translated} of {len(patterns)} corpus patterns translate"
    assert min(totals) > 100, totals  # both verdicts were exercised, many times


# ECMA-262 pattern syntax, biased to the places the dialects part
_CHARS = st.sampled_from(list("ab-_.~0 é😀/:") + ["\\.", "\\-", "\\\\", "\\/", "\\n", "\\t", "\\u00e9", "\\x41"])
_SHORTHANDS = st.sampled_from(["\\d", "\\D", "\\w", "\\W", "\\s", "\\S"])
_CLASS_ITEM = st.one_of(
    st.sampled_from(list("abz09-_.~^[:/é") + ["\\]", "\\\\", "\\-", "\\u2028", "\\d", "\\w", "\\s", "\\S"]),
    st.sampled_from(["a-z", "0-9", "A-Z", "a-c", "!-/", "\\u00a0-\\u00ff", "\\x20-\\x7e"]),
)
_CLASS = st.builds(
    lambda neg, items: "[" + "^" * neg + "".join(items) + "]",
    st.booleans(),
    st.lists(_CLASS_ITEM, min_size=1, max_size=5),
)
_QUANT = st.sampled_from(["", "", "*", "+", "?", "{2}", "{1,3}", "{0,}", "*?", "+?", "{2,}?"])
_ATOM = st.one_of(_CHARS, _SHORTHANDS, _CLASS, st.just("."), st.just("{"), st.just("}"))


def _patterns() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        seq = st.lists(inner, min_size=1, max_size=4).map("".join)
        alt = st.lists(seq, min_size=1, max_size=3).map("|".join)
        group = st.one_of(alt.map(lambda a: f"({a})"), alt.map(lambda a: f"(?:{a})"), alt.map(lambda a: f"(?<g>{a})"))
        return st.tuples(group, _QUANT).map("".join) | seq  # a quantifier applies to an atom or a group only

    body = st.recursive(st.tuples(_ATOM, _QUANT).map("".join), extend, max_leaves=6)
    return st.tuples(st.sampled_from(["", "^"]), body, st.sampled_from(["", "$"])).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), pattern=_patterns())
def test_generated_patterns_mean_the_same_on_postgresql(pg: sa.Connection, pattern: str, data: st.DataObject) -> None:
    strings = data.draw(st.lists(_candidates(pattern), min_size=1, max_size=20))
    _agree(pg, pattern, strings)


EVERY_CHARACTER = [chr(c) for c in (*range(1, 0xD800), *range(0xE000, 0x10000), 0x1F600, 0x10FFFF)]


@pytest.mark.parametrize(
    "pattern", ["^.$", "^\\d$", "^\\D$", "^\\w$", "^\\W$", "^\\s$", "^\\S$", "^[\\S\\d]$", "^[^\\W_]$"]
)
def test_character_sets_agree_on_every_code_point(pg: sa.Connection, pattern: str) -> None:
    """`.` and the shorthand classes are where the dialects part most: every BMP character is tried."""
    matching, _ = _agree(pg, pattern, EVERY_CHARACTER)
    assert 0 < matching < len(EVERY_CHARACTER)


@pytest.mark.parametrize("pattern", ["\\bword", "(a)\\1", "a{1,300}", "x\\B", "(?=a)b", "^[a-z0-9-_.~]+$"])
def test_an_untranslatable_pattern_gets_no_check_and_a_located_warning(project: Path, pattern: str) -> None:
    edit_schema(project, lambda s: s["properties"].update(code={"type": "string", "pattern": pattern}))

    result = run_schemarel(project, "generate")

    assert result.returncode == 0, result.stderr
    model = (project / "generated/models/customer.py").read_text(encoding="utf-8")
    if pattern.endswith("$"):  # the control: it translates, so it has its CHECK and no warning
        assert "code_pattern" in model and "no CHECK" not in result.stderr
        return
    assert f"#/properties/code/pattern: no CHECK for pattern {pattern!r}" in result.stderr
    assert "code_pattern" not in model


def test_the_issues_pattern_accepts_its_documents_on_postgresql(pg: sa.Connection) -> None:
    translated = to_postgres("^[a-z0-9-_.~]+$")
    assert translated is not None
    assert _postgres_verdicts(pg, translated, ["a-b_c.d~e", "A", "a b", "-"]) == [True, False, False, True]
