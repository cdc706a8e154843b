"""Reads and one-statement creates sent straight through psycopg: statements compiled once, run by the driver.

SQLAlchemy's execution path costs more than the query itself on a lookup by an indexed value (about 0.2 ms
against 0.05 ms here): on PostgreSQL with psycopg's sync driver, a document held in one row is read by one
statement compiled once by SQLAlchemy and sent by the driver on a pooled connection in autocommit mode (one
round trip, no BEGIN and COMMIT); a document of several tables by their statements sent together in one
snapshot (`snapshot_rows`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa


class DirectReads:
    """Compiled statements by key, run on a pooled psycopg connection."""

    def __init__(self, engine: sa.Engine, enabled: bool) -> None:
        dialect = engine.dialect
        self.engine = engine
        self.psycopg = dialect.name == "postgresql" and dialect.driver == "psycopg" and not dialect.is_async
        self.enabled = enabled and self.psycopg
        self._sql: dict[Hashable, str] = {}

    def sql(self, key: Hashable, build: Callable[[], Any]) -> str:
        """The SQL text of the statement `build()` makes, compiled the first time `key` is seen."""
        sql = self._sql.get(key)
        if sql is None:
            sql = self._sql[key] = str(build().compile(dialect=self.engine.dialect))
        return sql

    def rows(self, key: Hashable, build: Callable[[], Any], params: Mapping[str, Any]) -> list[Any]:
        """The rows of the statement `build()` makes (compiled the first time `key` is seen), with `params`."""
        sql = self.sql(key, build)
        with self._autocommit() as driver:
            return list(driver.execute(sql, params, prepare=True).fetchall())

    def execute(self, sql: str, params: Sequence[Any]) -> None:
        """One statement that returns nothing (a write, atomic on its own), prepared, in autocommit mode."""
        with self._autocommit() as driver:
            driver.execute(sql, params, prepare=True)

    @contextmanager
    def _autocommit(self) -> Iterator[Any]:
        """A pooled psycopg connection in autocommit mode (no BEGIN and COMMIT around one statement); one the
        server dropped meanwhile is discarded, so that the next statement gets a new one."""
        pooled = self.engine.raw_connection()
        try:
            driver: Any = pooled.driver_connection
            previous, driver.autocommit = driver.autocommit, True
            try:
                yield driver
            finally:
                if driver.closed or driver.broken:
                    pooled.invalidate()
                else:
                    driver.autocommit = previous
        finally:
            pooled.close()

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
