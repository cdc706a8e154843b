"""Column type kinds: one row per kind holding all that any stage knows about it, and SQLAlchemy types as data.

A kind (`ColumnType.kind`) is named once, in `KINDS`: its Python annotation (models), its SQLAlchemy type
(models' source and the metadata's objects, from one `SAType`), its PostgreSQL spelling (docs, migration
docs), and how a document value converts to the column's value and back (the runtime; `to_db` is also the
parser that decides whether a schema `default` is a value the column can hold). Nothing here imports
SQLAlchemy: `schemarel check` never needs it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from schemarel.ir import ColumnType

UTC = dt.timezone.utc


@dataclass(frozen=True)
class SAType:
    """A SQLAlchemy type as data: written as Python source for models, or built as the object itself.

    `name` is an attribute of `sqlalchemy` (`String`), or of one of its dialects (`postgresql.JSONB`).
    """

    name: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    variants: tuple[tuple[SAType, tuple[str, ...]], ...] = ()  # (type, dialect names) for `with_variant`

    def with_variant(self, other: SAType, *dialects: str) -> SAType:
        return SAType(self.name, self.args, self.kwargs, (*self.variants, (other, dialects)))

    def source(self) -> str:
        """Python source building the type (`sa.` is SQLAlchemy, `postgresql.` its dialect)."""
        head = self.name if "." in self.name else f"sa.{self.name}"
        args = [repr(a) for a in self.args] + [f"{key}={value!r}" for key, value in self.kwargs]
        text = f"{head}({', '.join(args)})"
        for other, dialects in self.variants:
            text += f".with_variant({other.source()}, {', '.join(map(repr, dialects))})"
        return text

    def build(self) -> Any:
        """The SQLAlchemy type object the source builds."""
        import importlib

        module_name, _, attr = self.name.rpartition(".")
        module = importlib.import_module(f"sqlalchemy.dialects.{module_name}" if module_name else "sqlalchemy")
        built = getattr(module, attr)(*self.args, **dict(self.kwargs))
        for other, dialects in self.variants:
            built = built.with_variant(other.build(), *dialects)
        return built


# -- document values ↔ column values ------------------------------------------------------------
def _zulu(value: str) -> str:
    return value[:-1] + "+00:00" if value[-1:] in ("Z", "z") else value


def _datetime_in(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(_zulu(value))
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _datetime_out(value: dt.datetime) -> str:
    # SQLite hands back naive values: they were written in UTC
    aware = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.isoformat().replace("+00:00", "Z")


def _time_in(value: str) -> dt.time:
    parsed = dt.time.fromisoformat(_zulu(value))
    if parsed.tzinfo is None:
        return parsed
    return dt.datetime.combine(dt.date(2000, 1, 1), parsed).astimezone(UTC).time()


def _numeric_out(value: decimal.Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() and value.as_tuple().exponent == 0 else float(value)


def _float_out(value: float) -> int | float:
    return int(value) if value.is_integer() and abs(value) < 2**53 else value  # 6629 stays 6629


@dataclass(frozen=True)
class Kind:
    """Everything about one column type kind."""

    python: str  # the annotation of a model attribute holding it
    sa: Callable[[ColumnType], SAType] | None  # None for enums: their type needs the enum's labels
    postgres: Callable[[ColumnType], str] | None  # how PostgreSQL's DDL spells it (None: the enum's own name)
    to_db: Callable[[Any], Any] | None = None  # document value → column value (None: stored as it is)
    from_db: Callable[[Any], Any] | None = None  # column value → document value


def _fixed(name: str, spelling: str, **kwargs: Any) -> tuple[Callable[[ColumnType], SAType], Callable[..., str]]:
    sa_type = SAType(name, kwargs=tuple(kwargs.items()))
    return (lambda t: sa_type), (lambda t: spelling)


KINDS: Mapping[str, Kind] = {
    "uuid": Kind("uuid.UUID", *_fixed("Uuid", "uuid"), uuid.UUID, str),
    "text": Kind("str", *_fixed("Text", "text")),
    "varchar": Kind(
        "str", lambda t: SAType("String", (t.length,)), lambda t: f"varchar({t.length})" if t.length else "varchar"
    ),
    "enum": Kind("str", None, None),
    "boolean": Kind("bool", *_fixed("Boolean", "boolean")),
    "smallint": Kind("int", *_fixed("SmallInteger", "smallint")),
    "integer": Kind("int", *_fixed("Integer", "integer")),
    "bigint": Kind("int", *_fixed("BigInteger", "bigint")),
    "float": Kind("float", *_fixed("Double", "double precision"), float, _float_out),
    "numeric": Kind(
        "decimal.Decimal",
        lambda t: SAType("Numeric", (t.precision, t.scale)),
        lambda t: f"numeric({t.precision}, {t.scale})" if t.precision is not None else "numeric",
        lambda v: decimal.Decimal(str(v)),
        _numeric_out,
    ),
    "date": Kind("datetime.date", *_fixed("Date", "date"), dt.date.fromisoformat, dt.date.isoformat),
    "datetime": Kind(
        "datetime.datetime", *_fixed("DateTime", "timestamp with time zone", timezone=True), _datetime_in, _datetime_out
    ),
    "time": Kind("datetime.time", *_fixed("Time", "time without time zone"), _time_in, lambda t: t.isoformat() + "Z"),
    "json": Kind(
        "Any", lambda t: SAType("JSON").with_variant(SAType("postgresql.JSONB"), "postgresql"), lambda t: "jsonb"
    ),
}
