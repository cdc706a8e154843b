"""NDJSON in and out of a Store: bulk loads that set invalid lines aside (or refuse them all), and exports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

import sqlalchemy as sa

from schemarel.errors import MigrationRequired, StoreError, WriteRefused
from schemarel.runtime import exactjson
from schemarel.runtime.dberrors import sqlstate
from schemarel.runtime.loading import (
    BOM,
    REFUSALS,
    LineReader,
    LoadResult,
    Reject,
    RejectsFile,
    Written,
    _Batch,
    _rejection,
)
from schemarel.runtime.overlap import Ahead, can_overlap
from schemarel.runtime.paired import CONCURRENCY, Paired
from schemarel.runtime.stats import analyze_after_load
from schemarel.runtime.store import Store
from schemarel.runtime.tablemap import RowBatch

__all__ = ["BOM", "REFUSALS", "LoadResult", "Loader", "Reject", "RejectsFile", "export"]
# what makes a batch fail for one of its lines: each line is then tried on its own
FAILURES = (StoreError, sa.exc.DBAPIError)


class Loader(LineReader):
    """Loads NDJSON lines into a store, `batch_size` documents per transaction.

    An invalid line (bad JSON, a schema violation, a row the database refuses) is reported through `reject`
    with its line number and reasons, and the other lines load. With `all_or_nothing`, everything happens
    in one transaction that is rolled back if any line is rejected (and every line is still checked, so
    that the report is complete). Memory stays the same whatever the number of lines: the ids of the loaded
    documents are kept only with `keep_ids`.
    """

    store: Store

    def run(self, lines: Iterable[bytes], first: int = 1) -> LoadResult:
        """Load the lines (the first is line `first`: a load that `copyload` began). If a failure stops the load,
        the batches committed before it are counted and their rejected lines reported all the same
        (`LoadResult.through` says which lines they are)."""
        overlap = can_overlap(self.store.engine)
        if overlap and not self.all_or_nothing:  # two batches written at once, committed in order (runtime/paired.py)
            paired = Paired[_Batch, Written](
                self.store.engine, self._side_by_side, self._alone, lambda exc: exc, self._recover
            )
            try:
                with paired:
                    self._read(lines, paired.start, list, first)
                    self._settle(paired.finish())
            finally:
                self._settle(paired.unreturned())
        else:  # a batch written while the next is read (runtime/overlap.py), or one after another
            ahead = Ahead[Written](overlap)
            try:
                with self.store.engine.connect() as conn, ahead:
                    outer = conn.begin() if self.all_or_nothing else None
                    self._read(lines, lambda batch: ahead.start(lambda: self._batch(conn, batch)), ahead.finish, first)
                    self._settle(ahead.finish())
                    if outer is not None:
                        if self.result.rejected:
                            outer.rollback()
                            self.result.loaded = 0
                            self.result.ids = []
                        else:
                            outer.commit()
            except BaseException:
                self._settle(ahead.unreturned())
                if self.all_or_nothing:  # its one transaction is rolled back
                    self.result.loaded, self.result.ids = 0, []
                raise
        self._settle([self._last])
        analyze_after_load(self.store.engine, self.store.mapping.tables, self.result.loaded)  # see runtime/stats.py
        return self.result

    def _rows(self, documents: list[Any]) -> tuple[RowBatch, list[Any]] | None:
        try:
            return self.store.rows_of(documents)
        except FAILURES:
            return None  # a value no column takes: `_write` finds its line

    def _batch(self, conn: sa.Connection, batch: _Batch) -> Written:
        """Write a batch (possibly in the worker thread): its ids, and its lines refused."""
        rejected = list(batch.refused)
        if self.all_or_nothing:
            return self._write(conn, batch, rejected), rejected, batch.through
        try:
            with conn.begin():
                ids = self._write(conn, batch, rejected)
        except sa.exc.DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            rejected = list(batch.refused)
            ids = self._one_by_one(conn, batch.pending, rejected)
        return ids, rejected, batch.through

    def _side_by_side(self, conn: sa.Connection, batch: _Batch) -> Written:
        """Write a batch in the transaction `Paired` began; a concurrency failure escapes (it is written again)."""
        rejected = list(batch.refused)
        return self._write(conn, batch, rejected, side_by_side=True), rejected, batch.through

    def _alone(self, batch: _Batch) -> Written:
        with self.store.engine.connect() as conn:
            return self._batch(conn, batch)

    def _recover(self, batch: _Batch, error: Exception) -> Written:
        """A batch written side by side whose connection the server dropped: each line again, as `_batch` does."""
        if not _lost(error):
            raise error
        rejected = list(batch.refused)
        with self.store.engine.connect() as conn:
            return self._one_by_one(conn, batch.pending, rejected), rejected, batch.through

    def _one_by_one(self, conn: sa.Connection, pending: list[tuple[int, Any]], rejected: list[Reject]) -> list[Any]:
        """After the server dropped the connection (the batch's transaction is gone with it): each line again,
        in a transaction of its own, on a new connection."""
        ids = []
        for number, doc in pending:
            try:
                with conn.begin():
                    ids += self.store.write(conn, [doc])
            except Exception as exc:
                # a driver's own error (COPY on PostgreSQL) typed, as `store.transaction` does in `_write`
                refusal = exc if isinstance(exc, FAILURES) else self.store.error(exc)
                if not isinstance(refusal, FAILURES):
                    raise
                if _not_the_documents(refusal):
                    raise refusal from None
                rejected.append(_rejection(number, [_reason(refusal)]))
        return ids

    def _write(
        self, conn: sa.Connection, batch: _Batch, rejected: list[Reject], side_by_side: bool = False
    ) -> list[Any]:
        """The batch's rows in a SAVEPOINT; if it fails, each document in its own, to find the culprits. A lost
        connection escapes, and so does a concurrency failure `side_by_side` (runtime/paired.py writes it again)."""
        if batch.rows is not None:
            try:
                with self.store.transaction(conn) as c:
                    return self.store.send(c, *batch.rows)
            except FAILURES as exc:
                _escape(exc, side_by_side)
        ids = []
        for number, doc in batch.pending:
            try:
                with self.store.transaction(conn) as c:
                    ids += self.store.write(c, [doc])
            except FAILURES as exc:
                _escape(exc, side_by_side)
                rejected.append(_rejection(number, [_reason(exc)]))
        return ids


def _lost(exc: BaseException) -> bool:
    return isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated


def _not_the_documents(exc: Exception) -> bool:
    """A failure every document would meet: a table or column the database lacks, no privilege, a read-only
    database, a full disk. It stops the load rather than reject every line with it (`LoadResult.through` says
    where the load stopped)."""
    return isinstance(exc, MigrationRequired | WriteRefused)


def _escape(exc: Exception, side_by_side: bool) -> None:
    """Raise a failure that is not the document's: a lost connection, one every document would meet, or a
    concurrency failure of a batch written `side_by_side` (raised as the driver's error, whose SQLSTATE `Paired`
    reads)."""
    if _lost(exc) or _not_the_documents(exc):
        raise exc
    if side_by_side:
        for error in (exc, exc.__cause__):
            if isinstance(error, Exception) and sqlstate(error) in CONCURRENCY:
                raise error


def _reason(exc: BaseException) -> str:
    """One line for the rejects file: a typed refusal says it itself; a driver error by its first line."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        return f"the database refused the document: {str(exc.orig).strip().splitlines()[0]}"
    return str(exc)


def export(store: Store, out: IO[str], with_ids: bool = False, where: Any = None) -> int:
    """Write every document (matching `where`) as one JSON line (`{"id": …, "document": …}` with ids); returns
    the count. Read by `Store.pages` (one snapshot), written a page at a time (`exactjson.dumps_lines`)."""
    count = 0
    for page in store.pages(where):
        if with_ids:
            out.write(exactjson.dumps_lines([{"id": _json_id(key), "document": doc} for key, doc in page]))
        else:
            out.write(exactjson.dumps_lines([doc for _, doc in page]))
        count += len(page)
    return count


def _json_id(doc_id: Any) -> Any:
    return doc_id if isinstance(doc_id, int | str) else str(doc_id)
