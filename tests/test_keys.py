"""The keys the store makes are time-ordered (UUID version 7) and increase in creation order, by every way of
writing; a key given by the caller is kept; documents keyed by a mix of old random (version 4) keys and new ones,
as tables written before and after the change hold, are read completely, each once, in key order."""

from __future__ import annotations

import io
import json
import random
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runtime_helpers import customer, open_store
from schemarel.runtime.ndjson import Loader, export
from schemarel.runtime.store import Store


@pytest.fixture
def customers(db_url: str) -> Iterator[Store]:
    store = open_store(db_url, "customer")
    yield store
    store.close()


def emptied(store: Store) -> None:
    """Every document deleted (child rows by ON DELETE CASCADE, which the store turns on for SQLite too)."""
    with store.engine.begin() as conn:
        conn.execute(sa.delete(store.root.sa_table))


def as_uuid(key: Any) -> uuid.UUID:
    return key if isinstance(key, uuid.UUID) else uuid.UUID(str(key))


def stored_keys(store: Store) -> list[uuid.UUID]:
    """The keys of the root table's rows, in the database's key order."""
    return [as_uuid(k) for k, _ in store.items()]


def assert_time_ordered(keys: list[Any]) -> None:
    """Every key a version 7 uuid, each greater than the one made before it."""
    made = [as_uuid(k) for k in keys]
    assert [k.version for k in made] == [7] * len(made)
    assert all(a < b for a, b in zip(made, made[1:], strict=False)), made


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.integers(1, 6), min_size=1, max_size=4), batch_size=st.integers(1, 4))
def test_keys_increase_across_create_create_many_and_load(customers: Store, sizes: list[int], batch_size: int) -> None:
    """One `create`, then `create_many` and `Loader` batches of generated shapes, alternating: all the keys, in
    the order their documents were written, are version 7 and increasing, and so is the table's key order."""
    store = customers
    emptied(store)
    made = [store.create(customer(0))]
    for turn, size in enumerate(sizes):
        documents = [customer(i) for i in range(size)]
        if turn % 2:
            lines = [json.dumps(d).encode() for d in documents]
            made += Loader(store, lambda reject: None, batch_size=batch_size, keep_ids=True).run(lines).ids
        else:
            made += store.create_many(documents, batch_size=batch_size)
        made.append(store.create(customer(turn)))
    assert_time_ordered(made)
    assert stored_keys(store) == [as_uuid(k) for k in made]


def test_keys_increase_in_each_thread_and_are_unique(postgres_url: str) -> None:
    """Four threads creating at once: each thread's keys increase, none is made twice, and all lie between a
    key made before the threads started and one made after they ended."""
    store = open_store(postgres_url, "customer")
    try:
        first = store.create(customer(0))
        made: list[list[Any]] = [[] for _ in range(4)]

        def work(mine: list[Any]) -> None:
            for i in range(25):
                mine.append(store.create(customer(i)))
            mine += store.create_many([customer(i) for i in range(10)], batch_size=3)

        threads = [threading.Thread(target=work, args=(mine,)) for mine in made]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        last = store.create(customer(1))
        for mine in made:
            assert_time_ordered([first, *mine, last])
        every = [as_uuid(k) for mine in made for k in mine]
        assert len(set(every)) == len(every) == 4 * 35
        assert sorted(stored_keys(store)) == stored_keys(store)
        assert len(stored_keys(store)) == len(every) + 2
    finally:
        store.close()


def write_with_key(store: Store, document: dict[str, Any], key: uuid.UUID) -> None:
    """A document stored under a key of the caller's, through the mapping and writer the store uses."""
    batch = store.mapping.new_batch()
    assert store.mapping.add(batch, store.prepare(document), key) == key
    with store.engine.begin() as conn:
        store.send(conn, batch, [key])


def test_a_key_given_is_kept(customers: Store) -> None:
    """A key given to the mapping (compiled and generic alike) is the document's, in every table; `replace`
    keeps the document's key, old-style or new."""
    store = customers
    old = uuid.uuid4()
    write_with_key(store, customer(1), old)
    generic = store.mapping.new_batch()
    given_key = uuid.uuid4()
    assert store.mapping.add_generic(generic, store.prepare(customer(2)), given_key) == given_key
    assert generic.rows[0][0][0] == given_key
    new = store.create(customer(3))
    store.replace(old, customer(4))
    store.replace(new, customer(5))
    assert dict((as_uuid(k), d) for k, d in store.items()) == {old: customer(4), as_uuid(new): customer(5)}


MIXED = st.lists(st.sampled_from([4, 7]), min_size=0, max_size=14)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=MIXED, seed=st.integers(0, 2**32 - 1), size=st.integers(1, 5))
def test_mixed_old_and_new_keys_read_completely(customers: Store, kinds: list[int], seed: int, size: int) -> None:
    """Documents keyed by a random mix of random (version 4) keys, as tables written before the change hold, and
    the store's own keys, written in random order: `items()`, `pages()` and `export` give each document once,
    unchanged, in key order, whatever the page size."""
    store = customers
    emptied(store)
    order = random.Random(seed)
    documents = {}
    plan = list(enumerate(kinds))
    order.shuffle(plan)
    for i, kind in plan:
        document = customer(i, emails=[f"e{i}-{j}@example.org" for j in range(1 + i % 3)])
        if kind == 4:
            key = uuid.uuid4()
            write_with_key(store, document, key)
        else:
            key = as_uuid(store.create(document))
        documents[key] = document
    expected = sorted(documents.items())
    items = [(as_uuid(k), d) for k, d in store.items(batch_size=size)]
    assert items == expected
    pages = [(as_uuid(k), d) for page in store.pages(batch_size=size) for k, d in page]
    assert pages == expected
    out = io.StringIO()
    assert export(store, out, with_ids=True) == len(expected)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(as_uuid(line["id"]), line["document"]) for line in lines] == expected
