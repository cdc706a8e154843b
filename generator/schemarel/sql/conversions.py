"""Document values ↔ column values (the conversions `kinds.KINDS` names per kind), and respelled values.

A column keeps a value's meaning in its native type (instants in UTC for ordering and ranges, doubles, uuids),
which does not keep its spelling: an offset, a ninth fraction digit, a lower-case `t`, trailing zeros, the
digits a double cannot hold. `respelled` says when the column's canonical rendering differs from the text the
document gave; the runtime then keeps that text beside the row (the table's spelling column) and returns it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal, localcontext
from typing import Any

from schemarel.sql.types import SPELLED_KINDS

UTC = dt.timezone.utc
# int, Decimal and float arrive in documents: Decimal from the exact parser, float from Python callers
NUMBER_KINDS = frozenset({"smallint", "integer", "bigint", "float", "numeric"})
INT_BOUNDS = {"smallint": 2**15, "integer": 2**31, "bigint": 2**63}
_EXACT_FLOAT = 2**53  # integers up to this are read back from a double as int


def json_number(value: Any) -> Any:
    """A number as the exact parser gives it: an int, or a Decimal that does not write itself as an int
    (a float is the Decimal of its repr)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a JSON number")
        value = Decimal(repr(value))
    if isinstance(value, Decimal) and value.is_finite() and str(value).lstrip("-").isdigit():
        return int(value)
    return value


def _finite(value: Any) -> Decimal | int:
    value = json_number(value)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"{value!r} is not a number")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"{value} is not a JSON number")
    return value


def integer_in(kind: str) -> Callable[[Any], int]:
    bound = INT_BOUNDS[kind]

    def to_db(value: Any) -> int:
        number = _finite(value)
        if isinstance(number, Decimal) and number != number.to_integral_value():
            raise ValueError(f"{number} is not an integer")
        if not -bound <= number < bound:
            raise ValueError(f"{number} is out of the range of a {kind} column")
        return int(number)

    return to_db


def float_in(value: Any) -> float:
    number = _finite(value)
    try:
        result = float(number)
    except OverflowError:  # an int of more than 309 digits
        result = math.inf
    if math.isinf(result):
        raise ValueError(f"{number} is out of the range of a double column (±1.8E+308)")
    return result


def float_out(value: float) -> int | Decimal:
    if value.is_integer():  # most values: one test (NaN and the infinities have no integer part either)
        return int(value) if abs(value) < _EXACT_FLOAT else Decimal(repr(value))
    if not math.isfinite(value):  # PostgreSQL's and SQLite's doubles hold them (another program wrote them)
        raise ValueError(f"{value} is not a JSON number")
    return Decimal(repr(value))


def numeric_in(precision: int | None, scale: int | None) -> Callable[[Any], Decimal]:
    def to_db(value: Any) -> Decimal:
        number = Decimal(_finite(value))
        if precision is not None and number and number.adjusted() + 1 > precision - (scale or 0):
            raise ValueError(f"{number} is out of the range of numeric({precision}, {scale})")
        with localcontext(prec=(precision or 0) + 10):  # the default 28 digits are fewer than numeric(38, s)
            if scale is not None and number != number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_DOWN):
                raise ValueError(f"{number} has more than {scale} decimal places (numeric({precision}, {scale}))")
        return number

    return to_db


def numeric_out(scale: int | None) -> Callable[[Decimal], int | Decimal]:
    def from_db(value: Any) -> int | Decimal:
        # a double by its shortest text (SQLite's column holds doubles), text as written (another program's)
        number = value if isinstance(value, Decimal) else Decimal(value if isinstance(value, str) else repr(value))
        if not number.is_finite():  # PostgreSQL's numeric holds NaN, SQLite's column ±Infinity as a double
            raise ValueError(f"{number} is not a JSON number")
        if scale == 0:
            return int(number)
        if scale is None:
            return number
        with localcontext(prec=100):
            return number.quantize(Decimal(1).scaleb(-scale))

    return from_db


def _zulu(value: str) -> str:
    return value[:-1] + "+00:00" if value[-1:] in ("Z", "z") else value


def datetime_in(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(_zulu(value))
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def datetime_out(value: dt.datetime) -> str:
    # SQLite and MariaDB hand back naive values: they were written in UTC
    aware = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.isoformat().replace("+00:00", "Z")


def time_in(value: str) -> dt.time:
    parsed = dt.time.fromisoformat(_zulu(value))
    if parsed.tzinfo is None:
        return parsed
    return dt.datetime.combine(dt.date(2000, 1, 1), parsed).astimezone(UTC).time()


Conversion = tuple[Callable[[Any], Any], Callable[[Any], Any]]  # (document → column, column → document)


def time_out(value: dt.time) -> str:
    return value.isoformat() + "Z"


def respelled(kind: str, value: Any, stored: Any, from_db: Callable[[Any], Any]) -> str | None:
    """The document's own text for `value` when the column would give it back otherwise; else None.

    Numbers: a double gives back the shortest digits of its value, numeric(p, s) exactly s decimal places, and
    SQLite keeps numeric values as doubles; so a number is kept when any of those would differ from its text.
    """
    if kind not in SPELLED_KINDS:
        return None
    if kind in NUMBER_KINDS:
        number = json_number(value)
        back = from_db(stored)
        if kind == "numeric" and isinstance(back, Decimal) and Decimal(repr(float(back))) != back:
            return str(number)  # SQLite would return the double nearest to it
        same = type(back) is type(number) and str(back) == str(number)
        return None if same else str(number)
    return None if from_db(stored) == value else value
