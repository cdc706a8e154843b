"""Single-statement reads sent straight through psycopg: the lookups of documents held in one table.

SQLAlchemy's execution path costs more than the query itself on a lookup by an indexed value (about 0.2 ms
against 0.05 ms here): where the document is one row of one table, on PostgreSQL with psycopg's sync driver,
the statement is compiled once by SQLAlchemy, and then sent by the driver on a pooled connection in autocommit
mode (one round trip, no BEGIN and COMMIT).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

import sqlalchemy as sa


class DirectReads:
    """Compiled statements by key, run on a pooled psycopg connection."""

    def __init__(self, engine: sa.Engine, enabled: bool) -> None:
        dialect = engine.dialect
        self.engine = engine
        self.enabled = enabled and dialect.name == "postgresql" and dialect.driver == "psycopg" and not dialect.is_async
        self._sql: dict[Hashable, str] = {}

    def rows(self, key: Hashable, build: Callable[[], Any], params: Mapping[str, Any]) -> list[Any]:
        """The rows of the statement `build()` makes (compiled the first time `key` is seen), with `params`."""
        sql = self._sql.get(key)
        if sql is None:
            sql = self._sql[key] = str(build().compile(dialect=self.engine.dialect))
        pooled = self.engine.raw_connection()
        try:
            driver: Any = pooled.driver_connection
            driver.autocommit = True
            try:
                return list(driver.execute(sql, params).fetchall())
            finally:
                driver.autocommit = False
        finally:
            pooled.close()
