"""Bulk writes one batch ahead: the database writes a batch in a worker thread while the caller prepares the next.

Why: a COPY batch spends most of its time waiting for the server (parsing rows, checking foreign keys at the
end of each statement, committing), and the client most of its time validating documents and building rows.
Run one after the other they add up; with a worker thread (psycopg waits with the GIL released) they overlap,
on two cores as fast as the slower of the two. At most one batch is under way, and batches are written in
order, each in its own transaction: the same writes as without it, in the same order, one batch's memory more.

While a worker runs, the interpreter hands its lock from thread to thread every 0.2 ms instead of every 5 ms
(`sys.setswitchinterval`; restored when the last worker of the process ends): the worker waits for the server a
dozen times a batch, and each time it wakes it needs the lock, which the preparing thread, busy in Python, would
otherwise keep for up to 5 ms. The worker's batches are the slower side, so its waits are the load's. The
interval is the whole process's: meanwhile the application's other threads hand the lock over as often too.
So only while batches are written in worker threads: here (one worker, whose every wake-up is on the critical
path) and in runtime/paired.py (`create_many`: 8-10 % faster, median of 22 interleaved rounds; `load`: 1.18 s
against 1.31 s for a whole process of 20,000 CustomerProfiles, median of 7 interleaved rounds).

`load --all-or-nothing` writes this way (its one transaction on one connection); `create_many` and `load`
write two batches at once, committed in order (runtime/paired.py).
Only where the connection may be handed to another thread: PostgreSQL through psycopg's sync driver, on a
connection of the Store's own (a caller's connection or session, SQLite's per-thread pool and the other
dialects keep doing everything in the calling thread).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    import sqlalchemy as sa

T = TypeVar("T")

SWITCH_INTERVAL = 0.0002  # seconds, while a worker runs (see the module docstring)
_switching = threading.Lock()
_users = 0  # workers running in the process (a Store may be used from several threads)
_saved = 0.0  # the interval before the first of them


def fast_switching(on: bool) -> None:
    """Count a worker in (`on`) or out; the first one in sets the short interval, the last one out restores."""
    global _users, _saved
    with _switching:
        if on:
            if _users == 0:
                _saved = sys.getswitchinterval()
                sys.setswitchinterval(min(_saved, SWITCH_INTERVAL))
            _users += 1
        else:
            _users -= 1
            if _users == 0:
                sys.setswitchinterval(_saved)


def can_overlap(engine: sa.Engine) -> bool:
    """Whether the engine's connections may write in a worker thread (see the module docstring)."""
    dialect = engine.dialect
    return dialect.name == "postgresql" and dialect.driver == "psycopg" and not dialect.is_async


class Ahead(Generic[T]):
    """Runs work items one at a time, in order: in a worker thread when `enabled` (the caller goes on meanwhile),
    else at once. `start` waits for the previous item and returns its result, so that a failure is raised
    before any later item starts, as it would be without the thread. Used as a context manager: leaving it
    waits for the item under way; if the block failed meanwhile, a failure of that earlier item is the one
    raised (it happened first)."""

    def __init__(self, enabled: bool) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="schemarel-write") if enabled else None
        self._under_way: Future[T] | None = None
        self._done: list[T] = []

    def start(self, work: Callable[[], T]) -> list[T]:
        """The results of the items finished since the last call (the previous item waited for), then `work`
        started (or run, when not enabled: its result comes with the next call or `finish`)."""
        finished = self._done = self.finish()  # kept for `unreturned` until returned, should `work` fail
        if self._pool is None:
            self._done = [work()]
        else:
            self._under_way = self._pool.submit(work)
            self._done = []
        return finished

    def finish(self) -> list[T]:
        """The results of every item not yet returned, waiting for the one under way."""
        if self._under_way is not None:
            under_way, self._under_way = self._under_way, None
            self._done.append(under_way.result())
        done, self._done = self._done, []
        return done

    def __enter__(self) -> Ahead[T]:
        if self._pool is not None:
            fast_switching(True)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if kind is not None and self._under_way is not None:
                # an earlier failure wins; a success is kept (that batch is written), and its result for `unreturned`
                self._done.append(self._under_way.result())
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                fast_switching(False)

    def unreturned(self) -> list[T]:
        """After a failure (raised by `start`, `finish` or the block): the results of the items finished before
        it that no call returned."""
        done, self._done = self._done, []
        return done
