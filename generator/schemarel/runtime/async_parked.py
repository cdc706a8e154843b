"""The psycopg AsyncConnection an AsyncStore keeps for its one-statement reads and creates (`direct.Parked`'s kin).

Taking a connection from the async pool and giving it back (its greenlet, the reset, switching autocommit on and
off) cost about half of a one-row get: a kept connection in autocommit mode spares them and keeps its prepared
statements. It belongs to the event loop that made it and to its process: a call from another loop, or from a
coroutine that finds it in use, takes a pooled connection; once its loop is closed, the next loop makes another.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util.concurrency import greenlet_spawn

from schemarel.runtime.direct import parked_on

T = TypeVar("T")


class AsyncParked:
    """The kept connection's cursor while idle, the loop and process that own it. It is the pool's no more
    (detached), so the store closes it: at `close`, at the engine's dispose (if idle), or when the store is
    collected. None is kept on an engine with `pool_pre_ping` (see `direct.Parked`)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._idle: list[Any] = []  # the cursor while no coroutine uses it
        self._owner: tuple[int, asyncio.AbstractEventLoop | None] = (os.getpid(), None)
        self._kept = False  # one exists (idle or in use)
        self._closed = bool(getattr(engine.sync_engine.pool, "_pre_ping", False))
        weakref.finalize(self, _close_idle, self._idle, os.getpid())
        parked_on(engine.sync_engine).add(self)

    def connection(self) -> Any:
        """The kept connection when no call uses it (None otherwise, or before the first call)."""
        return self._idle[0].connection if self._idle else None

    async def run(self, work: Callable[[Any], Awaitable[T]]) -> T:
        """`work` on the kept connection's cursor (made at the first call), or on a pooled connection in
        autocommit mode while another coroutine uses it, from another loop, or after `close`."""
        loop = asyncio.get_running_loop()
        if self._owner != (os.getpid(), loop):
            self._foreign(loop)
        cursor = self._idle.pop() if self._idle and self._owner[1] is loop else None
        if cursor is None:
            if self._kept or self._closed or self._owner[1] is not loop:
                return await _on_pooled(self.engine, work)
            self._kept = True  # before the await: a coroutine meanwhile takes a pooled connection
            try:
                cursor = await self._connect()
            except BaseException:
                self._kept = False
                raise
        try:
            return await work(cursor)
        finally:
            driver = cursor.connection
            # idle and open, or dropped: a cancelled call may have left its statement running (the next call
            # would find the connection busy), the server may have closed it
            if driver.pgconn.transaction_status or self._closed or self._idle:
                self._kept = self._kept and not driver.pgconn.transaction_status
                _finish(driver)
            else:
                self._idle.append(cursor)

    async def _connect(self) -> Any:
        pooled = await self.engine.raw_connection()  # the engine's connect arguments and events
        driver: Any = pooled.driver_connection
        pooled.detach()  # ours now: the pool makes another in its place when it needs one
        await driver.set_autocommit(True)
        return driver.cursor()

    def _foreign(self, loop: asyncio.AbstractEventLoop) -> None:
        """A call from a loop (or process) not the owner's: the owner's connection stays its own while its loop
        runs; once that loop is closed (or in a forked child) this loop becomes the owner."""
        pid, owner = self._owner
        if pid != os.getpid():  # a forked child: the parent's session is left alone, never closed here
            _FORKED_AWAY.extend(self._idle)  # not collected here: psycopg would not close it, but warn
            self._idle.clear()
            self._kept = False
            weakref.finalize(self, _close_idle, self._idle, os.getpid())  # this process's own, when made
        elif owner is not None and not owner.is_closed():
            return
        else:
            _close_idle(self._idle, pid)  # made by a loop that is gone: no coroutine of it uses it any more
            self._kept = False
        self._owner = (os.getpid(), loop)

    def close(self) -> None:
        self._closed = True
        _close_idle(self._idle, self._owner[0])

    def release(self) -> None:
        """Close the kept connection if it is idle, as the engine's dispose closes the pool's."""
        if self._idle and self._owner[0] == os.getpid():
            self._kept = False
            _close_idle(self._idle, self._owner[0])


_FORKED_AWAY: list[Any] = []


def _finish(driver: Any) -> None:
    """Close psycopg's AsyncConnection without awaiting (its `close` does no more than this): from a finalizer,
    an engine's dispose, or another loop."""
    driver.pgconn.finish()


def _close_idle(idle: list[Any], owner: int) -> None:
    """Close the kept connection if it is idle, in the process that made it: a forked child shares its socket,
    and closing it there would end the owner's session on the server."""
    if os.getpid() != owner:
        return
    while idle:
        _finish(idle.pop().connection)


async def _on_pooled(engine: AsyncEngine, work: Callable[[Any], Awaitable[T]]) -> T:
    """`work` on a pooled psycopg AsyncConnection in autocommit mode, taken without the AsyncConnection around
    it and handed back through a greenlet, as its reset awaits."""
    pooled = await engine.raw_connection()
    try:
        driver: Any = pooled.driver_connection
        previous = driver.autocommit
        await driver.set_autocommit(True)
        try:
            return await work(driver)
        finally:
            if not driver.closed:
                await driver.set_autocommit(previous)
    finally:
        await greenlet_spawn(pooled.close)
