"""Engines for the runtime: a database URL read without echoing it, and SQLite made to behave like the others."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from schemarel.errors import SchemarelError


def engine_for(url: str) -> sa.Engine:
    """An engine for a URL; a URL SQLAlchemy cannot read is a usage error (exit 2) that does not echo the URL,
    which may hold a password."""
    try:
        parsed = sa.engine.make_url(url)
        if parsed.port is not None and not 0 < parsed.port < 65536:
            raise ValueError(f"port {parsed.port} is not between 1 and 65535")
        return sa.create_engine(parsed)
    except ValueError as exc:
        reason = "its port is not a number" if "int()" in str(exc) else str(exc).splitlines()[0]
        raise SchemarelError(f"the database URL is not valid: {reason}") from None
    except sa.exc.NoSuchModuleError as exc:
        raise SchemarelError(f"the database URL is not valid: {str(exc).splitlines()[0]}") from None
    except sa.exc.ArgumentError:  # its message quotes the URL
        raise SchemarelError("the database URL is not valid: expected dialect+driver://user@host:port/db") from None


def prepare_sqlite(engine: sa.Engine) -> None:
    """Make SQLite behave like the other databases for the runtime (SQLAlchemy's documented recipe).

    SQLite enforces foreign keys (so ON DELETE CASCADE) only when each connection asks for it; and the
    pysqlite driver opens a transaction only at the first write, so that a SAVEPOINT taken before it would
    be the transaction itself and its RELEASE a commit. The driver's own handling is switched off and BEGIN
    is sent when SQLAlchemy begins a transaction.
    """
    if engine.dialect.name != "sqlite" or sa.event.contains(engine, "connect", _sqlite_connect):
        return
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _sqlite_begin)


def _sqlite_connect(dbapi_connection: Any, record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    conn.exec_driver_sql("BEGIN")
