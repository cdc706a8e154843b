"""The Store's writes: create (one or many), replace, patch (RFC 7396) and delete documents, each in a transaction."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from schemarel.errors import DocumentNotFound
from schemarel.runtime import patch
from schemarel.runtime.base import UPDATED_AT, Bind, StoreBase
from schemarel.runtime.bulk import PostgresWriter
from schemarel.runtime.marks import MISSING
from schemarel.runtime.overlap import can_overlap
from schemarel.runtime.paired import Paired
from schemarel.runtime.query import amount
from schemarel.runtime.stats import analyze_after_load
from schemarel.runtime.tablemap import RowBatch


class Writes(StoreBase):
    """Writing documents: validated, defaults filled in, all the rows of a document in one transaction."""

    def write(self, conn: sa.Connection, documents: Sequence[Any]) -> list[Any]:
        """Write prepared documents on `conn` (no transaction handling); returns their ids in order."""
        batch, ids = self.rows_of(documents)
        return self.send(conn, batch, ids)

    def rows_of(self, documents: Sequence[Any]) -> tuple[RowBatch, list[Any]]:
        """The rows of prepared documents, and their ids (None where the database assigns them)."""
        batch = self.mapping.new_batch()
        ids = [self.mapping.add(batch, doc) for doc in documents]
        self._writer(self.engine.dialect).ready(batch)  # the writer's share that needs no connection, here
        return batch, ids

    def send(self, conn: sa.Connection, batch: RowBatch, ids: list[Any]) -> list[Any]:
        """Write the rows of `rows_of` on `conn` (no transaction handling); returns the documents' ids."""
        self._writer(conn.dialect).write(conn, batch)
        return batch.keys[0] if self.root.key_source == "server" else ids

    def create(self, document: Any, *, conn: Bind | None = None) -> Any:
        """Store one document; returns its id."""
        batch, doc_id = self.one_batch(document)
        writer = self._writer(self.engine.dialect)
        one_statement = writer.one_statement(batch)
        if one_statement and conn is None and isinstance(writer, PostgresWriter) and self.direct.psycopg:
            # straight through psycopg, prepared: SQLAlchemy's execution path costs more than the insert itself
            try:
                self.direct.execute(*writer.one_insert(batch))
            except Exception as exc:
                raise self.error(exc) from exc
            return self.created_id(batch, doc_id)
        with self.transaction(conn, one_statement=one_statement) as c:
            writer.write_one(c, batch)
        return self.created_id(batch, doc_id)

    def one_batch(self, document: Any) -> tuple[RowBatch, Any]:
        """The rows of one new document, validated (its id, or None until the database assigns it)."""
        batch = self.mapping.new_batch()
        return batch, self.mapping.add(batch, self.prepare(document))

    def created_id(self, batch: RowBatch, doc_id: Any) -> Any:
        return batch.keys[0][0] if self.root.key_source == "server" else doc_id

    def create_many(self, documents: Iterable[Any], batch_size: int = 1000, *, conn: Bind | None = None) -> list[Any]:
        """Store many documents, `batch_size` per transaction (or SAVEPOINT); returns their ids in order.

        Each batch is all or nothing. A failing batch raises (DocumentInvalid says which document, by
        `index`); the batches before it stay written. After a large load in transactions of its own, the tables
        are analyzed (runtime/stats.py says when and why); in the caller's transaction that is the caller's call.
        In transactions of its own on PostgreSQL, two batches are written at once, committed in order, while the next
        is prepared (runtime/paired.py).
        """
        ids: list[Any] = []
        if conn is None and can_overlap(self.engine):  # two batches at once, committed in order (runtime/paired.py)
            paired = Paired[tuple[RowBatch, list[Any]], list[Any]](
                self.engine, lambda c, rows: self.send(c, *rows), lambda rows: self._send_batch(None, *rows), self.error
            )
            with paired:
                for prepared in self.batches(documents, batch_size):
                    for written in paired.start(self.rows_of(prepared)):
                        ids += written
                for written in paired.finish():
                    ids += written
        else:  # one after another, in the calling thread
            for prepared in self.batches(documents, batch_size):
                ids += self._send_batch(conn, *self.rows_of(prepared))
        if conn is None:
            analyze_after_load(self.engine, self.mapping.tables, len(ids))
        return ids

    def _send_batch(self, conn: Bind | None, batch: RowBatch, ids: list[Any]) -> list[Any]:
        with self.transaction(conn) as c:
            return self.send(c, batch, ids)

    def batches(self, documents: Iterable[Any], batch_size: int) -> Iterator[list[Any]]:
        """Prepared documents, `batch_size` at a time."""
        amount("batch_size", batch_size, 1)
        batch: list[Any] = []
        for index, document in enumerate(documents):
            batch.append(self.prepare(document, index))
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def replace(self, doc_id: Any, document: Any, *, conn: Bind | None = None) -> None:
        """Replace a stored document by another (same id; `created_at` kept, `updated_at` set)."""
        document = self.prepare(document)
        with self.transaction(conn) as c:
            self.replace_on(c, doc_id, document)

    def replace_on(self, c: sa.Connection, doc_id: Any, document: Any) -> None:
        key = self._key(doc_id)
        root = self.root
        batch = self._batch_of(document, key)
        values = self.mapping.values(root, batch.rows[0][0], self.engine.dialect)
        values.pop(root.key, None)
        if UPDATED_AT in root.sa_table.c and UPDATED_AT not in values:
            values[UPDATED_AT] = sa.func.now()
        if not values:  # a root row of no value column (an array root): the key set to itself finds and locks it
            values[root.key] = root.sa_table.c[root.key]
        if c.execute(sa.update(root.sa_table).where(self._key_column == key).values(values)).rowcount == 0:
            raise DocumentNotFound(self.name, doc_id)
        for child in root.children:  # their own children go by ON DELETE CASCADE
            patch.clear(c, child, key)
        for ref in root.links:  # documents nested by a recursive property, and theirs by cascade
            c.execute(sa.delete(root.sa_table).where(root.sa_table.c[ref.column] == key))
        tables = self.mapping.tables[1:]
        if len(batch.rows[0]) > 1:  # the nested documents are new rows of the root table (client keys)
            batch.rows[0] = batch.rows[0][1:]
            tables = self.mapping.tables
        self._writer(c.dialect).insert(c, batch, tables)

    def patch(self, doc_id: Any, merge_patch: Any, *, if_match: Any = MISSING, conn: Bind | None = None) -> Any:
        """Apply an RFC 7396 JSON Merge Patch to a stored document and return the result. The result is
        validated as a whole before anything is written; only the root columns that change, and the child
        rows of the arrays and objects that changed, are written, in one transaction, the document's row
        locked (FOR UPDATE) while it is read. `if_match`: the document as the caller read it; if the stored
        one differs, ConcurrentUpdate is raised and nothing is written (optimistic concurrency)."""
        planned = self.direct_patch(merge_patch, if_match)
        if planned is not None and conn is None and self.direct.enabled:
            return self.patcher.direct(doc_id, planned)
        with self.transaction(conn, one_statement=planned is not None and len(self.mapping.tables) == 1) as c:
            return self.patcher.apply(c, doc_id, merge_patch, if_match, planned)

    def direct_patch(self, merge_patch: Any, if_match: Any) -> dict[str, Any] | None:
        """The root columns a patch sets, validated, when it can be written without reading the document."""
        return self.patcher.plan(merge_patch, if_match)

    def patch_on(
        self, c: sa.Connection, doc_id: Any, merge_patch: Any, if_match: Any = MISSING, direct: Any = None
    ) -> Any:
        return self.patcher.apply(c, doc_id, merge_patch, if_match, direct)

    def _batch_of(self, document: Any, key: Any) -> RowBatch:
        """The rows of a stored document (its key given)."""
        batch = self.mapping.new_batch()
        self.mapping.add(batch, document, key=key)
        if self.root.key_source == "server":
            batch.keys[0] = [key]
        return batch

    def delete(self, doc_id: Any, *, conn: Bind | None = None) -> None:
        """Delete a document and, by ON DELETE CASCADE, every row of it."""
        with self.transaction(conn) as c:
            self.delete_on(c, doc_id)

    def delete_on(self, c: sa.Connection, doc_id: Any) -> None:
        if c.execute(sa.delete(self.root.sa_table).where(self._key_column == self._key(doc_id))).rowcount == 0:
            raise DocumentNotFound(self.name, doc_id)
