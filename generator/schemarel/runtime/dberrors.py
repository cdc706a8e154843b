"""Database refusals as typed errors: which constraint failed, in words a user can act on, on every dialect."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from schemarel.errors import ConstraintViolation, StoreError, ValueRejected, WriteRefused
from schemarel.ir import Database

_MYSQL_NAME = re.compile(r"CONSTRAINT `([^`]+)`|for key '(?:[^'.]+\.)?([^']+)'")
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)")
_SQLITE_CHECK = re.compile(r"CHECK constraint failed: (\w+)")
MYSQL_CHECK_FAILED = 4025  # MariaDB's CHECK (json_valid included), an OperationalError in PyMySQL's mapping
# insufficient privilege, read-only transaction, disk full; MariaDB: table read only, access denied to a database,
# command denied, read-only server (--read-only), disk full
REFUSED_SQLSTATES = frozenset({"42501", "25006", "53100"})
REFUSED_ERRNOS = frozenset({1036, 1044, 1142, 1290, 1021})
REFUSED_WORDS = re.compile(r"attempt to write a readonly database|database or disk is full")


def translate(exc: BaseException, database: Database) -> StoreError | None:
    """The typed error for a driver's integrity or data error (raw, or wrapped by SQLAlchemy); else None."""
    orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None else exc
    kind = _kind(orig)
    if kind == "integrity":
        return ConstraintViolation(constraint_name(orig, database), _detail(orig))
    if kind == "data" or isinstance(orig, OverflowError):
        return ValueRejected(_detail(orig))
    return None


def _kind(orig: BaseException) -> str | None:
    # DB-API 2 exception classes have the same names in every driver
    names = {cls.__name__ for cls in type(orig).__mro__}
    if "IntegrityError" in names or _errno(orig) == MYSQL_CHECK_FAILED:
        return "integrity"
    if "DataError" in names:
        return "data"
    return None


def _errno(orig: BaseException) -> Any:
    args = getattr(orig, "args", ())
    return args[0] if args else None


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a psycopg error, raised by it (COPY goes through the driver's cursor) or by SQLAlchemy."""
    found = getattr(error, "sqlstate", None) or getattr(getattr(error, "orig", None), "sqlstate", None)
    return found if isinstance(found, str) else None


def write_refused(exc: BaseException) -> WriteRefused | None:
    """The error for a write refused whatever the document (no privilege, a read-only transaction or server, a
    full disk: PostgreSQL's SQLSTATEs, MariaDB's error numbers, SQLite's words), else None."""
    orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None else exc
    if (
        sqlstate(orig) in REFUSED_SQLSTATES
        or _errno(orig) in REFUSED_ERRNOS
        or REFUSED_WORDS.search(str(orig)) is not None
    ):
        return WriteRefused(f"the database refuses the write, whatever the document: {_detail(orig)}")
    return None


def constraint_name(orig: BaseException, database: Database) -> str | None:
    """The failed constraint's name: from the server when it says, else worked out from the message."""
    diag = getattr(orig, "diag", None)  # psycopg
    name = getattr(diag, "constraint_name", None)
    if name:
        return str(name)
    message = str(orig)
    if match := _MYSQL_NAME.search(message):
        return match.group(1) or match.group(2)
    if match := _SQLITE_CHECK.search(message):
        return match.group(1)
    if match := _SQLITE_UNIQUE.search(message):
        return _sqlite_unique(match.group(1), database)
    if "FOREIGN KEY constraint failed" in message:
        # SQLite names no foreign key; parents are written before children, so only a reference to a table
        # of another system can fail, and when there is one such reference it is the one
        external = [fk.name for t in database.tables for fk in t.foreign_keys if fk.external]
        return external[0] if len(external) == 1 else None
    return None


def _sqlite_unique(columns: str, database: Database) -> str | None:
    """`profiles.user_id` (SQLite's words) → the unique constraint or primary key over those columns."""
    qualified = [c.strip().split(".", 1) for c in columns.split(",")]
    if any(len(q) != 2 for q in qualified):
        return None
    table_name = qualified[0][0]
    names = tuple(q[1] for q in qualified)
    table = next((t for t in database.tables if t.name == table_name), None)
    if table is None:
        return None
    for constraint in (table.primary_key, *table.uniques):
        if constraint.columns == names:
            return constraint.name
    return None


def _detail(orig: Any) -> str:
    lines = [line.strip() for line in str(orig).strip().splitlines() if line.strip()]
    detail = getattr(getattr(orig, "diag", None), "message_detail", None)
    text = lines[0] if lines else type(orig).__name__
    return f"{text} ({detail})" if detail and detail not in text else text
