"""CHECK constraints from validation keywords: which ones, and their SQL as SQLAlchemy builds it per dialect.

A check is kept in the IR as (column, rule, value). `python_source` spells it as a SQLAlchemy expression for
models and migrations, and `expression` builds the same expression as objects (schema text is never evaluated
as code); tests/test_checks.py holds the two to one another. SQLAlchemy then writes each dialect's SQL:
`char_length(x)` is `length(x)` on SQLite, string literals are quoted the dialect's way.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from schemarel import naming
from schemarel.ir import Check, ColumnType
from schemarel.sql.regex import to_postgres

_COMPARISONS = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}
_SUFFIX = {">=": "min", ">": "min", "<=": "max", "<": "max", "in": "enum", "min_length": "min_length",
           "max_length": "max_length", "pattern": "pattern"}  # fmt: skip
# Rules only some dialects can express: a CHECK with one is created there alone (DDL `ddl_if`).
DIALECT_ONLY = {"pattern": ("postgresql",)}
_TEXT_KINDS = {"text", "varchar"}


_OPERATORS: Mapping[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt
}  # fmt: skip


def column_checks(table: str, column: str, kind: str, kw: Mapping[str, Any], ctype: ColumnType) -> list[Check]:
    """The checks a scalar column of JSON type `kind` gets from its keywords (enum values and bounds are
    known to fit the column's type: `normalize` refuses those that do not)."""
    rules: list[tuple[str, Any]] = []
    if kind in ("integer", "number"):
        rules += [(op, kw[key]) for key, op in _COMPARISONS.items() if _is_number(kw.get(key))]
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
        suffix = _SUFFIX[rule]
        if suffix in seen:
            continue
        seen.add(suffix)
        check = Check(naming.ck_name(table, f"{column}_{suffix}"), "", column, rule, value)
        checks.append(Check(check.name, pg_sql(check), column, rule, value))
    return checks


def python_source(check: Check) -> str:
    """The check's condition as a SQLAlchemy expression in Python source (`sa.` is SQLAlchemy)."""
    if not check.rule:  # a condition given as SQL text (hand-made IR): used as it is
        return repr(check.sqltext)
    col = f"sa.column({check.column!r})"
    value = check.value
    if check.rule == "min_length":
        return f"sa.func.char_length({col}) >= {value!r}"
    if check.rule == "max_length":
        return f"sa.func.char_length({col}) <= {value!r}"
    if check.rule == "pattern":
        return f"{col}.regexp_match({value!r})"
    if check.rule == "in":
        return f"{col}.in_([{', '.join(map(_py_literal, value))}])"
    return f"{col} {check.rule} {_py_literal(value)}"


def _py_literal(value: Any) -> str:
    """A JSON scalar as a Python literal (`repr` would write an infinite float as `inf`, a NameError)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    return repr(value)


def constraint_source(check: Check, name: str) -> str:
    """`sa.CheckConstraint(...)` in Python source, limited to its dialects when the rule needs that."""
    source = f"sa.CheckConstraint({python_source(check)}, name={name})"
    dialects = DIALECT_ONLY.get(check.rule)
    if dialects:
        source += f".ddl_if(dialect={dialects[0]!r})" if len(dialects) == 1 else f".ddl_if(dialect={dialects!r})"
    return source


def expression(check: Check) -> Any:
    """The condition as a SQLAlchemy expression (or text)."""
    import sqlalchemy as sa  # not at import: `schemarel check` runs without SQLAlchemy

    if not check.rule:
        return sa.text(check.sqltext)
    col = sa.column(check.column)
    value = check.value
    if check.rule == "min_length":
        return sa.func.char_length(col) >= value
    if check.rule == "max_length":
        return sa.func.char_length(col) <= value
    if check.rule == "pattern":
        return col.regexp_match(value)
    if check.rule == "in":
        return col.in_(list(value))
    return _OPERATORS[check.rule](col, value)


def constraint(check: Check) -> Any:
    """The check as a `sa.CheckConstraint` (carrying the IR check for the migration renderer)."""
    import sqlalchemy as sa
    from sqlalchemy.sql.elements import conv

    result = sa.CheckConstraint(expression(check), name=conv(check.name), info={"schemarel_check": check})
    dialects = DIALECT_ONLY.get(check.rule)
    return result.ddl_if(dialect=dialects if len(dialects) > 1 else dialects[0]) if dialects else result


def pg_sql(check: Check) -> str:
    """The condition as SQLAlchemy compiles it for PostgreSQL (docs, snapshots), spelled without SQLAlchemy."""
    col = _pg_name(check.column)
    value = check.value
    if check.rule == "min_length":
        return f"char_length({col}) >= {value}"
    if check.rule == "max_length":
        return f"char_length({col}) <= {value}"
    if check.rule == "pattern":
        return f"{col} ~ {_pg_literal(value)}"
    if check.rule == "in":
        return f"{col} IN ({', '.join(_pg_literal(v) for v in value)})"
    return f"{col} {check.rule} {_pg_literal(value)}"


# SQLAlchemy's PostgreSQL reserved words (tests/test_checks.py holds this copy to them): such names are quoted
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
