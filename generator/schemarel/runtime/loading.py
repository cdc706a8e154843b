"""Reading an NDJSON load: lines parsed, validated and set aside when invalid, batches started, results counted.

What every way of writing the batches shares (SQLAlchemy's in `ndjson.Loader`, PostgreSQL's COPY without it in
`copyload.CopyLoader`): this module imports neither SQLAlchemy nor a driver.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from schemarel.errors import ConstraintViolation, DocumentInvalid, SchemarelError, ValueRejected, amount
from schemarel.runtime import exactjson
from schemarel.runtime.tablemap import RowBatch

REFUSALS = (ConstraintViolation, ValueRejected)
BOM = b"\xef\xbb\xbf"  # U+FEFF in UTF-8
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
    lines: list[bytes] = field(default_factory=list)  # every line read with them, as read (`keep_lines`)


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


class Preparing(Protocol):
    def prepare(self, document: Any, index: int | None = None, *, plain: bool = False) -> Any: ...


class LineReader:
    """The reading half of a load: `batch_size` documents at a time, invalid lines reported through `reject`
    with their line numbers and reasons (in line order, each with the batch it was read with), results counted
    in `result`. A subclass writes the batches (`run`, `_rows`)."""

    keep_lines = False  # whether each batch keeps its lines as read (`_Batch.lines`)

    def __init__(
        self,
        store: Preparing,
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
        self._last_lines: list[bytes] = []  # and those lines as read (`keep_lines`)

    def _read(self, lines: Iterable[bytes], start: Start, finish: Finish, first: int = 1) -> None:
        """Parse the lines (the first is line `first`) and start writing them `batch_size` at a time (`start`
        returns batches written, `finish` every batch written after waiting for those under way, or none)."""
        pending: list[tuple[int, Any]] = []
        refused: list[Reject] = []  # the lines of this batch that never reach the database
        read: list[bytes] | None = [] if self.keep_lines else None  # the batch's lines as read
        number = first - 1
        for number, raw in enumerate(lines, first):
            if read is not None:
                read.append(raw)
            if self.progress is not None:
                self.progress(len(raw))
            if number == 1:  # a byte order mark, which JSON parsers may ignore (RFC 8259), as some editors write one
                raw = raw.removeprefix(BOM if isinstance(raw, bytes) else BOM.decode())
            document = self._parse(number, raw, refused)
            if document is not None:
                pending.append((number, document))
            if len(pending) >= self.batch_size:
                self._flush(start, finish, pending, refused, number, read)
                pending, refused, read = [], [], [] if read is not None else None
        self._flush(start, finish, pending, refused, number, read)

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
        self,
        start: Start,
        finish: Finish,
        pending: list[tuple[int, Any]],
        refused: list[Reject],
        through: int,
        read: list[bytes] | None = None,
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
            self._last_lines = read or []
            return
        # the rows are built here, while the batch before is being written
        self._settle(start(_Batch(pending, self._rows([doc for _, doc in pending]), refused, through, read or [])))

    def _rows(self, documents: list[Any]) -> tuple[RowBatch, list[Any]] | None:
        """The rows of a batch's documents and their ids, or None where a value fits no column (each document is
        then written on its own, to find its line)."""
        raise NotImplementedError

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


def _rejection(number: int, reasons: list[str]) -> Reject:
    # a reason may quote a lone surrogate (a key's pointer): as `\udbff`, so that it can be written as UTF-8
    return Reject(number, [r.encode("utf-8", "backslashreplace").decode() for r in reasons])
