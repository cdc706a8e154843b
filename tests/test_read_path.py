"""The read path: pages, ranges and the compiled readers and loaders give back exactly what was written; child
pages use the index before any statistics exist; bulk loads leave statistics behind."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from runtime_helpers import add_users, customer, open_store, same_json
from schemarel import AsyncStore
from schemarel.errors import ConstraintViolation
from schemarel.runtime import exactjson, stats
from schemarel.runtime.documents import DocumentMap
from schemarel.runtime.store import Store
from test_runtime_roundtrip import CASES, EXAMPLES, documents, references

pytestmark = pytest.mark.filterwarnings("ignore:Overriding standard format:hypothesis.errors.HypothesisWarning")


@pytest.fixture
def pg_customers(postgres_url: str) -> Iterator[Store]:
    store = open_store(postgres_url, "customer")
    yield store
    store.close()


@pytest.mark.parametrize(("schemas_dir", "name"), CASES, ids=[name for _, name in CASES])
def test_pages_gets_and_row_readers_give_back_every_document(db_url: str, schemas_dir: Any, name: str) -> None:
    """Documents written, some deleted (gaps in the keys), read back by `items()` in pages of every size (the
    children of a page by key range), by `get` (every table's statement at once), and on PostgreSQL by the
    AsyncStore: all exactly as written; and each table's compiled row reader reads as `DocumentMap.node`."""
    store = open_store(db_url, name, schemas_dir)

    @EXAMPLES
    @given(st.data())
    def check(data: st.DataObject) -> None:
        with store.engine.begin() as conn:
            for tm in reversed(store.mapping.tables):
                conn.execute(sa.delete(tm.sa_table))
        batch = data.draw(st.lists(documents(store), min_size=1, max_size=8))
        users = sorted({r for d in batch for r in references(store, d)} - existing_users(store))
        if users:
            add_users(store, users)
        created = []
        for document in batch:  # a document unique values of an earlier one refuse is left out
            with contextlib.suppress(ConstraintViolation):
                created.append((store.create(document), document))
        ids = [doc_id for doc_id, _ in created]
        batch = [document for _, document in created]
        gone = set(data.draw(st.lists(st.sampled_from(ids), max_size=3))) if ids else set()
        for doc_id in gone:
            store.delete(doc_id)
        written = {doc_id: doc for doc_id, doc in zip(ids, batch, strict=True) if doc_id not in gone}
        size = data.draw(st.integers(1, 4))
        read = dict(store.items(batch_size=size))
        assert read.keys() == written.keys()
        assert all(same_json(read[k], written[k]) and same_json(store.get(k), written[k]) for k in written)
        with store.engine.connect() as conn:
            rows = [list(conn.execute(store.mapping.select(tm))) for tm in store.mapping.tables]
        for tm in store.mapping.tables:
            for row in rows[tm.index]:
                assert same_json(store.reads.readers[tm.index](row), store.mapping.node(tm, row))
        compiled = store.reads.assemble(rows[0], lambda tm, parents: rows[tm.index])
        generic = assemble_generic(store.mapping, rows)
        assert [k for k, _ in compiled] == [k for k, _ in generic]
        assert [exactjson.dumps(d) for _, d in compiled] == [exactjson.dumps(d) for _, d in generic]  # keys in order
        if store.engine.dialect.name == "postgresql":
            got = async_gets(db_url, store, written)
            assert all(same_json(doc, written[k]) for k, doc in zip(written, got, strict=True))

    check()
    store.close()


def assemble_generic(mapping: DocumentMap, rows: list[list[Any]]) -> list[tuple[Any, Any]]:
    """`ReadPlan.assemble` row by row through `DocumentMap.node`, `start` and `attach`: the compiled loaders'
    reference (documents nested by recursive properties left out, as `assemble` leaves them without `nested`)."""
    nodes: list[dict[Any, Any]] = [{} for _ in mapping.tables]
    result = []
    for row in rows[0]:
        nodes[0][row[0]] = mapping.node(mapping.root, row)
        result.append((row[0], nodes[0][row[0]]))
    for tm in mapping.tables[1:]:
        assert tm.parent is not None
        parents = nodes[tm.parent.index]
        for parent in parents.values():
            mapping.start(tm, parent)
        for row in rows[tm.index]:
            parent = parents.get(tm.parent_key(row))
            if parent is not None:
                node = mapping.node(tm, row)
                mapping.attach(tm, parent, node, row)
                nodes[tm.index][row[0]] = node
    return result


def existing_users(store: Store) -> set[str]:
    if "users" not in store.metadata.tables:
        return set()
    with store.engine.connect() as conn:
        return set(conn.execute(sa.select(store.metadata.tables["users"].c.id)).scalars())


def async_gets(url: str, store: Store, ids: Any) -> list[Any]:
    async def run() -> list[Any]:
        async with AsyncStore(url, store.name, schemas_dir=store.schemas_dir) as other:
            return [await other.get(k) for k in ids]

    return asyncio.run(run())


def test_child_pages_use_the_index_before_any_statistics(pg_customers: Store) -> None:
    """Right after a bulk load (no ANALYZE), a page's child statements are index scans, not whole-table scans."""
    store = pg_customers
    with store.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO customer_profiles (id, first_name, last_name, marketing_emails_enabled, "
                             "two_factor_enabled) SELECT md5(g::text)::uuid, 'A', 'B', true, true "
                             "FROM generate_series(1, 30000) g")  # fmt: skip
        conn.exec_driver_sql("INSERT INTO customer_profile_emails (customer_profile_id, email) SELECT id, "
                             "g || '@b.example' FROM customer_profiles, generate_series(1, 3) g")  # fmt: skip
        keys = list(conn.exec_driver_sql("SELECT id FROM customer_profiles ORDER BY id LIMIT 500").scalars())
    emails = next(tm for tm in store.mapping.tables if tm.table.name == "customer_profile_emails")
    plan = store.reads
    with store.engine.connect() as conn:
        driver: Any = conn.connection.driver_connection
        sql = "EXPLAIN " + plan.sql(plan.ranged[emails.index])
        shown = "\n".join(r[0][:100] for r in driver.execute(sql, {"low": keys[0], "high": keys[-1]}))
        assert "Index" in shown and "Seq Scan" not in shown, shown
        reltuples = conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE relname = 'customer_profile_emails'")
        assert reltuples.scalar_one() < 0  # still no statistics: the plans above were made without them


def reltuples(store: Store) -> dict[str, float]:
    names = [tm.table.name for tm in store.mapping.tables]
    with store.engine.connect() as conn:
        found = conn.execute(sa.text("SELECT relname, reltuples FROM pg_class WHERE relname IN :names")
                             .bindparams(sa.bindparam("names", expanding=True)), {"names": names})  # fmt: skip
        return {r[0]: r[1] for r in found}


def test_bulk_loads_leave_statistics_and_small_writes_leave_them_to_autovacuum(
    pg_customers: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = pg_customers
    monkeypatch.setattr(stats, "ANALYZE_AFTER", 30)  # the real threshold is 10,000 documents
    store.create_many([customer(i) for i in range(29)])
    assert all(n < 0 for n in reltuples(store).values())  # never analyzed
    store.create_many([customer(i) for i in range(30)])
    assert reltuples(store) == {
        "customer_profiles": 59,
        "customer_profile_addresses": 59,
        "customer_profile_emails": 118,
        "customer_profile_phone_numbers": 118,
    }
    with store.engine.connect() as conn:  # the key columns only (runtime/stats.py says why)
        found = conn.exec_driver_sql("SELECT tablename, attname FROM pg_stats WHERE tablename LIKE 'customer%%'")
        analyzed = set(found)
    assert analyzed == {
        ("customer_profiles", "id"),
        ("customer_profile_addresses", "customer_profile_id"),  # its key is its parent's
        *((f"customer_profile_{t}", c) for t in ("emails", "phone_numbers") for c in ("id", "customer_profile_id")),
    }


def test_gets_keep_their_prepared_statement_and_read_the_same_by_each_path(pg_customers: Store) -> None:
    """`get` reads a document of several tables by one statement, prepared once on the connection the store keeps
    for such statements (runtime/direct.py); a transaction around a read ends by COMMIT (a ROLLBACK makes psycopg
    deallocate every prepared statement). Without that statement (too wide a document), its tables' statements
    in one transaction read the same document."""
    store = pg_customers
    doc_id = store.create(customer(1))
    first = store.get(doc_id)
    for _ in range(3):
        assert store.get(doc_id) == first
    kept: Any = store.direct.parked.connection()  # the connection the store keeps for one-statement reads
    prepared = [r[0] for r in kept.execute("SELECT statement FROM pg_prepared_statements").fetchall()]
    assert any("UNION ALL" in sql for sql in prepared), prepared
    whole, store.reads.whole = store.reads.whole, None
    try:
        assert store.get(doc_id) == first
    finally:
        store.reads.whole = whole
