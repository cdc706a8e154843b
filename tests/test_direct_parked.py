"""The connection a store keeps for its one-statement reads and creates (runtime/direct.py `Parked`): one server
session reused, its statements prepared once; threads that find it in use take pooled ones; closed by
`Store.close` or when the store is collected; never used by a forked child; replaced when the server drops it;
none kept on an engine that pre-pings its pool's connections."""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from runtime_helpers import SCHEMAS, customer, cyclic_collector_off, open_store
from schemarel.runtime.store import Store


@pytest.fixture
def customers(postgres_url: str) -> Iterator[Store]:
    store = open_store(postgres_url, "customer")
    yield store
    store.close()


def backend(store: Store) -> int:
    """The server process of the statement's session: the kept connection's when it is free."""
    return int(store.direct.run("SELECT pg_backend_pid()", {})[0][0])


def test_creates_and_gets_share_one_session_and_its_prepared_statements(customers: Store) -> None:
    store = customers
    ids = [store.create(customer(i)) for i in range(6)]
    assert [store.get(doc_id) for doc_id in ids] == [customer(i) for i in range(6)]
    pid = backend(store)
    assert all(backend(store) == pid for _ in range(3))
    assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]  # QueuePool's; typed Pool
    kept: Any = store.direct.parked.connection()
    assert kept is not None and kept.autocommit
    prepared = [r[0] for r in kept.execute("SELECT statement FROM pg_prepared_statements").fetchall()]
    assert any("INSERT" in sql for sql in prepared) and any("UNION ALL" in sql for sql in prepared), prepared


def test_threads_that_find_it_in_use_take_pooled_connections(customers: Store) -> None:
    store = customers
    ids = [store.create(customer(i)) for i in range(4)]
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for round_ in range(20):
                i = (n + round_) % 4
                assert store.get(ids[i]) == customer(i)
                store.create(customer(100 + n * 100 + round_))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert store.count() == 4 + 4 * 20
    assert store.direct.parked.connection() is not None  # one kept, the others went back to the pool
    assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]  # QueuePool's; typed Pool


def test_close_and_collection_close_the_kept_connection(postgres_url: str) -> None:
    store = open_store(postgres_url, "customer")
    doc_id = store.create(customer(1))
    kept: Any = store.direct.parked.connection()
    store.close()
    assert kept.closed
    assert store.get(doc_id) == customer(1)  # after close: a pooled connection, none kept
    assert store.direct.parked.connection() is None
    store.close()

    other = open_store(postgres_url, "customer")
    assert other.get(doc_id) == customer(1)
    kept = other.direct.parked.connection()
    del other
    gc.collect()
    assert kept.closed


def test_a_dropped_store_closes_its_connection_at_once(postgres_url: str) -> None:
    """No cycle keeps a store alive: the last reference gone, its kept connection closes without waiting
    for the cyclic collector (disabled here), as a pooled connection goes back to its pool."""
    store = open_store(postgres_url, "customer")
    doc_id = store.create(customer(1))
    assert store.patch(doc_id, {"lastName": "Byron"})["lastName"] == "Byron"  # the patcher built and used
    kept: Any = store.direct.parked.connection()
    assert kept is not None and not kept.closed
    with cyclic_collector_off():
        del store
        assert kept.closed


def test_disposing_the_engine_closes_the_kept_connections(postgres_url: str) -> None:
    """A program that forgets `close` and disposes its engine (a test about to drop its database) leaves no
    session of its stores behind; a store used again after the dispose keeps a new one."""
    first = open_store(postgres_url, "customer")
    engine = first.engine
    stores = [first, *(Store(engine, "customer", schemas_dir=SCHEMAS) for _ in range(2))]  # on one engine
    doc_id = stores[0].create(customer(1))
    kept = []
    for store in stores:
        assert store.get(doc_id) == customer(1)
        kept.append(store.direct.parked.connection())
    assert all(k is not None and not k.closed for k in kept)
    engine.dispose()
    assert all(k.closed for k in kept)
    assert stores[1].get(doc_id) == customer(1)
    renewed: Any = stores[1].direct.parked.connection()
    assert renewed is not None and renewed not in kept and not renewed.closed
    for store in stores:
        store.close()


def test_a_forked_child_never_uses_the_parents_session(customers: Store) -> None:
    store = customers
    doc_id = store.create(customer(1))
    parent = backend(store)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: its own session, the parent's left as it is
        code = 1
        try:
            os.close(read)
            ok = store.get(doc_id) == customer(1) and backend(store) != parent
            store.create(customer(2))
            store.close()
            os.write(write, b"ok" if ok else b"shared")
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as said:
        answer = said.read()
    _, status = os.waitpid(child, 0)
    assert os.WEXITSTATUS(status) == 0 and answer == b"ok"
    assert backend(store) == parent  # still the parent's session, not closed or disturbed by the child
    assert store.get(doc_id) == customer(1)
    assert store.count() == 2


def test_a_session_the_server_dropped_is_replaced(customers: Store, postgres_url: str) -> None:
    store = customers
    doc_id = store.create(customer(1))
    pid = backend(store)
    with psycopg.connect(postgres_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(Exception):  # noqa: B017, PT011 - the driver's word for a lost connection
        store.get(doc_id)
    assert store.get(doc_id) == customer(1)
    assert backend(store) != pid


@pytest.mark.parametrize("calls", [1, 3])
def test_a_session_left_with_a_command_under_way_is_replaced(customers: Store, calls: int) -> None:
    """A connection lost while a statement was being sent may not read as broken, yet stays busy with it: every
    later statement failed "another command is already in progress" (seen in CI after pg_terminate_backend).
    Made busy here by a statement sent and never read, on the real connection."""
    store = customers
    doc_id = store.create(customer(1))
    pid = backend(store)
    for _ in range(calls):
        kept: Any = store.direct.parked.connection()
        kept.pgconn.send_query(b"SELECT pg_sleep(0)")  # libpq now has a command in progress on it
        with pytest.raises(psycopg.OperationalError, match="another command is already in progress"):
            store.get(doc_id)
        assert store.get(doc_id) == customer(1)  # on a new session
        assert backend(store) != pid
        pid = backend(store)


def test_an_engine_that_pre_pings_keeps_its_promise(customers: Store, postgres_url: str) -> None:
    """`pool_pre_ping`: no connection kept (each statement takes a pooled one, tested first), so a server that
    dropped every session meanwhile costs no failed call."""
    doc_id = customers.create(customer(1))
    engine = sa.create_engine(postgres_url, pool_pre_ping=True)
    store = Store(engine, "customer", schemas_dir=customers.schemas_dir)
    assert store.get(doc_id) == customer(1)
    assert store.direct.parked.connection() is None
    pid = backend(store)
    with psycopg.connect(postgres_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert store.get(doc_id) == customer(1)
    store.close()
    engine.dispose()
