"""Bulk writes on two connections at once, committed in order: a batch's statements run while the one before's do.

Why: a COPY batch's time is the server's (parsing rows, foreign key checks), one backend busy on one core; the
commit itself is short, so overlapping only the commit with the next batch's statements gained nothing
(2.31 s against 2.25 s for 20 batches of CustomerProfiles). Two backends writing two batches side by side
take 1.8 s where one takes 2.4 s. The contract stays that of one batch after another:

- the same batches, each all or nothing in a transaction of its own, committed in order: a batch commits
  only after the one before it committed, and is rolled back if that one failed (so a batch after a failed
  one is never committed, and the failure raised is the earliest batch's);
- two batches side by side may wait on each other's rows (a unique value both insert, a row one references
  that the other inserts). The later one waiting on the earlier is what one after another does too (it then
  sees the committed row). The earlier one waiting on the later could wait forever, the later waiting in this
  module for the earlier's commit: so a batch run side by side has a `lock_timeout` (1 s, or the session's own
  if lower), and one that fails by it, by the server's deadlock detection or by a serialization failure (an
  engine at SERIALIZABLE) is written again alone, with the session's own settings, once the later one rolled
  back (it does when the batch before it fails), and the later one after it: their outcome is then the one of
  one batch after another. A longer wait on another session's lock is retried the same way, so it ends as it
  would without the pairing. Then batches go side by side again: a clash costs the clashing batches' first
  attempt, writing the rest alone would cost the pairing's gain on every later batch. Only clashes that repeat
  (fewer than `QUIET` batches committed side by side since the last) back off: after the 2nd, 3rd, 4th … in
  a row, 1, 3, 7 … more batches (at most `MOST_ALONE`) are written alone;
- the later of two batches waits idle in its transaction for the earlier's commit, so its transaction turns
  off `idle_in_transaction_session_timeout`: that wait is this module's, not a forgotten transaction's, and
  it lasts as long as the earlier batch, whose statements the session's other timeouts still bound. (Ended by
  the server instead, the batch would be written again for nothing, and a connection lost at commit leaves
  unknown whether the commit happened.)

No deadlock: a job waits in this module only for the job before it, which waits for nothing later (its lock
waits end by the timeout); a job takes a connection from the pool only once the job before it has its own,
so with a pool of one connection the later waits for the earlier to give it back, never the other way round.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Generic, TypeVar

from schemarel.runtime.overlap import fast_switching

if TYPE_CHECKING:
    import sqlalchemy as sa

I = TypeVar("I")  # noqa: E741 - a work item
T = TypeVar("T")

LOCK_TIMEOUT = "1s"  # a lock wait of a batch run side by side (or the session's, if lower); longer ones retried alone
QUIET = 4  # batches committed side by side after which a clash no longer counts as a repeated one
MOST_ALONE = 63  # batches written alone at most after clashes in a row (1, 3, 7 … after the 2nd, 3rd, 4th …)
# lock_not_available, deadlock_detected, serialization_failure (an engine at SERIALIZABLE): may come of the pairing
CONCURRENCY = frozenset({"55P03", "40P01", "40001"})


@dataclass
class _Outcome(Generic[T]):
    result: T | None = None
    error: Exception | None = None
    skipped: bool = False  # rolled back because the batch before failed

    @property
    def committed(self) -> bool:
        return self.error is None and not self.skipped


@dataclass
class _Job(Generic[I, T]):
    item: I
    connected: threading.Event  # set once the job holds a connection (or will never take one)
    future: Future[_Outcome[T]] | None = None


class Paired(Generic[I, T]):
    """Writes items by `write(conn, item)` in transactions of their own, two at a time on two connections of
    `engine`, committed in order; `alone(item)` writes one in a transaction of its own (errors translated).
    `translate` turns a database error into the one `alone` would raise; `recover(item, error)`, if given, is
    the result of an item whose write failed otherwise than by a concurrency failure (it raises what it cannot
    recover from, such as `error`), the item beside it then written again alone. Used as a context manager, like
    `overlap.Ahead`: `start` returns the results of items finished (raising the earliest failure), `finish`
    waits for the rest; leaving the block after a failure of its own waits for the items under way, and a
    failure of theirs is the one raised (it happened first)."""

    def __init__(
        self,
        engine: sa.Engine,
        write: Callable[[sa.Connection, I], T],
        alone: Callable[[I], T],
        translate: Callable[[Exception], Exception],
        recover: Callable[[I, Exception], T] | None = None,
    ) -> None:
        self._engine = engine
        self._write = write
        self._alone = alone
        self._translate = translate
        self._recover = recover
        self._pool = ThreadPoolExecutor(2, thread_name_prefix="schemarel-write")
        self._under_way: deque[_Job[I, T]] = deque()
        self._clashes = 0  # clashes in a row: fewer than QUIET batches committed side by side between them
        self._quiet = 0  # batches committed side by side since the last clash
        self._alone_left = 0  # batches to write alone before going side by side again (after repeated clashes)
        self._done: list[T] = []

    def start(self, item: I) -> list[T]:
        """The results of the items finished so far, then `item` started (the item two before it finished)."""
        while len(self._under_way) >= (1 if self._alone_left else 2):
            self._settle_first()
        if self._alone_left:
            self._alone_left -= 1
            self._done.append(self._alone(item))
        else:
            before = self._under_way[-1] if self._under_way else None
            job = _Job[I, T](item, threading.Event())
            job.future = self._pool.submit(self._run, job, before)
            self._under_way.append(job)
        done, self._done = self._done, []
        return done

    def finish(self) -> list[T]:
        """The results of every item not yet returned, waiting for those under way."""
        while self._under_way:
            self._settle_first()
        done, self._done = self._done, []
        return done

    def _settle_first(self) -> None:
        """The earliest item under way: its result kept, or its failure raised or recovered from (the later one
        is then rolled back), or, after a clash with the later one, both written again one at a time."""
        job = self._under_way.popleft()
        assert job.future is not None
        outcome = job.future.result()
        if outcome.committed:
            self._done.append(outcome.result)  # type: ignore[arg-type]
            self._quiet += 1
            if self._quiet >= QUIET:
                self._clashes = 0
            return
        later = list(self._under_way)
        self._under_way.clear()
        for other in later:  # each rolls back: the batch before it failed
            assert other.future is not None
            other.future.result()
        error = outcome.error
        assert error is not None
        from schemarel.runtime.dberrors import sqlstate  # SQLAlchemy's: not imported by `copyload`

        if sqlstate(error) in CONCURRENCY:
            first = self._alone(job.item)
            self._clashes += 1
            self._quiet = 0
            self._alone_left = min(2 ** (self._clashes - 1) - 1, MOST_ALONE)
        elif self._recover is not None:
            first = self._recover(job.item, error)
        else:
            raise self._translate(error) from error
        self._done.append(first)
        for again in later:
            self._done.append(self._alone(again.item))

    def _run(self, job: _Job[I, T], before: _Job[I, T] | None) -> _Outcome[T]:
        """One item's transaction, committed once the item before it committed (in a worker thread)."""
        try:
            if before is not None:
                before.connected.wait()  # the earlier job takes its connection first (see the module docstring)
            with self._engine.connect() as conn:
                job.connected.set()
                return self._transaction(conn, job, before)
        except Exception as exc:  # a connection the pool could not give
            return _Outcome(error=exc)
        finally:
            job.connected.set()

    def _transaction(self, conn: sa.Connection, job: _Job[I, T], before: _Job[I, T] | None) -> _Outcome[T]:
        transaction = conn.begin()
        try:
            conn.exec_driver_sql(side_by_side_settings())
            result = self._write(conn, job.item)
        except Exception as exc:
            with contextlib.suppress(Exception):  # a dropped connection: the failure to report is `exc`
                transaction.rollback()
            return _Outcome(error=exc)
        if before is not None:
            assert before.future is not None
            if not before.future.result().committed:
                transaction.rollback()
                return _Outcome(skipped=True)
        try:
            transaction.commit()
        except Exception as exc:
            return _Outcome(error=exc)
        return _Outcome(result=result)

    def __enter__(self) -> Paired[I, T]:
        fast_switching(True)  # the workers' many short waits for the server: see runtime/overlap.py
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if kind is not None:  # an earlier failure wins; successes are kept (those batches are written), and
                self._done = self.finish()  # their results too, for `unreturned`
        finally:
            self._pool.shutdown(wait=True)
            fast_switching(False)

    def unreturned(self) -> list[T]:
        """After a failure (raised by `start`, `finish` or the block): the results of the items committed
        before it that no call returned."""
        done, self._done = self._done, []
        return done


def side_by_side_settings() -> str:
    """One statement (one round trip) setting the side-by-side transaction's timeouts: `lock_timeout` the lower
    of the session's (0 is none) and LOCK_TIMEOUT, and no `idle_in_transaction_session_timeout` (see the module
    docstring). The session's is read by the same statement rather than once per connection: it costs no round
    trip, and is never stale (a caller may `SET` it on a pooled connection between calls). A duration setting
    reads back with the largest unit that divides it (500ms, 2s, 1min, 1h, 1d), which interval input takes."""
    lowest = f"least(nullif(current_setting('lock_timeout')::interval, interval '0'), interval '{LOCK_TIMEOUT}')"
    return (
        f"SELECT set_config('lock_timeout', ceil(extract(epoch FROM {lowest}) * 1000)::bigint || 'ms', true),"
        " set_config('idle_in_transaction_session_timeout', '0', true)"
    )
