"""`Store.pages`: every document by id in pages, uuid ids as their text, all pages one snapshot, a filter as `find`
applies it; a stream left early leaves nothing behind; `AsyncStore.pages` gives the same pages."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Generator, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runtime_helpers import SCHEMAS, customer, open_store
from schemarel import AsyncStore
from schemarel.runtime.store import Store


@pytest.fixture
def customers(db_url: str) -> Iterator[Store]:
    store = open_store(db_url, "customer")
    yield store
    store.close()


def as_text(key: Any) -> Any:
    return str(key) if isinstance(key, uuid.UUID) else key


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(0, 9), size=st.integers(1, 4))
def test_pages_are_items_in_pages_with_text_ids(customers: Store, count: int, size: int) -> None:
    store = customers
    for doc_id, _ in list(store.items()):
        store.delete(doc_id)
    ids = [store.create(customer(i)) for i in range(count)]
    pages = list(store.pages(batch_size=size))
    assert all(0 < len(page) <= size for page in pages)
    assert all(len(page) == size for page in pages[:-1])
    flat = [item for page in pages for item in page]
    assert flat == [(as_text(k), d) for k, d in store.items()]
    assert sorted(k for k, _ in flat) == sorted(as_text(k) for k in ids)
    assert all(isinstance(k, str | int) for k, _ in flat)


def test_pages_filter_as_find_does(customers: Store) -> None:
    store = customers
    for i in range(7):
        store.create(customer(i, lastName="Byron" if i % 3 else "Lovelace"))
    where = {"lastName": "Byron"}
    flat = [item for page in store.pages(where, batch_size=2) for item in page]
    assert flat == [(as_text(k), d) for k, d in store.find(where)]
    assert len(flat) == 4
    assert list(store.pages({"lastName": "nobody"})) == []


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(0, 7), size=st.integers(1, 4), byron=st.booleans())
def test_async_pages_are_the_sync_pages(pg_customers: Store, count: int, size: int, byron: bool) -> None:
    """The AsyncStore's pages, alone and in the caller's transaction, are the Store's, uuid ids as their text."""
    store = pg_customers
    with store.engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE customer_profiles CASCADE")
    for i in range(count):
        store.create(customer(i, lastName="Byron" if i % 3 else "Lovelace"))
    where = {"lastName": "Byron"} if byron else None

    async def read() -> tuple[list[Any], list[Any]]:
        url = store.engine.url.render_as_string(hide_password=False)
        async with AsyncStore(url, "customer", schemas_dir=SCHEMAS) as other:
            alone = [page async for page in other.pages(where, batch_size=size)]
            async with other.engine.connect() as conn:
                return alone, [page async for page in other.pages(where, batch_size=size, conn=conn)]

    expected = list(store.pages(where, batch_size=size))
    assert all(isinstance(k, str) for page in expected for k, _ in page)
    assert asyncio.run(read()) == (expected, expected)


@pytest.fixture
def pg_customers(postgres_url: str) -> Iterator[Store]:
    store = open_store(postgres_url, "customer")
    yield store
    store.close()


def test_pages_read_one_snapshot(postgres_url: str) -> None:
    """Documents created and deleted after the first page do not show in the later pages (PostgreSQL: SQLite's
    reader would lock the writes out)."""
    store = open_store(postgres_url, "customer")
    ids = [store.create(customer(i)) for i in range(8)]
    pages = store.pages(batch_size=2)
    first = next(pages)
    for doc_id in ids:
        store.delete(doc_id)
    store.create(customer(99))
    rest = [item for page in pages for item in page]
    assert sorted(k for k, _ in first + rest) == sorted(as_text(k) for k in ids)
    store.close()


def test_pages_left_early_leave_no_connection_checked_out(customers: Store) -> None:
    store = customers
    for i in range(6):
        store.create(customer(i))
    pages = store.pages(batch_size=2)
    assert isinstance(pages, Generator)  # typed as an Iterator; closing it early is what this test exercises
    assert len(next(pages)) == 2
    pages.close()  # the transaction ended
    assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]  # QueuePool's; typed Pool
    assert sum(len(page) for page in store.pages(batch_size=4)) == 6
    assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]  # QueuePool's; typed Pool
