"""NDJSON in and out of a Store: bulk loads that set invalid lines aside (or refuse them all), and exports."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

from schemarel.errors import (
    ConstraintViolation,
    DocumentInvalid,
    MigrationRequired,
    SchemarelError,
    StoreError,
    ValueRejected,
    WriteRefused,
)
from schemarel.runtime import exactjson
from schemarel.runtime.dberrors import sqlstate
from schemarel.runtime.overlap import Ahead, can_overlap
from schemarel.runtime.paired import CONCURRENCY, Paired
from schemarel.runtime.query import amount
from schemarel.runtime.stats import analyze_after_load
from schemarel.runtime.store import Store
from schemarel.runtime.tablemap import RowBatch

REFUSALS = (ConstraintViolation, ValueRejected)
BOM = b"\xef\xbb\xbf"  # U+FEFF in UTF-8
# what makes a batch fail for one of its lines: each line is then tried on its own
FAILURES = (StoreError, sa.exc.DBAPIError)
Written = tuple[list[Any], list["Reject"], int]  # a batch's ids, its lines refused (before the database, then
# by it), and the number of the last line read with it


@dataclass(frozen=True)
class Reject:
    line: int
    reasons: list[str]

    def to_json(self) -> str:
        return json.dumps({"line": self.line, "errors": self.reasons}, ensure_ascii=False)


_FIRST_LINE = 1 << 22  # a reject line quotes its document's faults: a first line past 4 MiB is no reject


def _holds_rejects(path: Path) -> bool:
    """Whether the file begins with a reject line, as a load writes it: one schemarel may write again."""
    try:
        with open(path, "rb") as f:
            first = json.loads(f.readline(_FIRST_LINE))
    except (OSError, ValueError, RecursionError):
        return False
    return (
        isinstance(first, dict)
        and first.keys() == {"line", "errors"}
        and isinstance(first["line"], int)
        and isinstance(first["errors"], list)
    )


class RejectsFile:
    """Where a load's invalid lines go: created (or truncated) only at the first one, and never a file it must keep.

    Refused before the load starts (exit 2): the input itself (compared by device and inode, so a symlink or a
    hard link to it is caught too: writing it would truncate the lines being read), a file of `keep` (the
    SQLite database), anything inside a folder of `keep_dirs` (the schemas), a folder, and, unless `follow`
    (a path the user named, such as /dev/stderr), a symbolic link.
    """

    def __init__(
        self,
        path: Path,
        source: os.stat_result | None,
        source_name: str,
        keep: Iterable[tuple[str, Path]] = (),
        keep_dirs: Iterable[tuple[str, Path]] = (),
        follow: bool = True,
    ) -> None:
        self.path = path
        self.follow = follow
        self._keep_dirs = [(label, folder.resolve()) for label, folder in keep_dirs]
        self._refused = [(f"the input {source_name}", (source.st_dev, source.st_ino))] if source else []
        for label, other in keep:
            try:
                found = other.stat()
            except OSError:
                continue
            self._refused.append((label, (found.st_dev, found.st_ino)))
        self._handle: IO[str] | None = None
        self._refuse()

    def _refuse(self) -> None:
        if not self.follow and self.path.is_symlink():
            self._fail("is a symbolic link (the default reject file is never written through one)")
        for label, folder in self._keep_dirs:
            if self.path.resolve().is_relative_to(folder):
                self._fail(f"is inside {label}")
        try:
            found = self.path.stat()
        except FileNotFoundError:
            if not self.path.parent.is_dir():
                self._fail(f"cannot be created: {self.path.parent} is not a folder")
            return
        except OSError as exc:
            self._fail(f"cannot be used: {exc.strerror}")
        if os.path.isdir(self.path):
            self._fail("is a folder")
        for label, key in self._refused:
            if (found.st_dev, found.st_ino) == key:
                self._fail(f"is {label}")
        if stat.S_ISREG(found.st_mode) and found.st_size and not _holds_rejects(self.path):
            # a user's file named by mistake (`--rejects README.md`) would be emptied at the first reject
            self._fail('holds something else than rejected lines (its first line is no {"line": …, "errors": …})')

    def _fail(self, why: str) -> None:
        raise SchemarelError(f"--rejects {self.path} {why}; name another file")

    def write(self, item: Reject) -> None:
        if self._handle is None:
            self._refuse()  # again: the checks above ran before the load, the first write is now
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (0 if self.follow else getattr(os, "O_NOFOLLOW", 0))
            self._handle = open(os.open(self.path, flags, 0o666), "w", encoding="utf-8")  # noqa: SIM115
        self._handle.write(item.to_json() + "\n")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


@dataclass(frozen=True)
class _Batch:
    pending: list[tuple[int, Any]]  # line numbers and prepared documents
    rows: tuple[RowBatch, list[Any]] | None  # their rows, None if a value fits no column
    refused: list[Reject]  # the lines read with them that never reach the database
    through: int  # the number of the last line read with them


Start = Callable[[_Batch], list[Written]]  # a batch started, the batches written meanwhile returned
Finish = Callable[[], list[Written]]


@dataclass
class LoadResult:
    loaded: int = 0
    rejected: int = 0
    ids: list[Any] = field(default_factory=list)  # only with `Loader(keep_ids=True)`
    # every line up to this one is loaded or rejected, none after it is (if the load stops on a failure, the
    # lines after it are the ones to load again); with `all_or_nothing`, lines checked so far
    through: int = 0


class Loader:
    """Loads NDJSON lines into a store, `batch_size` documents per transaction.

    An invalid line (bad JSON, a schema violation, a row the database refuses) is reported through `reject`
    with its line number and reasons, and the other lines load. With `all_or_nothing`, everything happens
    in one transaction that is rolled back if any line is rejected (and every line is still checked, so
    that the report is complete). Memory stays the same whatever the number of lines: the ids of the loaded
    documents are kept only with `keep_ids`.
    """

    def __init__(
        self,
        store: Store,
        reject: Callable[[Reject], None],
        batch_size: int = 1000,
        all_or_nothing: bool = False,
        progress: Callable[[int], None] | None = None,
        keep_ids: bool = False,
    ) -> None:
        self.store = store
        self.reject_sink = reject
        self.batch_size = amount("batch_size", batch_size, 1)
        self.all_or_nothing = all_or_nothing
        self.progress = progress
        self.keep_ids = keep_ids
        self.result = LoadResult()
        self._last: Written = ([], [], 0)  # the lines refused before the database after the last batch

    def run(self, lines: Iterable[bytes]) -> LoadResult:
        """Load the lines. If a failure stops the load, the batches committed before it are counted and their
        rejected lines reported all the same (`LoadResult.through` says which lines they are)."""
        overlap = can_overlap(self.store.engine)
        if overlap and not self.all_or_nothing:  # two batches written at once, committed in order (runtime/paired.py)
            paired = Paired[_Batch, Written](
                self.store.engine, self._side_by_side, self._alone, lambda exc: exc, self._recover
            )
            try:
                with paired:
                    self._read(lines, paired.start, list)
                    self._settle(paired.finish())
            finally:
                self._settle(paired.unreturned())
        else:  # a batch written while the next is read (runtime/overlap.py), or one after another
            ahead = Ahead[Written](overlap)
            try:
                with self.store.engine.connect() as conn, ahead:
                    outer = conn.begin() if self.all_or_nothing else None
                    self._read(lines, lambda batch: ahead.start(lambda: self._batch(conn, batch)), ahead.finish)
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

    def _read(self, lines: Iterable[bytes], start: Start, finish: Finish) -> None:
        """Parse the lines and start writing them `batch_size` at a time (`start` returns batches written,
        `finish` every batch written after waiting for those under way, or none)."""
        pending: list[tuple[int, Any]] = []
        refused: list[Reject] = []  # the lines of this batch that never reach the database
        number = 0
        for number, raw in enumerate(lines, 1):
            if number == 1:  # a byte order mark, which JSON parsers may ignore (RFC 8259), as some editors write one
                raw = raw.removeprefix(BOM if isinstance(raw, bytes) else BOM.decode())
            if self.progress is not None:
                self.progress(len(raw))
            document = self._parse(number, raw, refused)
            if document is not None:
                pending.append((number, document))
            if len(pending) >= self.batch_size:
                self._flush(start, finish, pending, refused, number)
                pending, refused = [], []
        self._flush(start, finish, pending, refused, number)

    def _parse(self, number: int, raw: bytes, refused: list[Reject]) -> Any:
        if not raw.strip():
            return None
        try:
            document, plain = exactjson.loads_checked(raw) if isinstance(raw, bytes) else (exactjson.loads(raw), False)
        except exactjson.NotJSON as exc:
            refused.append(_rejection(number, [f"invalid JSON: {exc}"]))
            return None
        try:
            return self.store.prepare(document, plain=plain)
        except DocumentInvalid as exc:
            refused.append(_rejection(number, [str(v) for v in exc.violations]))
        except REFUSALS as exc:
            refused.append(_rejection(number, [str(exc)]))
        return None

    def _flush(
        self, start: Start, finish: Finish, pending: list[tuple[int, Any]], refused: list[Reject], through: int
    ) -> None:
        """Start writing a batch (the lines read up to line `through`); the lines refused before the database are
        reported with it, before the ones it refuses: in the order of a load that writes each batch before
        reading on."""
        if self.all_or_nothing:  # whether a line was rejected so far decides whether this batch is written
            self._settle(finish())
            self._settle([([], refused, through)])
            refused = []
            if self.result.rejected:
                return  # nothing will be kept: only checking goes on
        if not pending:
            self._last = ([], refused, through)  # reported once every batch is
            return
        try:  # the rows are built here, while the batch before is being written
            rows: tuple[RowBatch, list[Any]] | None = self.store.rows_of([doc for _, doc in pending])
        except FAILURES:
            rows = None  # a value no column takes: `_write` finds its line
        self._settle(start(_Batch(pending, rows, refused, through)))

    def _settle(self, written: list[Written]) -> None:
        """Count (and report) what batches wrote and rejected."""
        for ids, rejected, through in written:
            self.result.loaded += len(ids)
            if self.keep_ids:
                self.result.ids += ids
            for item in rejected:
                self.result.rejected += 1
                self.reject_sink(item)
            self.result.through = max(self.result.through, through)

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


def _rejection(number: int, reasons: list[str]) -> Reject:
    # a reason may quote a lone surrogate (a key's pointer): as `\udbff`, so that it can be written as UTF-8
    return Reject(number, [r.encode("utf-8", "backslashreplace").decode() for r in reasons])


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
