"""protect_data refuses exactly when stored data does not fit, naming table, column, values and row counts.

Random tables of values (enum labels, strings, integers, NULLs) on SQLite, with random targets (the
values an enum keeps, a varchar length, an integer range, NOT NULL): the check through Alembic's own
`op` on a real database refuses iff some row does not fit, with the exact count, and changes nothing;
a dropped column's data only warns.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemarel.naming import counted
from schemarel.support import DataLoss, protect_data

LABELS = ["mobile", "home", "work", "other", "fax", "it's"]
texts = st.one_of(st.none(), st.text(alphabet="ab'é-", max_size=12))
integers = st.one_of(st.none(), st.integers(-(2**40), 2**40))


def _run(values: list[Any], check: tuple[Any, ...]) -> tuple[str | None, list[Any]]:
    """Rows holding `values` in `t.c`, then protect_data(check): the refusal (or None) and the rows after."""
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, c)")
        if values:
            conn.execute(sa.text("INSERT INTO t (c) VALUES (:c)"), [{"c": v} for v in values])
        op = Operations(MigrationContext.configure(conn))
        try:
            protect_data(op, "0042", "downgrade", [check])
            refusal = None
        except DataLoss as exc:
            refusal = str(exc)
        after = list(conn.scalars(sa.text("SELECT c FROM t ORDER BY id")))
    engine.dispose()
    return refusal, after


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.none(), st.sampled_from(LABELS)), max_size=12), st.sets(st.sampled_from(LABELS)))
def test_enum_values_in_use(values: list[str | None], removed: set[str]) -> None:
    refusal, after = _run(values, ("enum_values", "t", "c", sorted(removed)))
    hits = [v for v in values if v in removed]
    assert after == values
    if not hits:
        assert refusal is None
        return
    assert refusal is not None and "revision 0042 (downgrade) refused before changing anything" in refusal
    assert "`t.c` holds " in refusal and f"in {counted(len(hits), 'row')}" in refusal
    for value in set(hits):
        assert f"{value!r} ({hits.count(value)})" in refusal


@settings(max_examples=150, deadline=None)
@given(st.lists(texts, max_size=12), st.integers(0, 10))
def test_text_longer_than_a_narrowed_varchar(values: list[str | None], length: int) -> None:
    refusal, after = _run(values, ("max_length", "t", "c", length))
    long = [v for v in values if v is not None and len(v) > length]
    assert after == values
    assert (refusal is None) == (not long)
    if long:
        assert refusal is not None
        assert f"`t.c` holds {counted(len(long), 'value')} longer than {length} characters" in refusal
        assert f"(longest {max(len(v) for v in long)})" in refusal


@settings(max_examples=150, deadline=None)
@given(st.lists(integers, max_size=12), st.sampled_from([(-(2**15), 2**15 - 1), (-(2**31), 2**31 - 1)]))
def test_numbers_outside_a_narrowed_integer(values: list[int | None], bounds: tuple[int, int]) -> None:
    refusal, _ = _run(values, ("range", "t", "c", *bounds))
    outside = [v for v in values if v is not None and not bounds[0] <= v <= bounds[1]]
    assert (refusal is None) == (not outside)
    if outside:
        assert refusal is not None
        assert f"`t.c` holds {counted(len(outside), 'value')} outside {bounds[0]}..{bounds[1]}" in refusal


@settings(max_examples=100, deadline=None)
@given(st.lists(texts, max_size=12))
def test_nulls_where_not_null_comes_back(values: list[str | None]) -> None:
    refusal, _ = _run(values, ("not_null", "t", "c"))
    nulls = values.count(None)
    assert (refusal is None) == (nulls == 0)
    if nulls:
        assert refusal is not None
        assert f"`t.c` is NULL in {counted(nulls, 'row')}: the target schema makes it NOT NULL" in refusal


@pytest.mark.parametrize("column", ["c", None])
def test_dropped_data_only_warns(column: str | None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="schemarel.migrate"):
        refusal, after = _run(["a", None, "b"], ("drops", "t", column))
    assert refusal is None and after == ["a", None, "b"]
    rows = 2 if column else 3
    assert f"revision 0042 downgrade: `{'t.c' if column else 't'}` holds data in {counted(rows, 'row')}" in caplog.text


@settings(max_examples=50, deadline=None)
@given(st.lists(texts, max_size=12))
def test_a_required_column_added_to_a_table_with_rows_is_refused(values: list[str | None]) -> None:
    """Any row refuses: the new column would have no value in it (MySQL fills '' or 0 without a word)."""
    refusal, after = _run(values, ("added_required", "t", "code"))
    assert after == values
    assert (refusal is None) == (not values)
    if values:
        assert refusal is not None
        assert f"`t.code` is added NOT NULL without a default, and its table holds {counted(len(values), 'row')}" in (
            refusal
        )
