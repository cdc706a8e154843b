"""Reads and one-statement creates sent straight through psycopg; the row readers compiled per table.

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

from schemarel.runtime import exactjson, marks
from schemarel.runtime.tablemap import TableMap, system_columns


class DirectReads:
    """Compiled statements by key, run on a pooled psycopg connection."""

    def __init__(self, engine: sa.Engine, enabled: bool) -> None:
        dialect = engine.dialect
        self.engine = engine
        self.psycopg = dialect.name == "postgresql" and dialect.driver == "psycopg" and not dialect.is_async
        self.enabled = enabled and self.psycopg
        self._sql: dict[Hashable, str] = {}

    def rows(self, key: Hashable, build: Callable[[], Any], params: Mapping[str, Any]) -> list[Any]:
        """The rows of the statement `build()` makes (compiled the first time `key` is seen), with `params`."""
        sql = self._sql.get(key)
        if sql is None:
            sql = self._sql[key] = str(build().compile(dialect=self.engine.dialect))
        with self._autocommit() as driver:
            return list(driver.execute(sql, params).fetchall())

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
            driver.autocommit = True
            try:
                yield driver
            finally:
                if driver.closed or driver.broken:
                    pooled.invalidate()
                else:
                    driver.autocommit = False
        finally:
            pooled.close()

    def snapshot_rows(self, sqls: Sequence[str], params: Mapping[str, Any]) -> list[list[Any]]:
        """The rows of each statement of `sqls`, all run with `params` in one REPEATABLE READ transaction (one
        snapshot: a document written meanwhile is read whole or not at all), prepared, and sent together in
        one round trip where libpq has pipeline mode."""
        import psycopg  # the driver of this path, an optional dependency

        pooled = self.engine.raw_connection()
        driver: Any = pooled.driver_connection
        previous = driver.isolation_level  # the engine's own, if it sets one
        try:
            driver.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            if psycopg.Pipeline.is_supported():
                with driver.pipeline():
                    cursors = [driver.execute(sql, params, prepare=True) for sql in sqls]
                return [c.fetchall() for c in cursors]
            return [driver.execute(sql, params, prepare=True).fetchall() for sql in sqls]
        finally:
            try:
                driver.rollback()  # nothing was written: ends the transaction
                driver.isolation_level = previous
            except psycopg.Error:
                pooled.invalidate()
            pooled.close()


def row_reader(tm: TableMap, general: Callable[[Sequence[Any]], Any]) -> Callable[[Sequence[Any]], Any]:
    """`DocumentMap.node` (`general`) compiled for one table: the row's node built by a plan made once, for
    every row whose presence marks, extras and spellings are NULL (what restoring them would leave unchanged);
    the other rows, and tables holding a list, one value, a JSON root or recursive properties, go to `general`.
    Same rows, same documents: the steps are `node`'s own, in its order."""
    table = tm.table
    if table.json_root or tm.links or tm.container:
        return general
    if any(f.others for f in tm.fields):  # a union's columns: one value from several
        return general
    start = tm.read_offset
    after = start + len(tm.fields) + (tm.map_key is not None)  # a map table's key column comes first
    system = range(after, after + len(system_columns(table)))  # see `select`
    if table.value_column is not None:
        if len(tm.fields) != 1 or tm.fields[0].path:
            return general
        only = tm.fields[0]
        decode = exactjson.loads if only.json else only.from_db

        def read_value(row: Sequence[Any]) -> Any:  # an item of an array of scalars
            for at in system:
                if row[at] is not None:
                    return general(row)
            value = row[start]
            return value if value is None or decode is None else decode(value)

        return read_value
    flat = all(len(f.path) == 1 for f in tm.fields) and not tm.prefixes
    plan = [(start + i, f.path, f.path[-1], f.json, f.from_db, f.required[-1]) for i, f in enumerate(tm.fields)]
    prefixes = tm.prefixes

    def read(row: Sequence[Any]) -> Any:
        for at in system:
            if row[at] is not None:
                return general(row)
        node: dict[str, Any] = {}
        nulls = []
        for at, path, name, is_json, convert, required in plan:
            value = row[at]
            if value is None:
                if required and not is_json:  # a JSON column's SQL NULL: absent; its `null` is text
                    nulls.append(path)
                continue
            if is_json:
                value = exactjson.loads(value)
            elif convert is not None:
                value = convert(value)
            if flat:
                node[name] = value
            else:
                marks.put(node, path, value)
        for prefix in prefixes:  # flattened objects the schema requires: there even when left empty
            marks.ensure(node, prefix)
        for path in nulls:  # a NULL of a required property is a null, wherever its object is there
            container = marks.get(node, path[:-1])
            if isinstance(container, dict):
                container[path[-1]] = None
        return node

    return read
