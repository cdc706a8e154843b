"""CHECK constraints from validation keywords: one table of rules, written as Python source, SQLAlchemy and SQL.

A check is kept in the IR as (column, rule, value). `RULES` says once what each rule is: the keyword it
enforces, the SQL function applied to the column (if any), the comparison, the dialects that can express it.
From that row, `python_source` writes the SQLAlchemy expression that models and migrations contain,
`expression` builds the same expression for the tables SQLAlchemy creates, and `pg_sql` spells it as
SQLAlchemy compiles it for PostgreSQL (docs, snapshots) without importing SQLAlchemy. SQLAlchemy then writes
each dialect's SQL: `char_length(x)` is `length(x)` on SQLite, string literals are quoted the dialect's way.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from schemarel import naming
from schemarel.ir import Check, ColumnType
from schemarel.sql.regex import to_postgres


@dataclass(frozen=True)
class Rule:
    """What one kind of CHECK compares: `func(column) op value` (`~` is a regular expression match)."""

    keyword: str  # the JSON Schema keyword it enforces
    suffix: str  # of the constraint's name: one check per suffix and column
    op: str  # ">=", ">", "<=", "<", "~" or "in"
    func: str | None = None  # an SQL function of the column, compared instead of it
    dialects: tuple[str, ...] = ()  # the only dialects that can express it (DDL `ddl_if`); () for all


# rule (`Check.rule`, as snapshots record it) → what it is
RULES: Mapping[str, Rule] = {
    ">=": Rule("minimum", "min", ">="),
    ">": Rule("exclusiveMinimum", "min", ">"),
    "<=": Rule("maximum", "max", "<="),
    "<": Rule("exclusiveMaximum", "max", "<"),
    "min_length": Rule("minLength", "min_length", ">=", func="char_length"),
    "max_length": Rule("maxLength", "max_length", "<=", func="char_length"),
    "pattern": Rule("pattern", "pattern", "~", dialects=("postgresql",)),
    "in": Rule("enum", "enum", "in"),
    # `value` is (v, [columns]): where the column (a discriminator) is v, each of the columns is set
    "requires": Rule("required", "requires", "requires"),
}
RULE_OF_KEYWORD = {rule.keyword: name for name, rule in RULES.items()}
# Rules only some dialects can express: a CHECK with one is created there alone (DDL `ddl_if`).
DIALECT_ONLY = {name: rule.dialects for name, rule in RULES.items() if rule.dialects}
_COMPARE: Mapping[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt
}  # fmt: skip
_BOUNDS = (">=", ">", "<=", "<")
_TEXT_KINDS = {"text", "varchar"}


def column_checks(table: str, column: str, kind: str, kw: Mapping[str, Any], ctype: ColumnType) -> list[Check]:
    """The checks a scalar column of JSON type `kind` gets from its keywords (enum values and bounds are
    known to fit the column's type: `normalize` refuses those that do not)."""
    rules: list[tuple[str, Any]] = []
    if kind in ("integer", "number"):
        rules += [(name, kw[RULES[name].keyword]) for name in _BOUNDS if _is_number(kw.get(RULES[name].keyword))]
    if ctype.kind in _TEXT_KINDS:
        if _is_int(kw.get("minLength")) and kw["minLength"] > 0:
            rules.append(("min_length", kw["minLength"]))
        if ctype.kind == "text" and _is_int(kw.get("maxLength")):
            rules.append(("max_length", kw["maxLength"]))
        pattern = to_postgres(kw["pattern"]) if isinstance(kw.get("pattern"), str) else None
        if pattern is not None:  # the rule holds the PostgreSQL spelling of the ECMA-262 pattern
            rules.append(("pattern", pattern))
    values = [v for v in kw.get("enum", []) if v is not None]
    if any(isinstance(v, float) for v in values):  # SQLAlchemy renders an IN list in the type of its first value
        values = [float(v) for v in values]
    if ctype.kind != "enum" and values and kind in ("integer", "number", "string"):
        rules.append(("in", values))
    seen: set[str] = set()
    checks = []
    for rule, value in rules:
        suffix = RULES[rule].suffix
        if suffix in seen:
            continue
        seen.add(suffix)
        check = Check(naming.ck_name(table, f"{column}_{suffix}"), "", column, rule, value)
        checks.append(Check(check.name, pg_sql(check), column, rule, value))
    return checks


def case_check(table: str, column: str, number: int, value: str, columns: list[str]) -> Check:
    """`column = value → each of columns IS NOT NULL`: what one branch of a discriminated union requires."""
    check = Check(naming.ck_name(table, f"{column}_case_{number}"), "", column, "requires", (value, tuple(columns)))
    return Check(check.name, pg_sql(check), column, check.rule, check.value)


def python_source(check: Check) -> str:
    """The check's condition as a SQLAlchemy expression in Python source (`sa.` is SQLAlchemy)."""
    if not check.rule:  # a condition given as SQL text (hand-made IR): used as it is
        return repr(check.sqltext)
    rule = RULES[check.rule]
    subject = f"sa.column({check.column!r})"
    if rule.op == "requires":
        value, columns = check.value
        present = ", ".join(f"sa.column({c!r}).is_not(None)" for c in columns)
        return f"sa.or_({subject} != {_py_literal(value)}, sa.and_({present}))"
    subject = f"sa.func.{rule.func}({subject})" if rule.func else subject
    if rule.op == "~":
        return f"{subject}.regexp_match({check.value!r})"
    if rule.op == "in":
        return f"{subject}.in_([{', '.join(map(_py_literal, check.value))}])"
    return f"{subject} {rule.op} {_py_literal(check.value)}"


def _py_literal(value: Any) -> str:
    """A JSON scalar as a Python literal (`repr` would write an infinite float as `inf`, a NameError)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    return repr(value)


def expression(check: Check) -> Any:
    """The condition as a SQLAlchemy expression (or text): what `python_source` writes, built."""
    import sqlalchemy as sa  # not at import: `schemarel check` runs without SQLAlchemy

    if not check.rule:
        return sa.text(check.sqltext)
    rule = RULES[check.rule]
    subject: Any = sa.column(check.column)
    if rule.op == "requires":
        value, columns = check.value
        return sa.or_(subject != value, sa.and_(*(sa.column(c).is_not(None) for c in columns)))
    subject = getattr(sa.func, rule.func)(subject) if rule.func else subject
    if rule.op == "~":
        return subject.regexp_match(check.value)
    if rule.op == "in":
        return subject.in_(list(check.value))
    return _COMPARE[rule.op](subject, check.value)


def pg_sql(check: Check) -> str:
    """The condition as SQLAlchemy compiles it for PostgreSQL (docs, snapshots), spelled without SQLAlchemy."""
    rule = RULES[check.rule]
    subject = _pg_name(check.column)
    if rule.op == "requires":
        value, columns = check.value
        present = " AND ".join(f"{_pg_name(c)} IS NOT NULL" for c in columns)
        return f"{subject} != {_pg_literal(value)} OR {present}"
    subject = f"{rule.func}({subject})" if rule.func else subject
    if rule.op == "in":
        return f"{subject} IN ({', '.join(_pg_literal(v) for v in check.value)})"
    return f"{subject} {rule.op} {_pg_literal(check.value)}"  # `~` is PostgreSQL's operator too


def constraint_source(check: Check, name: str) -> str:
    """`sa.CheckConstraint(...)` in Python source, limited to its dialects when the rule needs that."""
    source = f"sa.CheckConstraint({python_source(check)}, name={name})"
    dialects = DIALECT_ONLY.get(check.rule)
    if dialects:
        source += f".ddl_if(dialect={dialects[0]!r})" if len(dialects) == 1 else f".ddl_if(dialect={dialects!r})"
    return source


def constraint(check: Check) -> Any:
    """The check as a `sa.CheckConstraint` (carrying the IR check for the migration renderer)."""
    import sqlalchemy as sa
    from sqlalchemy.sql.elements import conv

    result = sa.CheckConstraint(expression(check), name=conv(check.name), info={"schemarel_check": check})
    dialects = DIALECT_ONLY.get(check.rule)
    if not dialects:
        return result
    # `dialect` takes a name or a tuple of names (SQLAlchemy's stubs know only the first)
    return result.ddl_if(dialect=dialects[0] if len(dialects) == 1 else cast(Any, dialects))


# SQLAlchemy's PostgreSQL reserved words (tests/test_mapping.py holds this copy to them): such names are quoted
PG_RESERVED = frozenset(
    """all analyse analyze and any array as asc asymmetric authorization between binary both case cast check collate
    column constraint create cross current_catalog current_date current_role current_schema current_time
    current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign
    freeze from full grant group having ilike in initially inner intersect into is isnull join leading left like
    limit localtime localtimestamp natural new not notnull null of off offset old on only or order outer over
    overlaps placing primary references returning right select session_user similar some symmetric table then to
    trailing true union unique user using variadic verbose when where window with""".split()  # noqa: SIM905
)


def _pg_name(name: str) -> str:
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) and name not in PG_RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def _pg_literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
