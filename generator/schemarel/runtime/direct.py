"""Single-statement reads sent straight through psycopg: the lookups of documents held in one table.

SQLAlchemy's execution path costs more than the query itself on a lookup by an indexed value (about 0.2 ms
against 0.05 ms here): where the document is one row of one table, on PostgreSQL with psycopg's sync driver,
the statement is compiled once by SQLAlchemy, and then sent by the driver on a pooled connection in autocommit
mode (one round trip, no BEGIN and COMMIT).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from schemarel.runtime.documents import TableMap


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


def row_reader(tm: TableMap) -> Callable[[Sequence[Any]], Any] | None:
    """A faster `DocumentMap.node` for the plain case: top-level properties only, nothing for presence marks,
    extras or recursion to restore; None otherwise. It reads a row of `DocumentMap.select(tm)` the same way."""
    table = tm.table
    if table.presence_column or table.extra_column or table.json_root or tm.links or tm.container:
        return None
    if table.value_column is not None or any(len(f.path) != 1 for f in tm.fields):
        return None
    start = tm.read_offset
    flags = iter(range(start + len(tm.fields), start + len(tm.fields) + sum(f.json for f in tm.fields)))
    plan = [
        (start + i, f.path[0], f.from_db, next(flags) if f.json else None, f.required[-1])
        for i, f in enumerate(tm.fields)
    ]

    def read(row: Sequence[Any]) -> dict[str, Any]:
        node: dict[str, Any] = {}
        for at, name, convert, null_flag, required in plan:
            value = row[at]
            if null_flag is not None:
                if not row[null_flag]:  # SQL NULL: the property was absent; JSON null reads as None
                    node[name] = value
            elif value is None:
                if required:
                    node[name] = None
            else:
                node[name] = convert(value) if convert is not None else value
        return node

    return read
