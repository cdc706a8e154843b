"""Stored values a read cannot turn back into a document's, named: the table, the column, the row's key, the value.

A row another program wrote can hold what no value of its column's kind is (SQLite keeps 'yesterday' in a DATE
column and 'abc' in a NUMERIC one; PostgreSQL keeps 'infinity' in a date, '24:00' in a time). It fails on its way
into a document at one of three steps: the driver's loader (psycopg's), SQLAlchemy's result processor or
schemarel's own decoder. The reads do not look for it (a try around each batch costs nothing): only once one has
failed are the values read again as the database gives them and put through the same steps one by one, to name
the first that fails.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from schemarel.errors import SchemarelError, StoreError
from schemarel.runtime import exactjson
from schemarel.runtime.documents import DocumentMap
from schemarel.runtime.tablemap import TableMap

# what turning a stored value into a document's raises where the value is none of its column's kind: schemarel's
# decoders and SQLAlchemy's result processors (`date.fromisoformat`, `uuid.UUID`, `float.is_integer` of a str)
UNREADABLE = (ValueError, TypeError, ArithmeticError, AttributeError)
Rows = Iterable[Sequence[Any]]
Check = Callable[[Any], Any]  # a stored value as the database gives it → the document's (raises where it cannot)


def read_failure(exc: BaseException) -> bool:
    """Whether `exc` may be a stored value refused on its way into a document: a Python error of a decoder or
    processor, or a driver's DataError raised by the client itself (a loader: no SQLSTATE from the server)."""
    orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None else exc
    if isinstance(orig, SchemarelError):
        return False
    if isinstance(orig, UNREADABLE):
        return True
    return type(orig).__name__ == "DataError" and getattr(orig, "sqlstate", "server") is None


def unreadable(tm: TableMap, rows: Rows, error: Exception, checks: dict[int, Check] | None = None) -> StoreError:
    """The refusal of a read that met a stored value it cannot turn into a document's, naming the table, the
    column, the row's key and the value (found by reading the rows' values one by one, on this failure only).
    `checks`: per position in the row, the whole way of its value into the document (`checks`), where the rows
    hold the values as the database gives them; by default the rows are as read and only decoded."""
    found = culprit(tm, rows, checks if checks is not None else decoders(tm))
    return found or StoreError(f"a row of {tm.sa_table.name} cannot be read: {error.__class__.__name__}: {error}")


def culprit(tm: TableMap, rows: Rows, checks: dict[int, Check]) -> StoreError | None:
    """The refusal naming the first value of `rows` its check refuses, None where every value passes."""
    names = {tm.read_offset + i: (f.column, f.kind) for i, f in enumerate(tm.fields)}
    for row in rows:
        for at, check in checks.items():
            value = row[at]
            if value is None:
                continue
            try:
                check(value)
            except Exception as found:  # noqa: BLE001 - whatever the steps raise is this value's refusal
                column, kind = names.get(at, (tm.key if at == 0 else str(tm.fk), "key"))
                key = row[0]
                if 0 in checks and at != 0:
                    with contextlib.suppress(Exception):  # else the key shown as stored
                        key = checks[0](key)
                elif isinstance(key, str) and isinstance(tm.sa_table.c[tm.key].type, sa.Uuid):
                    with contextlib.suppress(ValueError):  # read as its text (`ReadPlan.cursor`): a uuid again
                        key = uuid.UUID(key)
                return StoreError(
                    f"{tm.sa_table.name}.{column} of the row whose {tm.key} is {key!r} holds {value!r}, which "
                    f"is no {kind} value (written there by something else than schemarel?): {found}"
                )
    return None


def decoders(tm: TableMap) -> dict[int, Check]:
    """Schemarel's own decoder of each field's position in a row read by `DocumentMap.select`."""
    out: dict[int, Check] = {}
    for i, f in enumerate(tm.fields):
        decode = exactjson.stored if f.json else f.from_db
        if decode is not None:
            out[tm.read_offset + i] = decode
    return out


def locate(conn: sa.Connection, mapping: DocumentMap, subtree: Sequence[Any] | None, key: Any = None) -> Any:
    """The refusal naming a stored value of the schema's tables that no read can turn into a document's (in the
    document whose root key is `key` where given and `subtree`, the statements by root key, is), else None.
    Read after a read failed, on a connection of its own: the values as the database gives them (PostgreSQL's
    as their text), each put through the driver's loader, SQLAlchemy's processor and schemarel's decoder."""
    postgresql = conn.dialect.name == "postgresql"
    scoped = subtree if key is not None else None  # the statements of one document, by its root key
    for tm in mapping.tables:
        statement = scoped[tm.index] if scoped is not None else mapping.select(tm)
        selected = list(statement.selected_columns)
        raw = [sa.cast(c, sa.Text()) if postgresql else sa.type_coerce(c, sa.types.NullType()) for c in selected]
        query = statement.with_only_columns(*(r.label(f"c{i}") for i, r in enumerate(raw)), maintain_column_froms=True)
        checks = _checks(conn, tm, selected)
        # a whole table in batches; psycopg's batches are a server-side cursor, which needs a transaction
        batched = not postgresql or conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT"
        options = {"yield_per": 1_000} if batched else {}
        rows = conn.execute(query, {"root": key} if scoped is not None else {}, execution_options=options)
        found = culprit(tm, rows, checks)
        rows.close()
        if found is not None:
            return found
    return None


def _checks(conn: sa.Connection, tm: TableMap, selected: list[Any]) -> dict[int, Check]:
    """The whole way into a document of the key, parent key and fields of a row read raw by `locate`."""
    own = decoders(tm)
    positions = (
        [0] + ([1] if tm.read_offset > 1 and tm.fk else []) + [tm.read_offset + i for i in range(len(tm.fields))]
    )
    return {at: _way(conn, selected[at].type, own.get(at)) for at in positions if at < len(selected)}


def _way(conn: sa.Connection, type_: Any, decode: Check | None) -> Check:
    """A raw value of a column of `type_` → through the driver's loader (PostgreSQL: from the value's text),
    SQLAlchemy's result processor and `decode`."""
    dialect = conn.dialect
    load: Check | None = None
    coltype: Any = None
    if dialect.name == "postgresql":
        driver: Any = conn.connection.driver_connection
        name = type_.compile(dialect=dialect).split("(")[0].strip().lower()
        info = driver.adapters.types.get(name)
        if info is not None:
            coltype = info.oid
            loader = driver.adapters.get_loader(info.oid, 0)(info.oid, driver)

            def load(text: Any) -> Any:
                return loader.load(str(text).encode())

    try:
        process = type_.dialect_impl(dialect).result_processor(dialect, coltype)
    except Exception:  # noqa: BLE001 - a type that cannot say: its values as the driver gives them
        process = None
    steps = [s for s in (load, process, decode) if s is not None]

    def way(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return way
