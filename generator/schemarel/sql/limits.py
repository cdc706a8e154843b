"""What each database accepts in a table definition, as one table of limits per dialect, and the checks that
hold a table of the IR to all of them: a revision is applied to any of the dialects, and is history once
written, so whatever one of them would refuse at `upgrade` is refused at `generate` instead."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from schemarel.ir import Column, ColumnType, EnumType, Table


@dataclass(frozen=True)
class DialectLimits:
    """One database's limits on what `CREATE TABLE` accepts (None: no limit worth checking)."""

    name: str
    columns: int  # columns per table
    varchar: int  # longest varchar(n)
    numeric_precision: int
    numeric_scale: int  # also: scale <= precision on every dialect here
    reserved_tables: tuple[str, ...] = ()  # names the database or schemarel's tooling keep for themselves
    reserved_prefixes: tuple[str, ...] = ()
    nul_in_text: bool = True  # whether a string literal may hold U+0000
    row_bytes: int | None = None  # the largest in-row size of a row (see `row_bytes`)


# Alembic records the applied revision in `alembic_version` on every dialect: a table of that name would be it.
TOOL_TABLES = ("alembic_version",)
SQLITE = DialectLimits("SQLite", 2000, 1_000_000_000, 1000, 1000, TOOL_TABLES, ("sqlite_",))  # SQLITE_MAX_COLUMN
POSTGRESQL = DialectLimits("PostgreSQL", 1600, 10_485_760, 1000, 1000, TOOL_TABLES, nul_in_text=False)
# InnoDB: 1017 columns, and a row under 8126 bytes (half a 16 KiB page); DECIMAL(65, 30) at most (MariaDB allows
# scale 38, MySQL 30)
MARIADB = DialectLimits("MariaDB/MySQL", 1017, 10_485_760, 65, 30, TOOL_TABLES, row_bytes=8125)
DIALECTS = (SQLITE, POSTGRESQL, MARIADB)

MAX_COLUMNS = min(d.columns for d in DIALECTS)
MAX_VARCHAR = min(d.varchar for d in DIALECTS)
MAX_NUMERIC_PRECISION = min(d.numeric_precision for d in DIALECTS)
MAX_NUMERIC_SCALE = min(d.numeric_scale for d in DIALECTS)
# Budgets, not database limits: the most values an enum type or CHECK lists (a longer enum is a plain column,
# see `normalize.columns`), and enum values (labels and CHECK lists) of one table, in UTF-8 bytes; MariaDB
# refuses a table definition over 64 KiB, and the table's comments take up to 20,000 characters of it.
MAX_ENUM_VALUES = 1000
TABLE_LITERAL_BYTES = 32_000
INT_RANGES = {"smallint": (-(2**15), 2**15 - 1), "integer": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)}
MAX_FLOAT = 1.7976931348623157e308

# InnoDB's in-row bytes per column (DYNAMIC rows, strict mode, as MariaDB counts them when it creates a table):
# fixed-width types their width, a short VARCHAR its bytes in utf8mb4 plus a length byte, and anything that may
# go off-page (long VARCHAR, TEXT, JSON) a 20-byte pointer plus its length.
# (uuid: CHAR(32), 4 bytes a character in utf8mb4)
_FIXED_BYTES = {"boolean": 1, "smallint": 2, "integer": 4, "bigint": 8, "float": 8, "date": 3, "datetime": 8, "time": 6,
                "enum": 2, "uuid": 129}  # fmt: skip
OFF_PAGE_BYTES = 21
_ROW_OVERHEAD = 18  # record header (5) and the transaction id and roll pointer InnoDB adds (13)


def type_problem(ctype: ColumnType) -> str | None:
    """Why some dialect refuses this column type, or None."""
    if ctype.kind == "varchar" and ctype.length is not None and not 0 < ctype.length <= MAX_VARCHAR:
        return f"varchar({ctype.length}): a length must be 1 to {MAX_VARCHAR:,} (PostgreSQL's limit)"
    if ctype.kind == "numeric" and ctype.precision is not None:
        p, s = ctype.precision, ctype.scale or 0
        if not 0 < p <= MAX_NUMERIC_PRECISION:
            return f"numeric({p},{s}): the precision must be 1 to {MAX_NUMERIC_PRECISION} (MariaDB/MySQL's limit)"
        if not 0 <= s <= min(p, MAX_NUMERIC_SCALE):
            return f"numeric({p},{s}): the scale must be 0 to the precision and at most {MAX_NUMERIC_SCALE}"
    return None


def text_problem(text: str) -> str | None:
    """Why some dialect cannot hold this text in SQL (a literal, a comment), or None."""
    if "\x00" in text:
        return "it holds a NUL character (U+0000), which PostgreSQL cannot store in text"
    return None


def value_problem(value: Any, ctype: ColumnType) -> str | None:
    """Why a column of `ctype` cannot hold the JSON value `value` on some dialect, or None."""
    if isinstance(value, str):
        if text_problem(value):
            return text_problem(value)
        if ctype.kind in ("varchar", "enum") and ctype.length is not None and len(value) > ctype.length:
            return f"it is longer than {ctype.length} characters"
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    low, high = number_range(ctype)
    if low is not None and high is not None and not low <= value <= high:
        return f"it is out of the range of the column's type {_spelled(ctype)} ({low} to {high})"
    return None


def number_range(ctype: ColumnType) -> tuple[Any, Any]:
    """The least and greatest number a column of `ctype` holds (None, None when it is not a number type)."""
    if ctype.kind in INT_RANGES:
        return INT_RANGES[ctype.kind]
    if ctype.kind == "float":
        return -MAX_FLOAT, MAX_FLOAT
    if ctype.kind == "numeric" and ctype.precision is not None:
        top = Decimal(10) ** (ctype.precision - (ctype.scale or 0)) - Decimal(10) ** -(ctype.scale or 0)
        return -top, top
    return None, None


def _spelled(ctype: ColumnType) -> str:
    if ctype.kind == "numeric":
        return f"numeric({ctype.precision},{ctype.scale or 0})"
    return ctype.kind


def column_bytes(column: Column) -> int:
    """The bytes a column may take in an InnoDB row (see `_FIXED_BYTES`)."""
    t = column.type
    if t.kind in _FIXED_BYTES:
        return _FIXED_BYTES[t.kind]
    if t.kind == "numeric" and t.precision is not None:
        return _decimal_bytes(t.precision - (t.scale or 0)) + _decimal_bytes(t.scale or 0)
    if t.kind == "varchar" and t.length is not None and 4 * t.length <= 255:
        return 4 * t.length + 1
    return OFF_PAGE_BYTES


def _decimal_bytes(digits: int) -> int:
    """MySQL's DECIMAL storage: 4 bytes per 9 digits, and 0-4 for the rest."""
    return 4 * (digits // 9) + (0, 1, 1, 2, 2, 3, 3, 4, 4, 4)[digits % 9]


def row_bytes(columns: tuple[Column, ...]) -> int:
    """The in-row size MariaDB computes for a table of `columns` (a NULL bit per nullable column)."""
    nullable = sum(1 for c in columns if c.nullable)
    return _ROW_OVERHEAD + (nullable + 7) // 8 + sum(column_bytes(c) for c in columns)


def _literals(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def table_problems(table: Table, enums: Iterable[EnumType]) -> Iterator[tuple[str, str]]:
    """(pointer, why) for each thing about `table` some dialect would refuse when the revision is applied."""
    rename = 'choose another with "x-sql": {"table": "<name>"}'
    if table.name in TOOL_TABLES:
        yield table.pointer, f"table name {table.name!r} is the table Alembic records applied revisions in; {rename}"
    for dialect in DIALECTS:
        if table.name.startswith(dialect.reserved_prefixes):
            yield (
                table.pointer,
                f"table names starting {dialect.reserved_prefixes} are reserved on {dialect.name}; {rename}",
            )
    if len(table.columns) > MAX_COLUMNS:
        yield table.pointer, too_many_columns(table.name)
    literal_bytes = sum(len(v.encode()) for e in enums for v in e.values) + sum(
        len(v.encode()) for c in table.checks for v in _literals(c.value) if isinstance(v, str)
    )
    if literal_bytes > TABLE_LITERAL_BYTES:
        why = f"the enum values and CHECK literals of table {table.name!r} take {literal_bytes:,} bytes, more than "
        yield (
            table.pointer,
            why
            + (
                f"{TABLE_LITERAL_BYTES:,} (MariaDB/MySQL refuse a table definition over 64 KiB); store some of these "
                "values in a table of their own, or leave them to validation"
            ),
        )
    size = row_bytes(table.columns)
    if MARIADB.row_bytes is not None and size > MARIADB.row_bytes:
        why = f"a row of table {table.name!r} may take {size:,} bytes in MariaDB/MySQL's InnoDB, more than its "
        yield (
            table.pointer,
            why + (f"{MARIADB.row_bytes:,}; store some properties in JSON columns or in a table of their own"),
        )


def too_many_columns(table: str) -> str:
    """Why a table of more than `MAX_COLUMNS` columns is refused, naming every dialect's limit."""
    limits = ", ".join(f"{d.name} {d.columns:,}" for d in sorted(DIALECTS, key=lambda d: d.columns))
    return (
        f"table {table!r} would have more than {MAX_COLUMNS:,} columns, which not every database allows "
        f"({limits}); store some properties in their own table or a JSON column "
        '("x-sql": {"storage": "table"} or "json")'
    )
