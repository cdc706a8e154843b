"""`schemarel load` on PostgreSQL without SQLAlchemy: COPY on two psycopg connections, the Store's way on any trouble.

Why: a load of 20,000 CustomerProfile documents took as long to start as COPY took to write a third of them, and
SQLAlchemy's import (with every PostgreSQL dialect it holds) was most of that start-up. This path imports
psycopg, the model and the mapping: the rows are built by the same compiled code as the Store's
(`documents.DocumentMap`), validated by the same validators (`prepare.prepared`), written by the same COPY
(`copywrite.CopyWriter`: keys that child rows point at fetched from their sequence first), two batches at once
and committed in order, each with the side-by-side settings of `paired.Paired`.

It is taken when it can promise all that `ndjson.Loader` promises: a URL of PostgreSQL through psycopg
(`postgresql+psycopg://`), the database at the models' head revision, no `--all-or-nothing`, and a regular file
to read (`cli/data.py`). It hands over to `ndjson.Loader` at the first batch that does not commit (a row the
database refuses, a value no column takes, a lost connection, a lock wait that ran out): the batches committed
before it stay, counted and reported, and the Loader loads on from that batch's first line, reading the lines
of the batches under way again (so a reject is reported once, in line order, and a line number is the same as in
a load the Loader made alone).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

from schemarel.runtime.copytext import make_texts
from schemarel.runtime.copywrite import CopyWriter
from schemarel.runtime.documents import DocumentMap
from schemarel.runtime.loading import LineReader, Reject, Written, _Batch
from schemarel.runtime.overlap import fast_switching
from schemarel.runtime.paired import side_by_side_settings
from schemarel.runtime.prepare import prepared
from schemarel.runtime.source import locate
from schemarel.runtime.stats import ANALYZE_AFTER, analyze_sql
from schemarel.runtime.tablemap import RowBatch
from schemarel.runtime.validation import DocumentValidator

SCHEME = "postgresql+psycopg://"  # SQLAlchemy's URL of PostgreSQL through psycopg (3)


class _Handover(Exception):
    """A batch did not commit: the load goes on in `ndjson.Loader` from its first line."""


class CannotConnect(Exception):
    """The server refused the connection (or could not be reached): the Store's way would only try again."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


class Rows:
    """Documents made ready (`prepare`) and their rows built (`rows_of`) as the Store does on PostgreSQL."""

    def __init__(self, out_dir: Path, schema: str) -> None:
        self.model = model = locate(out_dir)  # the Store's way loads on with it after a hand-over
        source = model.source(schema)
        self.name = schema
        self.revision = model.revision
        self.mapping = DocumentMap(model.database.schema(schema), None, contents=source.contents, compiled=True)
        self.validator = DocumentValidator(source, model.sources)

    def prepare(self, document: Any, index: int | None = None, *, plain: bool = False) -> Any:
        return prepared(self.name, self.mapping, self.validator, document, index, plain=plain, nul_ok=False)

    def rows_of(self, documents: list[Any]) -> tuple[RowBatch, list[Any]]:
        batch = self.mapping.new_batch()
        ids = [self.mapping.add(batch, document) for document in documents]
        make_texts(self.mapping.tables, batch)
        return batch, ids

    def ids(self, batch: RowBatch, ids: list[Any]) -> list[Any]:
        """The documents' ids once the batch is written (a root keyed by the server has them only then)."""
        return batch.keys[0] if self.mapping.root.key_source == "server" else ids


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _analyze(conn: Any, tables: list[Any]) -> None:
    conn.execute(analyze_sql(tables, _quoted))
    conn.commit()


class CopyLoader(LineReader):
    """Loads NDJSON lines by COPY (see the module docstring); `run` returns the lines left to `ndjson.Loader`."""

    keep_lines = True
    store: Rows

    def __init__(
        self,
        rows: Rows,
        connections: list[Any],
        reject: Callable[[Reject], None],
        batch_size: int = 1000,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(rows, reject, batch_size, False, progress)
        self._connections = connections
        self._copy = CopyWriter(rows.mapping.tables, _quoted)
        self._pool = ThreadPoolExecutor(2, thread_name_prefix="schemarel-copy")
        self._under_way: deque[tuple[_Batch, Future[None]]] = deque()
        self._written = 0  # batches started
        self._stop = threading.Event()  # set when the load stops: no batch commits after it
        self._left: list[bytes] = []  # the lines of the batches that did not commit, in order
        self._unsent: _Batch | None = None  # the batch being started
        self.reread = 0  # bytes of the lines handed over that `progress` was given already

    def run(self, lines: Iterable[bytes]) -> Iterator[bytes] | None:
        """Load the lines; None when every line is loaded or rejected, else the lines `ndjson.Loader` loads on
        from (line `result.through + 1` first)."""
        rest = iter(lines)
        try:
            self._read(rest, self._start, self._finish)
            self._finish()
        except _Handover:
            return itertools.chain(self._left, rest)
        except BaseException:
            self._stop.set()
            self._settle_committed()
            raise
        self._settle([self._last])
        if self.result.loaded >= ANALYZE_AFTER:  # see runtime/stats.py; half the tables on each connection
            tables = self.store.mapping.tables
            halves = [(conn, tables[i::2]) for i, conn in enumerate(self._connections) if tables[i::2]]
            for done in [self._pool.submit(_analyze, conn, part) for conn, part in halves]:
                done.result()
        return None

    def _rows(self, documents: list[Any]) -> tuple[RowBatch, list[Any]] | None:
        try:
            return self.store.rows_of(documents)
        except Exception:  # a value no column takes (ValueRejected, a conversion's error): the Loader finds it
            return None

    def _start(self, batch: _Batch) -> list[Written]:
        """Write a batch beside the one before it; the batch before that (on the same connection) is waited for
        first. Every batch is counted as it commits (`_committed`), so a hand-over loses none."""
        self._unsent = batch
        if batch.rows is None:  # the batches before it are written first, as the Loader would have
            self._finish()
            self._hand_over()
        if len(self._under_way) == 2:
            self._committed()
        before = self._under_way[-1][1] if self._under_way else None
        conn = self._connections[self._written % 2]
        self._written += 1
        self._under_way.append((batch, self._pool.submit(self._write, conn, batch, before)))
        self._unsent = None
        return []

    def _finish(self) -> list[Written]:
        while self._under_way:
            self._committed()
        return []

    def _committed(self) -> None:
        """Wait for the first batch under way: counted (and its rejected lines reported) once committed, else
        the load is handed over from it."""
        if not self._count_first():
            self._hand_over()

    def _count_first(self) -> bool:
        """Wait for the first batch under way; whether it committed (then it is counted and no longer under way)."""
        batch, future = self._under_way[0]
        try:
            future.result()
        except Exception:
            return False
        self._under_way.popleft()
        assert batch.rows is not None
        self._settle([(self.store.ids(*batch.rows), list(batch.refused), batch.through)])
        return True

    def _hand_over(self) -> None:
        """Stop at the first batch under way, which did not commit: the batches after it roll back (a batch
        commits only after the one before it did); their lines, the unsent batch's and those read after the
        last batch go to the Loader."""
        self._stop.set()
        for batch, future in self._under_way:
            with contextlib.suppress(Exception):
                future.result()
            self._left += batch.lines
        self._under_way.clear()
        if self._unsent is not None:
            self._left += self._unsent.lines
        self._left += self._last_lines
        self.reread = sum(map(len, self._left))
        raise _Handover

    def _settle_committed(self) -> None:
        """After a failure that stops the load: count the batches that committed before it."""
        while self._under_way and self._count_first():
            pass

    def _write(self, conn: Any, batch: _Batch, before: Future[None] | None) -> None:
        """COPY the batch's rows in a transaction committed once the batch before it committed (a worker's)."""
        assert batch.rows is not None
        rows = batch.rows[0]
        try:
            with conn.cursor() as cursor:
                cursor.execute(side_by_side_settings())
                self._copy.write(cursor, rows)
            if before is not None:
                before.result()  # raises when the batch before did not commit
            if self._stop.is_set():
                raise _Handover
            conn.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                conn.rollback()
            raise

    def __enter__(self) -> CopyLoader:
        fast_switching(True)  # the workers' many short waits for the server: see runtime/overlap.py
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True)
        fast_switching(False)
        for conn in self._connections:
            with contextlib.suppress(Exception):
                conn.close()


def copy_loader(
    url: str,
    out_dir: Path,
    schema: str,
    reject: Callable[[Reject], None],
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> CopyLoader | None:
    """A CopyLoader for `url`, or None where this path cannot promise what `ndjson.Loader` does (see the module
    docstring) or anything is amiss (the Store's way then says what, in its own words). A connection the server
    refuses is CannotConnect: trying again the Store's way would wait a second time for a host that does not
    answer."""
    if not url.startswith(SCHEME):
        return None
    try:
        rows = Rows(out_dir, schema)
        if rows.revision is None:
            return None
        import psycopg

        conninfo = "postgresql://" + url.removeprefix(SCHEME)
        try:
            connections = [psycopg.connect(conninfo)]
        except psycopg.OperationalError as exc:
            raise CannotConnect(exc) from exc
        try:
            found = [r[0] for r in connections[0].execute("SELECT version_num FROM alembic_version")]
            connections[0].rollback()
            if found != [rows.revision]:
                raise LookupError(found)
            connections.append(psycopg.connect(conninfo))
            return CopyLoader(rows, connections, reject, batch_size, progress)
        except BaseException:
            for conn in connections:
                conn.close()
            raise
    except CannotConnect:
        raise
    except Exception:
        return None
