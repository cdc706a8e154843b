"""One table of CHECK rules, three writers: the Python source in models and migrations, the SQLAlchemy expression
the tables are built with, and the PostgreSQL SQL in docs and snapshots say the same thing for any check."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from schemarel.ir import Check
from schemarel.sql.checks import RULES, expression, pg_sql, python_source
from sqlalchemy.dialects import mysql, postgresql, sqlite

# SQLAlchemy's psycopg dialect __init__ is unannotated
DIALECTS = (postgresql.dialect(), sqlite.dialect(), mysql.dialect())  # type: ignore[no-untyped-call]
names = st.one_of(
    st.sampled_from(["order", "user", "Mixed", "a b", 'q"uote', "x"]),
    st.from_regex(r"[a-z_][a-z0-9_]{0,20}", fullmatch=True),
)
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
numbers = st.one_of(st.integers(-(2**40), 2**40), st.floats(allow_nan=False, allow_infinity=False, width=32))


@st.composite
def checks(draw: st.DrawFn) -> Check:
    rule = draw(st.sampled_from(sorted(RULES)))
    value: Any
    if rule in ("min_length", "max_length"):
        value = draw(st.integers(0, 10_000))
    elif rule == "pattern":
        value = draw(texts.filter(bool))
    elif rule == "requires":  # a discriminator's value, and the columns its branch requires
        value = (draw(texts), tuple(draw(st.lists(names, min_size=1, max_size=3))))
    elif rule == "in":
        value = draw(st.one_of(st.lists(texts, min_size=1, max_size=4), st.lists(numbers, min_size=1, max_size=4)))
        if any(isinstance(v, float) for v in value):  # as column_checks makes them: one type per list
            value = [float(v) for v in value]
    else:
        value = draw(numbers)
    return Check("ck", "", draw(names), rule, value)


def compiled(expr: Any, dialect: Any) -> str:
    return str(expr.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


@settings(max_examples=300, deadline=None)
@given(checks())
def test_source_expression_and_sql_agree(check: Check) -> None:
    from_source = eval(python_source(check), {"sa": sa})  # what a generated model evaluates
    built = expression(check)
    for dialect in DIALECTS:
        assert compiled(from_source, dialect) == compiled(built, dialect)
    # `named` parameters: a pyformat driver's compiler doubles `%` in literals, which the SQL itself does not
    named = postgresql.dialect(paramstyle="named")  # type: ignore[no-untyped-call]  # its __init__ is unannotated
    assert pg_sql(check) == compiled(built, named)


def test_every_rule_names_the_keyword_it_enforces() -> None:
    keywords = {rule.keyword for rule in RULES.values()}
    assert keywords == {"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "minLength", "maxLength",
                        "pattern", "enum", "required"}  # fmt: skip
