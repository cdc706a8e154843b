"""A number with no fraction (`1.0`, `1e2`, `10E-1`) is an integer to JSON Schema: it passes validation of an
`integer` property, so it must land in the integer column (range checked, found by filters, a required one not
NULL), and one with a huge exponent (`1e999999999`) must be refused in the time it takes to read it."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projects import write_project
from runtime_helpers import open_store
from schemarel.errors import DocumentInvalid, ValueRejected
from schemarel.runtime import exactjson
from schemarel.runtime.store import Store

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Tally",
    "type": "object",
    "required": ["seq"],
    "properties": {
        "seq": {"type": "integer"},
        "count": {"type": "integer"},
        "either": {"type": ["string", "integer"]},
        "ratio": {"type": "number"},
        "text": {"type": "string"},
    },
}
SETTINGS = settings(
    deadline=None, database=None, max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
INT64 = st.integers(-(2**63), 2**63 - 1)


@pytest.fixture
def tallies(tmp_path: Path, three_db_url: str) -> Store:
    write_project(tmp_path, {"tally": SCHEMA})
    return open_store(three_db_url, "tally", tmp_path / "schemas")


@st.composite
def spelled(draw: st.DrawFn, number: int) -> Decimal:
    """`number` as a JSON number with a fraction part or an exponent (`5.0`, `5e0`, `50E-1`, `0.5e1`)."""
    digits = str(abs(number)) + "0" * draw(st.integers(0, 3))
    zeros = len(digits) - len(str(abs(number)))
    point = draw(st.integers(1, len(digits)))
    exponent = len(digits) - point - zeros
    text = f"{digits[:point]}.{digits[point:] or '0'}" + (f"e{exponent}" if exponent or draw(st.booleans()) else "")
    text = ("-" if number < 0 else "") + text
    value = exactjson.loads(text)
    assert value == number, text
    return value if isinstance(value, Decimal) else Decimal(text)


def test_an_integer_spelled_with_a_fraction_lands_in_its_column(tallies: Store) -> None:
    @SETTINGS
    @given(st.data(), INT64, st.sampled_from(["seq", "count", "either"]))
    def create(data: st.DataObject, number: int, where: str) -> None:
        value = data.draw(spelled(number))
        document = {"seq": value} if where == "seq" else {"seq": 1, where: value}
        doc_id = tallies.create(document)
        stored = tallies.get(doc_id)
        assert stored[where] == number and type(stored[where]) is int, stored
        if where != "either":  # a filter on a union's path reads its first column only (not this defect)
            assert doc_id in {found for found, _ in tallies.find({where: number})}
        tallies.delete(doc_id)

    create()


def test_an_integer_out_of_range_in_any_spelling_is_refused_naming_its_column(tallies: Store) -> None:
    @SETTINGS
    @given(
        st.one_of(
            st.integers(2**63, 2**70), st.integers(-(2**70), -(2**63) - 1), st.sampled_from([10**30, 10**4000])
        ).map(lambda n: Decimal(f"{n}.0")),
        st.sampled_from(["seq", "count", "either"]),
    )
    def create(value: Decimal, where: str) -> None:
        document = {"seq": value} if where == "seq" else {"seq": 1, where: value}
        with pytest.raises(ValueRejected, match="out of the range of a bigint column"):
            tallies.create(document)
        assert len(tallies) == 0

    create()


@pytest.mark.parametrize("where", ["seq", "count", "either", "ratio", "text"])
def test_a_huge_exponent_is_refused_at_once(tallies: Store, where: str) -> None:
    value = exactjson.loads("-1e999999999" if where == "either" else "1e999999999")
    document = {"seq": value} if where == "seq" else {"seq": 1, where: value}
    start = time.perf_counter()
    with pytest.raises((DocumentInvalid, ValueRejected)) as caught:
        tallies.create(document)
    assert time.perf_counter() - start < 5
    assert where in str(caught.value)
    assert len(tallies) == 0
