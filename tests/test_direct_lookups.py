"""`get_by`, `page` and `count` sent straight through psycopg (the sync and async drivers) read exactly what the
SQLAlchemy path reads: on many drawn documents, filters, orders and lookups, missing keys and NULLs included,
and in a caller's transaction (`conn=`), which takes the SQLAlchemy path and sees the caller's own writes; a
keyset position on a boolean ordering key on every database."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import TICKET, Blocking
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemarel import DocumentNotFound, Store
from test_runtime_api import SCALAR_FILTERS, TICKETS, emptied_tickets, ticket_stores  # noqa: F401 - the fixture, used by name

KINDS = ["flat-async", "async", "flat-sync", "sync"]  # flat: a document in one row (direct get_by and page)
ORDERS = st.sampled_from([None, "-score", ["owner", "-urgent"], ["-score", "owner"], "number"])


def _reads(store: Any, where: dict[str, Any], order_by: Any, limit: int, numbers: list[int], **conn: Any) -> Any:
    """What each read gives: get_by of each number (or its DocumentNotFound's message), every page walked by
    its cursor, the count."""
    found: list[Any] = []
    for number in numbers:
        try:
            found.append(store.get_by(number=number, **conn))
        except DocumentNotFound as exc:
            found.append(("missing", str(exc)))
    pages, after = [], None
    while True:
        page = store.page(where, order_by=order_by, limit=limit, after=after, **conn)
        pages.append((page.items, page.next))
        after = page.next
        if after is None:
            break
    return found, pages, store.count(where, **conn)


@contextlib.contextmanager
def _without_direct(store: Any) -> Iterator[None]:
    """The store reading through SQLAlchemy only, as on a driver without the direct path."""
    if isinstance(store, Blocking):
        store.store.direct = False
        try:
            yield
        finally:
            store.store.direct = True
        return
    saved = store.direct.enabled, store.direct.psycopg
    store.direct.enabled = store.direct.psycopg = False
    try:
        yield
    finally:
        store.direct.enabled, store.direct.psycopg = saved


@contextlib.contextmanager
def _transaction(store: Any) -> Iterator[Any]:
    """A caller's connection in a transaction, rolled back at the end (an AsyncConnection for the AsyncStore)."""
    if not isinstance(store, Blocking):
        with store.engine.connect() as conn, conn.begin() as transaction:
            yield conn
            transaction.rollback()
        return
    run = store.loop.run_until_complete
    conn = run(store.store.engine.connect())
    try:
        run(conn.begin())
        yield conn
        run(conn.rollback())
    finally:
        run(conn.close())


@pytest.mark.postgres
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(documents=TICKETS, filters=st.lists(SCALAR_FILTERS, max_size=3, unique_by=lambda f: f[0]), data=st.data())
def test_direct_reads_are_the_sqlalchemy_reads(
    ticket_stores: dict[str, Any],  # noqa: F811 - the fixture
    documents: list[dict[str, Any]],
    filters: list[Any],
    data: st.DataObject,
) -> None:
    kind = data.draw(st.sampled_from(KINDS))
    store, documents, filters = emptied_tickets(ticket_stores, kind, documents, filters)
    store.create_many(documents)
    where, order_by = dict(filters), data.draw(ORDERS)
    limit = data.draw(st.integers(1, 4))
    numbers = data.draw(st.lists(st.integers(-1, len(documents) + 1), max_size=4))  # some missing

    direct = _reads(store, where, order_by, limit, numbers)
    with _without_direct(store):
        assert _reads(store, where, order_by, limit, numbers) == direct
    assert sum(len(items) for items, _ in direct[1]) == direct[2]
    with _transaction(store) as conn:
        assert _reads(store, where, order_by, limit, numbers, conn=conn) == direct
        # the caller's own write, not committed: its transaction reads it, the direct path does not
        extra = {**documents[0], "number": 1000} if documents else {"number": 1000, "status": "new",
                                                                     "opened": "2020-01-01T00:00:00Z"}  # fmt: skip
        if kind == "async" or kind == "sync":
            extra.setdefault("tags", [])
            extra.setdefault("lines", [])
        store.create(extra, conn=conn)
        assert store.get_by(number=1000, conn=conn)["number"] == 1000
        assert store.count(conn=conn) == len(documents) + 1
        with pytest.raises(DocumentNotFound, match="number 1000"):
            store.get_by(number=1000)
        assert store.count() == len(documents)


@pytest.mark.postgres
def test_the_async_store_prepares_its_direct_lookups_on_the_kept_connection(
    ticket_stores: dict[str, Any],  # noqa: F811 - the fixture
) -> None:
    """AsyncStore.get_by, page and count of documents held in one row are statements the kept connection has
    prepared (sent by psycopg's async driver, not through SQLAlchemy's pooled connections)."""
    # the stores are the module's: the property test above leaves its last drawn tickets in them
    store, _, _ = emptied_tickets(ticket_stores, "flat-async", [], [])
    store.create({"number": 5000, "status": "new", "opened": "2020-01-01T00:00:00Z", "owner": "ann"})
    for _ in range(2):
        assert store.get_by(number=5000)["owner"] == "ann"
        assert store.page({"owner": "ann"}, limit=1).items[0][1]["number"] == 5000
        assert store.count({"owner": "ann"}) == 1
    kept: Any = store.store.parked.connection()

    async def prepared() -> list[str]:
        cursor = await kept.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in await cursor.fetchall()]

    statements = store.loop.run_until_complete(prepared())
    assert any("count(*)" in s.lower() for s in statements), statements
    assert any("ORDER BY" in s and "LIMIT" in s for s in statements), statements
    assert any("WHERE flat_tickets.number" in s and "LIMIT" not in s for s in statements), statements


def test_pages_after_a_boolean_ordering_key(three_db_url: str, tmp_path: Path) -> None:
    """`page` and `find` ordered by a boolean, NULLs last, walk every document once: the keyset condition after a
    true or false value is a bound parameter (SQLAlchemy refuses `>` against a bare True or False)."""
    (tmp_path / "ticket.schema.json").write_text(json.dumps(TICKET))
    store = Store(three_db_url, "ticket", schemas_dir=tmp_path)
    with store.engine.begin() as conn:
        store.metadata.create_all(conn)
    flags = [True, False, None, False, True, None, True]
    for n, flag in enumerate(flags):
        urgent = {} if flag is None else {"urgent": flag}
        store.create(
            {"number": n, "status": "new", "opened": "2020-01-01T00:00:00Z", "tags": [], "lines": [], **urgent}
        )
    for order_by in ("urgent", "-urgent"):
        walked, after = [], None
        while True:
            page = store.page(order_by=[order_by, "number"], limit=2, after=after)
            walked += [d["number"] for _, d in page.items]
            if (after := page.next) is None:
                break
        desc = order_by.startswith("-")
        expected = sorted(range(len(flags)), key=lambda n: (flags[n] is None, (not flags[n]) if desc else flags[n], n))
        assert walked == expected
        assert [d["number"] for _, d in store.find(order_by=[order_by, "number"], batch_size=1)] == expected
    store.close()
