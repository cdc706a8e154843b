"""The connection an AsyncStore keeps for its one-statement reads and creates (runtime/async_parked.py): one server
session reused, its statements prepared once; coroutines that find it in use take pooled ones; closed by
`AsyncStore.close` and the engine's dispose; never used from another event loop; replaced when the server drops it
or its loop is closed; none kept on an engine that pre-pings its pool's connections."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import psycopg
import pytest
from runtime_helpers import SCHEMAS, customer, cyclic_collector_off, open_store
from schemarel import AsyncStore
from sqlalchemy.ext.asyncio import create_async_engine

T = TypeVar("T")


@pytest.fixture
def url(postgres_url: str) -> str:
    open_store(postgres_url, "customer").close()  # the tables
    return postgres_url


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def on(loop: asyncio.AbstractEventLoop, work: Coroutine[Any, Any, T]) -> T:
    return loop.run_until_complete(work)


async def backend(store: AsyncStore) -> int:
    """The server process of the statement's session: the kept connection's when it is free."""

    async def pid(cursor: Any) -> int:
        return int((await (await cursor.execute("SELECT pg_backend_pid()")).fetchone())[0])

    return await store.parked.run(pid)


def terminate(url: str, pid: int) -> None:
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_creates_and_gets_share_one_session_and_its_prepared_statements(url: str) -> None:
    async def main() -> None:
        async with AsyncStore(url, "customer", schemas_dir=SCHEMAS) as store:
            ids = [await store.create(customer(i)) for i in range(6)]
            assert [await store.get(doc_id) for doc_id in ids] == [customer(i) for i in range(6)]
            pid = await backend(store)
            assert [await backend(store) for _ in range(3)] == [pid] * 3
            assert store.engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]  # QueuePool's; typed Pool
            kept: Any = store.parked.connection()
            assert kept is not None and kept.autocommit
            cursor = await kept.execute("SELECT statement FROM pg_prepared_statements")
            prepared = [r[0] for r in await cursor.fetchall()]
            assert any("INSERT" in sql for sql in prepared) and any("UNION ALL" in sql for sql in prepared), prepared

    asyncio.run(main())


def test_coroutines_that_find_it_in_use_take_pooled_connections(url: str) -> None:
    async def main() -> None:
        async with AsyncStore(url, "customer", schemas_dir=SCHEMAS) as store:
            ids = [await store.create(customer(i)) for i in range(4)]

            async def work(n: int) -> None:
                for round_ in range(10):
                    i = (n + round_) % 4
                    assert await store.get(ids[i]) == customer(i)
                    await store.create(customer(100 + n * 100 + round_))

            await asyncio.gather(*(work(n) for n in range(6)))
            assert await store.count() == 4 + 6 * 10
            assert store.parked.connection() is not None  # one kept, the others went back to the pool
            assert store.engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]  # QueuePool's; typed Pool

    asyncio.run(main())


def test_close_and_dispose_close_the_kept_connection(url: str, loop: asyncio.AbstractEventLoop) -> None:
    store = AsyncStore(url, "customer", schemas_dir=SCHEMAS)
    doc_id = on(loop, store.create(customer(1)))
    kept: Any = store.parked.connection()
    on(loop, store.close())
    assert kept.closed
    assert on(loop, store.get(doc_id)) == customer(1)  # after close: a pooled connection, none kept
    assert store.parked.connection() is None
    on(loop, store.close())

    engine = create_async_engine(url)
    stores = [AsyncStore(engine, "customer", schemas_dir=SCHEMAS) for _ in range(2)]
    for each in stores:
        assert on(loop, each.get(doc_id)) == customer(1)
    kept = [each.parked.connection() for each in stores]
    assert all(k is not None and not k.closed for k in kept)
    on(loop, engine.dispose())
    assert all(k.closed for k in kept)
    assert on(loop, stores[0].get(doc_id)) == customer(1)  # a new one kept after the dispose
    renewed: Any = stores[0].parked.connection()
    assert renewed is not None and renewed not in kept and not renewed.closed
    for each in stores:
        on(loop, each.close())
    on(loop, engine.dispose())


def test_another_event_loop_never_uses_it(url: str, loop: asyncio.AbstractEventLoop) -> None:
    """A kept connection belongs to its loop: another loop takes pooled connections while that loop lives, and
    keeps one of its own once it is closed (the first one closed then)."""
    store = AsyncStore(url, "customer", schemas_dir=SCHEMAS)
    doc_id = on(loop, store.create(customer(1)))
    first: Any = store.parked.connection()
    first_pid = on(loop, backend(store))
    other = asyncio.new_event_loop()
    try:
        assert on(other, store.get(doc_id)) == customer(1)
        assert on(other, backend(store)) != first_pid  # a pooled connection
        assert store.parked.connection() is first and not first.closed
        assert on(loop, backend(store)) == first_pid  # still the first loop's
        loop.close()
        assert on(other, store.get(doc_id)) == customer(1)
        assert first.closed  # its loop gone, nothing else could use it
        mine: Any = store.parked.connection()
        assert mine is not None and mine is not first
        assert on(other, backend(store)) == on(other, backend(store))
        on(other, store.close())
    finally:
        other.close()


def test_a_session_the_server_dropped_is_replaced(url: str) -> None:
    async def main() -> None:
        async with AsyncStore(url, "customer", schemas_dir=SCHEMAS) as store:
            doc_id = await store.create(customer(1))
            pid = await backend(store)
            terminate(url, pid)
            with pytest.raises(Exception):  # noqa: B017, PT011 - the driver's word for a lost connection
                await store.get(doc_id)
            assert await store.get(doc_id) == customer(1)
            assert await backend(store) != pid
            assert store.parked.connection() is not None

    asyncio.run(main())


def test_a_cancelled_call_leaves_no_busy_connection_kept(url: str) -> None:
    async def main() -> None:
        async with AsyncStore(url, "customer", schemas_dir=SCHEMAS) as store:
            doc_id = await store.create(customer(1))

            async def sleep(cursor: Any) -> None:
                await cursor.execute("SELECT pg_sleep(5)")

            task = asyncio.ensure_future(store.parked.run(sleep))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await store.get(doc_id) == customer(1)

    asyncio.run(main())


def test_an_engine_that_pre_pings_keeps_its_promise(url: str) -> None:
    async def main() -> None:
        engine = create_async_engine(url, pool_pre_ping=True)
        store = AsyncStore(engine, "customer", schemas_dir=SCHEMAS)
        doc_id = await store.create(customer(1))
        assert store.parked.connection() is None
        terminate(url, await backend(store))
        assert await store.get(doc_id) == customer(1)
        await store.close()
        await engine.dispose()

    asyncio.run(main())


def test_a_dropped_store_closes_its_connection(url: str, loop: asyncio.AbstractEventLoop) -> None:
    """No cycle keeps an AsyncStore alive: the last reference gone, its kept connection closes without waiting
    for the cyclic collector (disabled here), as the sync store's does."""
    store = AsyncStore(url, "customer", schemas_dir=SCHEMAS)
    doc_id = on(loop, store.create(customer(1)))
    assert on(loop, store.get(doc_id)) == customer(1)
    engine = store.engine
    kept: Any = store.parked.connection()
    assert kept is not None and not kept.closed
    with cyclic_collector_off():
        del store
        assert kept.closed
    on(loop, engine.dispose())


def test_a_forked_child_never_closes_the_parents_session(url: str, loop: asyncio.AbstractEventLoop) -> None:
    """A child forked after the first call shares the kept connection's socket: its `close`, its engine's
    dispose (what SQLAlchemy tells a child to do) and its collection of the store leave the parent's session
    alone (closing it there would end the parent's session on the server)."""
    store = AsyncStore(url, "customer", schemas_dir=SCHEMAS)
    doc_id = on(loop, store.create(customer(1)))
    pid = on(loop, backend(store))
    for how in ("close", "dispose", "collect"):
        child = os.fork()
        if child == 0:  # pragma: no cover - the child's own process
            try:
                if how == "close":
                    store.parked.close()
                elif how == "dispose":
                    store.engine.sync_engine.dispose(close=False)
                else:
                    del store  # the child's last reference: its finalizer runs here
                    gc.collect()
            finally:
                os._exit(0)
        assert os.waitpid(child, 0)[1] == 0
        assert on(loop, backend(store)) == pid, how  # the same session, still open and answering
        assert on(loop, store.get(doc_id)) == customer(1)
    on(loop, store.close())
