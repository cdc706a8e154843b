"""A batch's rows written by COPY on a psycopg cursor: the Store's bulk writes and `schemarel load`'s COPY path.

Keys the server gives rows that children point at (a sequence's) are fetched first, in one statement per table
and batch, so that the children's foreign keys can be set before their own COPY. This module imports neither
SQLAlchemy nor a driver: the caller hands it a cursor and its way of quoting names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from schemarel.runtime.copytext import copy_text
from schemarel.runtime.tablemap import RowBatch, TableMap


def send(cursor: Any, statement: str, text: bytes | None, rows: Sequence[Sequence[Any]]) -> None:
    """Run the `COPY … FROM STDIN` statement with the rows' COPY text, or the rows themselves for psycopg to
    format where there is no text (a value `copytext` leaves to it)."""
    with cursor.copy(statement) as copy:
        if text is not None:
            copy.write(text)
        else:
            for row in rows:
                copy.write_row(row)


class CopyWriter:
    """COPY of every table's rows of a batch, in table order (parents first), names quoted by `quote`."""

    def __init__(self, tables: Sequence[TableMap], quote: Callable[[str], str]) -> None:
        self.tables = tables
        self.quote = quote
        self._statements: dict[int, str] = {}
        self._sequences: dict[int, str] = {}

    def write(self, cursor: Any, batch: RowBatch) -> None:
        for tm in self.tables:
            rows = batch.rows[tm.index]
            if not rows:
                continue
            batch.fill_parent_keys(tm)
            if tm.needs_keys:
                keys = self._allocate(cursor, tm, len(rows))
                batch.keys[tm.index] = keys
                rows = [[k, *row] for k, row in zip(keys, rows, strict=True)]
            # JSON values are JSON text already, which COPY's text format reads into jsonb as it is
            send(cursor, self._statement(tm), batch.texts.get(tm.index) or copy_text(rows), rows)

    def _statement(self, tm: TableMap) -> str:
        found = self._statements.get(tm.index)
        if found is None:
            columns = (tm.key, *tm.columns) if tm.needs_keys else tm.columns
            names = ", ".join(map(self.quote, columns))
            found = self._statements[tm.index] = f"COPY {self.quote(tm.table.name)} ({names}) FROM STDIN"
        return found

    def _allocate(self, cursor: Any, tm: TableMap, count: int) -> list[int]:
        """Reserve `count` keys from the table's sequence, ascending so that item order is kept."""
        if tm.index not in self._sequences:
            # the table's name is read as SQL reads a name (quoted where it must be), the column's as it is
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", (self.quote(tm.table.name), tm.key))
            self._sequences[tm.index] = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", (self._sequences[tm.index], count))
        return sorted(r[0] for r in cursor.fetchall())
