"""Which stored values a column type change cannot carry over unchanged: the condition `protect_data` counts.

A type change converts every value in place, and the databases differ in what they do with one that does
not fit: PostgreSQL fails (or reads `'yesterday'` as a date), MariaDB rounds `5.5` to 6, SQLite rounds it to
5 and turns `'abc'` into 0, `'maybe'` into false and `'2024-01-01T…'` into 2024. Here a value fits only in
the form every database converts to the same value: digits for an integer (within its range), a decimal
number, `0`/`1` for a boolean, a uuid's hex, one of the target enum's values, an ISO date or time that this
database parses as written (SQLite none: its conversion keeps only a leading number, of a date too), a
date-time at midnight for a date, an integer a double holds exactly.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

TEXTS = ("text", "varchar", "enum")
INTEGERS = {"smallint": (-(2**15), 2**15 - 1), "integer": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)}
NUMBERS = ("float", "numeric")

_DIGITS = "^[+-]?[0-9]{1,30}$"
_NUMBER = "^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]{1,3})?$"
_HEX32 = "^[0-9a-fA-F]{32}$"  # MySQL's uuid column is CHAR(32): the hex alone fits
_UUID = "^([0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
_DATE = "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"  # the day within its month: `_past_month_end`
_TIME = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,6})?"
_OFFSET = "([Zz]|[+-][0-9]{2}(:[0-9]{2})?)"  # PostgreSQL spells its own as `+00`
# the ISO forms each database converts as written: PostgreSQL's timestamptz needs the offset (without one it
# reads the session's time zone), MariaDB's DATETIME refuses one
_TEMPORAL = {
    "postgresql": {"date": f"^{_DATE}$", "datetime": f"^{_DATE}[Tt ]{_TIME}{_OFFSET}$", "time": f"^{_TIME}$"},
    "mysql": {"date": f"^{_DATE}$", "datetime": f"^{_DATE}[T ]{_TIME}$", "time": f"^{_TIME}$"},
}


def unconverted(c: Any, dialect: str, source: str, target: str, args: list[Any]) -> sa.ColumnElement[bool]:
    """The rows whose value in `c` (of kind `source`) the change to `target` would not keep as it is."""
    if source in NUMBERS:  # to an integer: a fraction or a value past the range is rounded or cut
        low, high = INTEGERS[target]
        whole = sa.cast(c, sa.BigInteger) if dialect == "sqlite" else sa.func.floor(c)
        return sa.or_(c != whole, c < float(low), c >= float(high + 1))  # a double: 2**63 - 1 reads as 2**63
    if source in INTEGERS:  # to a double
        return _inexact_double(c)
    if source in ("date", "datetime"):  # SQLite's CAST keeps only the year of either; a time of day is cut
        if dialect == "sqlite":
            return sa.true()
        return sa.cast(c, sa.Date) != c if source == "datetime" else sa.false()
    family = "mysql" if dialect in ("mysql", "mariadb") else dialect
    text = sa.cast(c, sa.Text) if dialect == "postgresql" else c  # a native enum reads as its label
    if family == "mysql":  # compared byte for byte: its collations take 'A' and 'a ' for the enum's 'a'
        text = sa.func.binary(c)
    if target in INTEGERS:
        low, high = INTEGERS[target]
        digits = text.regexp_match(_DIGITS)
        number = sa.cast(sa.case((digits, text), else_=sa.literal("0")), sa.Numeric(31, 0))
        return sa.or_(sa.not_(digits), number < low, number > high)
    if target == "enum":
        return text.not_in(list(args[0]))
    if target == "boolean":  # how each database spells its own booleans as text
        return text.not_in(["0", "1", "true", "false"] if dialect == "postgresql" else ["0", "1"])
    if target in ("date", "datetime", "time"):
        pattern = _TEMPORAL.get(family, {}).get(target)
        if pattern is None:
            return sa.true()
        written = text.regexp_match(pattern)
        return sa.not_(written) if target == "time" else sa.or_(sa.not_(written), _past_month_end(text, written))
    if target == "uuid":
        return sa.not_(text.regexp_match(_HEX32 if family == "mysql" else _UUID))
    return sa.not_(text.regexp_match(_NUMBER))


def _past_month_end(text: Any, written: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """An ISO date (the start of `text`, where `written` holds) whose day its month does not have: 02-30."""

    def part(start: int, length: int) -> sa.ColumnElement[int]:
        return sa.cast(sa.case((written, sa.func.substr(text, start, length)), else_=sa.literal("1")), sa.Integer)

    year, month, day = part(1, 4), part(6, 2), part(9, 2)
    leap = sa.or_(sa.and_(year % 4 == 0, year % 100 != 0), year % 400 == 0)
    february = sa.case((leap, 29), else_=28)
    last = sa.case((month == 2, february), (month.in_([4, 6, 9, 11]), 30), else_=31)
    return sa.and_(written, day > last)


def _inexact_double(c: Any) -> sa.ColumnElement[bool]:
    """An integer a double cannot hold exactly: from 2**53 on, a double keeps 53 significant bits, so a value
    between 2**k and 2**(k+1) must be a multiple of 2**(k-52)."""
    whens = []
    for k in range(53, 63):
        low = 2**k
        if k == 62:  # up to bigint's end (2**63 itself is no bind parameter SQLite takes)
            within = sa.or_(c >= low, c <= -low)
        else:
            within = sa.or_(sa.and_(c >= low, c < 2 * low), sa.and_(c <= -low, c > -2 * low))
        whens.append((within, c % 2 ** (k - 52)))
    return sa.case(*whens, else_=0) != 0
