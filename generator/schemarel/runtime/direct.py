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

from schemarel.runtime import exactjson
from schemarel.runtime.tablemap import TableMap


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
    """`DocumentMap.node` for the plain case, without its general steps: top-level properties only, and no
    presence marks, extras, spellings or recursion to restore (None otherwise). Same rows, same documents."""
    table = tm.table
    if table.presence_column or table.extra_column or table.spelling_column or table.json_root:
        return None
    if tm.links or tm.container or table.value_column is not None or any(len(f.path) != 1 for f in tm.fields):
        return None
    if any(f.others for f in tm.fields):  # a union's columns: one value from several
        return None
    start = tm.read_offset
    plan = [(start + i, f.path[0], f.json, f.from_db, f.required[-1]) for i, f in enumerate(tm.fields)]

    def read(row: Sequence[Any]) -> dict[str, Any]:
        node: dict[str, Any] = {}
        for at, name, is_json, convert, required in plan:
            value = row[at]
            if value is None:
                if required and not is_json:  # a JSON column's SQL NULL: absent; its `null` is text
                    node[name] = None
            elif is_json:
                node[name] = exactjson.loads(value)
            else:
                node[name] = convert(value) if convert is not None else value
        return node

    return read
