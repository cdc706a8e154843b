"""Column type kinds: one row per kind holding all that any stage knows about it, and SQLAlchemy types as data.

A kind (`ColumnType.kind`) is named once, in `KINDS`: its Python annotation (models), its SQLAlchemy type
(models' source and the metadata's objects, from one `SAType`), its PostgreSQL spelling (docs, migration
docs), and how a document value converts to the column's value and back (`conversions`: the runtime's, and
the parser that decides whether a schema `default` is a value the column can hold). Nothing here imports
SQLAlchemy: `schemarel check` never needs it.
"""

from __future__ import annotations

import datetime as dt
import operator
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from schemarel.ir import ColumnType, TypeKind
from schemarel.sql import conversions as cv
from schemarel.sql.conversions import Conversion

MYSQL = ("mysql", "mariadb")  # SQLAlchemy's dialect names for MySQL and MariaDB


# MariaDB's binary collation that does not pad with spaces: its `=`, keys and ordering compare code points, as
# Python and JSON Schema compare strings ('a' ≠ 'A' ≠ 'a ' ≠ 'á'); the server's default (`utf8mb4_general_ci`,
# `uca1400_ai_ci`) folds case and accents and pads, so keys and unique values a document may hold side by side
# collide. Every string column gets it, not only the keys: a foreign key's column must have its key's
# collation, and filters, `ORDER BY` and `DISTINCT` then agree with Python too. MySQL spells it
# `utf8mb4_0900_bin` (schemarel.support.collation renames it there when DDL is compiled).
MYSQL_EXACT = "utf8mb4_nopad_bin"


def mysql_string(name: str, exact: bool, length: int | None = None) -> SAType:
    """MySQL's string type `name` (`LONGTEXT`, `VARCHAR`…), with the exact collation when `exact` (a column of
    a model older than it, or one a foreign key to another system's table ties to that table's collation, has
    the server's)."""
    kwargs: tuple[tuple[str, Any], ...] = (("collation", MYSQL_EXACT),) if exact else ()
    if length is not None:
        kwargs += (("length", length),)  # keyword: SQLAlchemy's repr, which Alembic writes, names it after collation
    return SAType(f"mysql.{name}", kwargs=kwargs)


def _mysql_fsp6(name: str) -> SAType:
    return SAType(f"mysql.{name}", kwargs=(("fsp", 6),))


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


@dataclass(frozen=True)
class Kind:
    """Everything about one column type kind."""

    python: str  # the annotation of a model attribute holding it
    sa: Callable[[ColumnType], SAType] | None  # None for enums: their type needs the enum's labels
    postgres: Callable[[ColumnType], str] | None  # how PostgreSQL's DDL spells it (None: the enum's own name)
    # document value → column value and back, for a column of this type (None: values are stored as they are)
    conversion: Callable[[ColumnType], Conversion | None] = lambda t: None


def _fixed(name: str, spelling: str, **kwargs: Any) -> tuple[Callable[[ColumnType], SAType], Callable[..., str]]:
    sa_type = SAType(name, kwargs=tuple(kwargs.items()))
    return (lambda t: sa_type), (lambda t: spelling)


def _always(to_db: Callable[[Any], Any], from_db: Callable[[Any], Any]) -> Callable[[ColumnType], Conversion]:
    return lambda t: (to_db, from_db)


def _integer(kind: str, sa_name: str) -> Kind:
    # read back by `operator.index`, not `int`: SQLite's INTEGER column holds 1.5 and '1_000' as well (another
    # program wrote them), which `int` would read as 1 and 1000; an int is given back as it is
    return Kind("int", *_fixed(sa_name, kind), _always(cv.integer_in(kind), operator.index))


# MySQL's TEXT holds 64 KiB, DATETIME and TIME whole seconds: what JSON Schema allows needs more there
KINDS: Mapping[TypeKind, Kind] = {
    "uuid": Kind("uuid.UUID", *_fixed("Uuid", "uuid"), _always(uuid.UUID, str)),
    "text": Kind(
        "str", lambda t: SAType("Text").with_variant(mysql_string("LONGTEXT", True), *MYSQL), lambda t: "text"
    ),
    "varchar": Kind(
        "str",
        lambda t: SAType("String", (t.length,)).with_variant(mysql_string("VARCHAR", True, t.length), *MYSQL),
        lambda t: f"varchar({t.length})" if t.length else "varchar",
    ),
    "enum": Kind("str", None, None),
    "boolean": Kind("bool", *_fixed("Boolean", "boolean")),
    "smallint": _integer("smallint", "SmallInteger"),
    "integer": _integer("integer", "Integer"),
    "bigint": _integer("bigint", "BigInteger"),
    "float": Kind("float", *_fixed("Double", "double precision"), _always(cv.float_in, cv.float_out)),
    "numeric": Kind(
        "decimal.Decimal",
        lambda t: SAType("Numeric", (t.precision, t.scale)),
        lambda t: f"numeric({t.precision}, {t.scale})" if t.precision is not None else "numeric",
        lambda t: (cv.numeric_in(t.precision, t.scale), cv.numeric_out(t.scale)),
    ),
    "date": Kind("datetime.date", *_fixed("Date", "date"), _always(dt.date.fromisoformat, dt.date.isoformat)),
    "datetime": Kind(
        "datetime.datetime",
        lambda t: SAType("DateTime", kwargs=(("timezone", True),)).with_variant(_mysql_fsp6("DATETIME"), *MYSQL),
        lambda t: "timestamp with time zone",
        _always(cv.datetime_in, cv.datetime_out),
    ),
    "time": Kind(
        "datetime.time",
        lambda t: SAType("Time").with_variant(_mysql_fsp6("TIME"), *MYSQL),
        lambda t: "time without time zone",
        _always(cv.time_in, cv.time_out),
    ),
    "json": Kind(
        "Any", lambda t: SAType("JSON").with_variant(SAType("postgresql.JSONB"), "postgresql"), lambda t: "jsonb"
    ),
}
