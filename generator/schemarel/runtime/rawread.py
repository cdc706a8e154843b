"""Column kinds read as the driver gives them, where SQLAlchemy's result processing would read a stored value no
column of the kind holds as one it does.

SQLite's and MariaDB's booleans are integers (SQLite's any value): SQLAlchemy reads `bool()` of them, so 7, -1
and 'yes' read as true; MariaDB's TIME is an interval (-838:59:59 to 838:59:59) and SQLAlchemy keeps its time of
day, so 838:59:59 reads as 22:59:59; SQLite's text columns hold BLOBs too, which read as bytes (no JSON value).
Such values come from another program. These columns are selected without SQLAlchemy's processing
(`DocumentMap.select`) and decoded here, the decoder refusing what no value of the kind is: one call per value
(in C but for MariaDB's TIME, whose Python processor it replaces), so reads cost about what they did.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from schemarel.sql.conversions import time_out
from schemarel.sql.kinds import MYSQL

Decode = Callable[[Any], Any]


class _Booleans(dict[Any, bool]):
    """The two integers a boolean column holds, by value; any other is refused (`__missing__`)."""

    def __missing__(self, value: Any) -> bool:
        raise ValueError(f"{value!r} is no boolean (a boolean column holds 0 or 1)")


# a dict's own lookup (C) per value; 1.0 is 1 here, as SQLite's numeric affinity stores it anyway
boolean: Decode = _Booleans({0: False, 1: True}).__getitem__

# a str as it is; anything else (bytes) refused with TypeError: the cheapest check there is (about 30 ns)
text: Decode = str.__str__

_DAY = dt.timedelta(days=1)
_MIDNIGHT = dt.datetime(2000, 1, 1)


def mysql_time(value: Any) -> str:
    """A MariaDB TIME as PyMySQL gives it (an interval) → the document's time; a time of day (the value written,
    as `respelled` compares it) as `time_out` gives it."""
    if value.__class__ is not dt.timedelta:
        return time_out(value)
    if not dt.timedelta(0) <= value < _DAY:
        raise ValueError(f"{_interval(value)} is no time of day (MariaDB's TIME is an interval)")
    return time_out((_MIDNIGHT + value).time())


def _interval(value: dt.timedelta) -> str:
    """An interval as MariaDB writes it (`838:59:59`, `-01:00:00`)."""
    seconds = abs(value) // dt.timedelta(microseconds=1)
    whole, micro = divmod(seconds, 1_000_000)
    minutes, second = divmod(whole, 60)
    hours, minute = divmod(minutes, 60)
    text = f"{'-' if value < dt.timedelta(0) else ''}{hours:02d}:{minute:02d}:{second:02d}"
    return f"{text}.{micro:06d}" if micro else text


def raw_decoders(dialect: str) -> Mapping[str, Decode | None]:
    """Per column kind read raw on `dialect` (SQLAlchemy's dialect name), its decoder (None: the field's own).

    SQLite's numeric columns hold doubles (the driver binds a Decimal as a float), which SQLAlchemy turns into
    Decimals by formatting them to the column's scale: 107757145051154.10 is stored as the double nearest to
    it, 107757145051154.09375, and read as 107757145051154.09. Read raw, the field's own decoder
    (`conversions.numeric_out`) takes the double's shortest text, 107757145051154.1, as the write expected
    (`respelled` keeps the document's text aside where that text would not be its value)."""
    if dialect == "sqlite":
        return {"boolean": boolean, "text": text, "varchar": text, "numeric": None}
    if dialect in MYSQL:
        return {"boolean": boolean, "time": mysql_time}
    return {}
