"""CHECK constraints are built as SQLAlchemy objects, never by evaluating text built from a schema; the Python
source written into models and migrations must mean the same expression, on every dialect."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from schemarel.ir import Check
from schemarel.sql import checks
from sqlalchemy.dialects import mysql, postgresql, sqlite

SCALARS = st.one_of(
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
)
RULES = st.one_of(
    st.tuples(st.sampled_from([">=", ">", "<=", "<"]), SCALARS.filter(lambda v: not isinstance(v, str))),
    st.tuples(st.sampled_from(["min_length", "max_length"]), st.integers(0, 10**9)),
    st.tuples(st.just("pattern"), st.text(max_size=10)),
    st.tuples(st.just("in"), st.lists(SCALARS, min_size=1, max_size=5)),
)


def sql(expression: Any, dialect: Any) -> str:
    return str(expression.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


@given(rule=RULES, column=st.text(min_size=1, max_size=8))
def test_expression_is_what_the_generated_source_says(rule: tuple[str, Any], column: str) -> None:
    check = Check("ck", "", column, rule[0], rule[1])
    source = checks.python_source(check)
    from_source = eval(source, {"sa": sa})  # the test reads our own generated source back, as the models do
    pg = postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's psycopg dialect __init__ is unannotated
    for dialect in (pg, sqlite.dialect(), mysql.dialect()):
        try:
            expected = sql(from_source, dialect)
        except Exception as exc:  # a literal a dialect cannot render must fail the same way both ways
            try:
                sql(checks.expression(check), dialect)
            except type(exc):
                continue
            raise
        assert sql(checks.expression(check), dialect) == expected


def test_no_eval_in_checks() -> None:
    import inspect

    assert "eval(" not in inspect.getsource(checks)
