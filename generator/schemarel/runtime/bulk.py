"""Writing row batches: Core inserts on every dialect; COPY and one-statement inserts on PostgreSQL (psycopg)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from schemarel.runtime.copytext import make_texts
from schemarel.runtime.copywrite import CopyWriter
from schemarel.runtime.documents import DocumentMap, json_value
from schemarel.runtime.tablemap import RowBatch, TableMap


class Writer:
    """Inserts the rows of a batch table by table, parents first, on any dialect SQLAlchemy supports."""

    def __init__(self, mapping: DocumentMap, dialect: sa.Dialect) -> None:
        self.mapping = mapping
        self.dialect = dialect
        self._inserts: dict[int, Any] = {}

    def write(self, conn: sa.Connection, batch: RowBatch) -> None:
        """A bulk write (create_many)."""
        self.insert(conn, batch, self.mapping.tables)

    def write_one(self, conn: sa.Connection, batch: RowBatch) -> None:
        """The write of a single document (create)."""
        self.insert(conn, batch, self.mapping.tables)

    def one_statement(self, batch: RowBatch) -> bool:
        """Whether `write_one` sends a single statement for this batch (atomic without a transaction)."""
        return False

    def ready(self, batch: RowBatch) -> None:
        """Do the part of `write` that needs no connection now (in the thread that builds the rows)."""

    def insert(self, conn: sa.Connection, batch: RowBatch, tables: Sequence[TableMap]) -> None:
        for tm in tables:
            rows = batch.rows[tm.index]
            if not rows:
                continue
            batch.fill_parent_keys(tm)
            params = [dict(zip(tm.columns, row, strict=True)) for row in rows]
            if tm.needs_keys:
                # keys come back in parameter order, so that children can point at their own parent row
                result = conn.execute(self._insert(tm, returning=True), params)
                batch.keys[tm.index] = list(result.scalars())
            else:
                conn.execute(self._insert(tm), params)

    def _insert(self, tm: TableMap, returning: bool = False) -> Any:
        key = tm.index * 2 + returning
        if key not in self._inserts:
            t = tm.sa_table
            stmt = sa.insert(t).values(
                {c: json_value(t.c[c], sa.bindparam(c, type_=sa.Text()), self.dialect) if _is_json(tm, c)
                    else sa.bindparam(c, type_=t.c[c].type) for c in tm.columns}
            )  # fmt: skip
            if returning:
                stmt = stmt.returning(tm.sa_table.c[tm.key], sort_by_parameter_order=True)
            self._inserts[key] = stmt
        return self._inserts[key]


class PostgresWriter(Writer):
    """COPY for bulk writes, one `WITH … INSERT` statement (one round trip) for a single document."""

    def __init__(self, mapping: DocumentMap, dialect: sa.Dialect) -> None:
        super().__init__(mapping, dialect)
        self._statements: dict[tuple[int, ...], tuple[str, list[int]]] = {}
        self._copy = CopyWriter(mapping.tables, dialect.identifier_preparer.quote)

    def write(self, conn: sa.Connection, batch: RowBatch) -> None:
        if conn.dialect.is_async:  # COPY needs the driver's own (sync) cursor; asyncio gets multi-row inserts
            super().write(conn, batch)
            return
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            self._copy.write(cursor, batch)

    def ready(self, batch: RowBatch) -> None:
        """The COPY text of the tables whose rows are complete (the others wait for keys from the sequence)."""
        if not self.dialect.is_async:
            make_texts(self.mapping.tables, batch)

    def one_statement(self, batch: RowBatch) -> bool:
        # keys that children need come back from the server first: then one statement is not enough; nor does
        # it hold documents nested in the root table (recursive properties)
        return len(batch.rows[0]) <= 1 and not any(tm.needs_keys and batch.rows[tm.index] for tm in self.mapping.tables)

    def write_one(self, conn: sa.Connection, batch: RowBatch) -> None:
        tables = self.mapping.tables
        if not self.one_statement(batch):
            self.insert(conn, batch, tables)
            return
        conn.exec_driver_sql(*self.one_insert(batch))

    def one_insert(self, batch: RowBatch) -> tuple[str, tuple[Any, ...]]:
        """The SQL text and parameters of `write_one`'s single statement (when `one_statement(batch)`)."""
        # data-modifying CTEs run as one statement (one round trip); foreign keys are checked at its end
        tables = self.mapping.tables
        shape = tuple(len(batch.rows[tm.index]) for tm in tables)
        if shape not in self._statements:
            self._statements[shape] = self._statement(self.dialect, shape)
        sql, order = self._statements[shape]
        values = [v for tm in tables for row in batch.rows[tm.index] for v in row]
        return sql, tuple([values[i] for i in order])

    def _statement(self, dialect: sa.Dialect, shape: tuple[int, ...]) -> tuple[str, list[int]]:
        """SQL text (compiled once per shape: SQLAlchemy does not cache multi-row VALUES) with positional
        placeholders (the driver then takes the values as they are, without a dict to build and look up), and
        where each placeholder's value is among the batch's row values."""
        names: list[str] = []

        def rows(tm: TableMap, count: int) -> list[dict[str, Any]]:
            out = []
            for _ in range(count):
                row = {}
                for c in tm.columns:
                    names.append(f"p{len(names)}")
                    column = tm.sa_table.c[c]
                    if _is_json(tm, c):
                        row[c] = json_value(column, sa.bindparam(names[-1], type_=sa.Text()), dialect)
                    else:
                        row[c] = sa.bindparam(names[-1], type_=column.type)
                out.append(row)
            return out

        tables = self.mapping.tables
        stmt = sa.insert(tables[0].sa_table).values(rows(tables[0], shape[0])[0])
        ctes = [
            sa.insert(tm.sa_table).values(rows(tm, count)).cte(f"w{tm.index}")
            for tm, count in zip(tables[1:], shape[1:], strict=True)
            if count
        ]
        text = str((stmt.add_cte(*ctes) if ctes else stmt).compile(dialect=dialect))
        order = [int(n) for n in _PLACEHOLDER.findall(text)]  # the CTEs (children) come first in the text
        assert sorted(order) == list(range(len(names))), "each parameter once"
        return _PLACEHOLDER.sub("%s", text), order


_PLACEHOLDER = re.compile(r"%\(p(\d+)\)s")  # psycopg's named placeholders, as `_statement` names them


def _is_json(tm: TableMap, column: str) -> bool:
    return isinstance(tm.sa_table.c[column].type, sa.JSON)


def writer_for(dialect: sa.Dialect, mapping: DocumentMap) -> Writer:
    """The fastest writer the dialect and driver allow."""
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        return PostgresWriter(mapping, dialect)
    return Writer(mapping, dialect)
