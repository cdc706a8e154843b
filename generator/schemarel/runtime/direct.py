"""Reads and one-statement creates sent straight through psycopg: statements compiled once, run by the driver.

SQLAlchemy's execution path costs more than the query itself on a lookup by an indexed value (about 0.2 ms
against 0.05 ms here): on PostgreSQL with psycopg's sync driver, a document held in one row is read by one
statement compiled once by SQLAlchemy and sent by the driver in autocommit mode (one round trip, no BEGIN and
COMMIT); a document of several tables by their statements sent together in one snapshot (`snapshot_rows`).

The autocommit statements run on one connection the store keeps for them (`Parked`): taking a connection from
the pool and giving it back (checkout events, the reset's round of bookkeeping) cost about a tenth of a one-row
create, and a kept connection keeps its prepared statements. A call that finds it in use (another thread) takes
a pooled one as before; a process forked from the owner never uses the owner's (their server session would be
shared), it makes its own.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import sqlalchemy as sa


class DirectReads:
    """Compiled statements by key, run on a pooled psycopg connection."""

    def __init__(self, engine: sa.Engine, enabled: bool) -> None:
        dialect = engine.dialect
        self.engine = engine
        self.psycopg = dialect.name == "postgresql" and dialect.driver == "psycopg" and not dialect.is_async
        self.enabled = enabled and self.psycopg
        self._sql: dict[Hashable, str] = {}
        self.parked = Parked(engine)

    def sql(self, key: Hashable, build: Callable[[], Any]) -> str:
        """The SQL text of the statement `build()` makes, compiled the first time `key` is seen."""
        sql = self._sql.get(key)
        if sql is None:
            sql = self._sql[key] = str(build().compile(dialect=self.engine.dialect))
        return sql

    def rows(self, key: Hashable, build: Callable[[], Any], params: Mapping[str, Any]) -> list[Any]:
        """The rows of the statement `build()` makes (compiled the first time `key` is seen), with `params`."""
        return self.run(self.sql(key, build), params)

    def run(self, sql: str, params: Mapping[str, Any]) -> list[Any]:
        """The rows of one statement (SQL with parameters bound by name), prepared, in autocommit mode."""
        with self.parked.autocommit() as cursor:
            cursor.execute(sql, params, prepare=True)
            return list(cursor.fetchall())

    def execute(self, sql: str, params: Sequence[Any]) -> None:
        """One statement that returns nothing (a write, atomic on its own), prepared, in autocommit mode."""
        with self.parked.autocommit() as cursor:
            cursor.execute(sql, params, prepare=True)

    def close(self) -> None:
        """Closes the kept connection; later statements take pooled connections."""
        self.parked.close()

    def snapshot_rows(self, sqls: Sequence[str], params: Mapping[str, Any]) -> list[list[Any]]:
        """The rows of each statement of `sqls`, all run with `params` in one REPEATABLE READ transaction (one
        snapshot: a document written meanwhile is read whole or not at all), prepared, and sent together with
        the transaction's BEGIN and COMMIT in one round trip where libpq has pipeline mode (see `SNAPSHOT`)."""
        import psycopg  # the driver of this path, an optional dependency

        pooled = self.engine.raw_connection()
        driver: Any = pooled.driver_connection
        try:
            if psycopg.Pipeline.is_supported():
                with driver.pipeline():
                    driver.execute(SNAPSHOT)
                    cursors = [driver.execute(sql, params, prepare=True) for sql in sqls]
                    driver.commit()
                return [c.fetchall() for c in cursors]
            driver.execute(SNAPSHOT)
            rows = [driver.execute(sql, params, prepare=True).fetchall() for sql in sqls]
            driver.commit()
            return rows
        except BaseException:
            try:
                driver.rollback()
            except psycopg.Error:
                pooled.invalidate()
            raise
        finally:
            pooled.close()


# The first statement of a transaction that reads one document's tables (psycopg sends its BEGIN before it), in
# place of setting the connection's isolation level and back (the engine's own stays as it is). Such a transaction
# ends by COMMIT, not ROLLBACK, though it wrote nothing: psycopg forgets every prepared statement of the connection
# at a ROLLBACK (and sends DEALLOCATE ALL), so that each call prepared its statements anew.
SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"


class Parked:
    """The one psycopg connection in autocommit mode that a store keeps for its one-statement reads and writes
    (see the module docstring), with a cursor of its own (a cursor made per statement was a few percent of a
    create). It is the pool's no more (detached), so the store closes it: at `close`, or when the store is
    collected (a finalizer holding nothing of the store); a forked child leaves it alone. None is kept on an
    engine with `pool_pre_ping`."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._owner = os.getpid()
        self._idle: list[Any] = []  # the kept connection's cursor while no call uses it (list.pop: atomic)
        self._kept = False  # one exists (idle or in use)
        # an engine whose pool tests each connection before handing it out (`pool_pre_ping`) keeps that promise:
        # its statements take pooled connections (a kept one would fail once after the server restarted)
        self._closed = bool(getattr(engine.pool, "_pre_ping", False))
        weakref.finalize(self, _close_idle, self._idle, self._owner)
        parked_on(engine).add(self)

    def connection(self) -> Any:
        """The kept connection when no call uses it (None otherwise, or before the first call)."""
        self._forked()
        return self._idle[0].connection if self._idle else None

    @contextmanager
    def autocommit(self) -> Iterator[Any]:
        """A cursor of the kept connection (made at the first call), or of a pooled one in autocommit mode
        while another thread uses it or after `close`."""
        self._forked()
        try:
            cursor = self._idle.pop()
        except IndexError:
            cursor = None
        if cursor is None and (self._kept or self._closed):
            with _pooled_autocommit(self.engine) as pooled:
                yield pooled.cursor()
            return
        if cursor is None:
            cursor = self._connect()
        try:
            yield cursor
        finally:
            driver = cursor.connection
            # dropped by the server, or left with a command under way (a connection lost while a statement was
            # being sent may not read as broken, yet every later statement fails "another command is already in
            # progress"; the async store's kept connection does the same): the next call makes another
            if driver.closed or driver.broken or driver.pgconn.transaction_status:
                self._kept = False
                driver.close()
            elif self._closed or self._idle:
                driver.close()
            else:
                self._idle.append(cursor)

    def _connect(self) -> Any:
        pooled = self.engine.raw_connection()  # the engine's connect arguments and events
        driver: Any = pooled.driver_connection
        pooled.detach()  # ours now: the pool makes another in its place when it needs one
        driver.autocommit = True
        self._kept = True
        return driver.cursor()

    def _forked(self) -> None:
        """In a process forked from the owner: forget the owner's connection (never used nor closed here: its
        server session is the owner's), and keep one of this process's own."""
        if os.getpid() != self._owner:
            self._owner = os.getpid()
            _FORKED_AWAY.append(self._idle)  # not collected here: psycopg would not close it, but warn
            self._idle = []
            self._kept = False
            weakref.finalize(self, _close_idle, self._idle, self._owner)

    def close(self) -> None:
        self._forked()
        self._closed = True
        _close_idle(self._idle, self._owner)

    def release(self) -> None:
        """Close the kept connection if it is idle, as `Engine.dispose()` closes the pool's; the next call
        makes another."""
        self._forked()
        if self._idle:
            self._kept = False
            _close_idle(self._idle, self._owner)


class Releasable(Protocol):
    """A kept connection (`Parked`, `async_parked.AsyncParked`) that an engine's dispose closes if idle."""

    def release(self) -> None: ...


_FORKED_AWAY: list[list[Any]] = []
_PARKED: weakref.WeakKeyDictionary[sa.Engine, weakref.WeakSet[Releasable]] = weakref.WeakKeyDictionary()


def parked_on(engine: sa.Engine) -> weakref.WeakSet[Releasable]:
    """The live stores' kept connections of `engine` (sync and async stores'). `engine.dispose()` closes the
    idle ones, as it closes the pool's: a program (or a test) that disposes its engine and drops the database
    must not find a session of a store it forgot to close, still waiting for the garbage collector."""
    parked = _PARKED.get(engine)
    if parked is None:
        parked = _PARKED[engine] = weakref.WeakSet()
        sa.event.listen(engine, "engine_disposed", _release_all)
    return parked


def _release_all(engine: sa.Engine) -> None:
    for parked in list(_PARKED.get(engine, ())):
        parked.release()


def _close_idle(idle: list[Any], owner: int) -> None:
    """Close the kept connection if it is idle, in the process that made it."""
    if os.getpid() != owner:
        return
    while idle:
        idle.pop().connection.close()


@contextmanager
def _pooled_autocommit(engine: sa.Engine) -> Iterator[Any]:
    """A pooled psycopg connection in autocommit mode (no BEGIN and COMMIT around one statement); one the
    server dropped meanwhile is discarded, so that the next statement gets a new one."""
    pooled = engine.raw_connection()
    try:
        driver: Any = pooled.driver_connection
        previous, driver.autocommit = driver.autocommit, True
        try:
            yield driver
        finally:
            if driver.closed or driver.broken or driver.pgconn.transaction_status:  # as `Parked.autocommit`
                pooled.invalidate()
            else:
                driver.autocommit = previous
    finally:
        pooled.close()
