"""create_many's and load's two batches at once (runtime/paired.py) on PostgreSQL: the same batches committed,
the same failure raised, the same lines rejected, as writing one batch after another; clashes between the two
retried alone, then side by side again; the session's lower lock_timeout and its idle-in-transaction timeout
honoured; no deadlock."""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runtime_helpers import SCHEMAS, counts, customer, customers_with_one_owner_per, empty_customers
from schemarel.errors import ConstraintViolation, DocumentInvalid
from schemarel.runtime import ndjson, overlap, paired, writes
from schemarel.runtime.ndjson import Loader, Reject
from schemarel.runtime.store import Store
from schemarel.runtime.tablemap import RowBatch

SHARED = "+10000000"  # a phone number two customers may not share (a unique index the schema does not know)


@pytest.fixture
def customers(postgres_url: str) -> Store:
    return customers_with_one_owner_per(postgres_url, SHARED)


def _names(store: Store) -> list[str]:
    return sorted(d["firstName"] for d in store)


def _document(i: int, kind: str) -> dict[str, Any]:
    if kind == "shared":
        return customer(i, phoneNumbers=[{"type": "work", "number": SHARED}])
    if kind == "invalid":
        return customer(i, emails=["broken"])
    return customer(i)


def _one_after_another(kinds: list[str], batch_size: int) -> tuple[list[str], type[Exception] | None]:
    """What batches written one after another leave: the names written, the error raised."""
    names: list[str] = []
    owner = False
    for start in range(0, len(kinds), batch_size):
        batch = kinds[start : start + batch_size]
        if "invalid" in batch:  # prepared before the batch is written: nothing of it is
            return names, DocumentInvalid
        shared = batch.count("shared")
        if shared > 1 or (shared and owner):
            return names, ConstraintViolation
        owner = owner or shared == 1
        names += [f"Ada{start + i}" for i in range(len(batch))]
    return names, None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kinds=st.lists(st.sampled_from(["plain"] * 4 + ["shared"] * 2 + ["invalid"]), min_size=1, max_size=14),
    batch_size=st.integers(1, 4),
    timeout=st.sampled_from(["1ms", "1s"]),
)
def test_drawn_batches_commit_and_fail_as_one_after_another(
    customers: Store, monkeypatch: pytest.MonkeyPatch, kinds: list[str], batch_size: int, timeout: str
) -> None:
    monkeypatch.setattr(writes, "can_overlap", lambda engine: True)
    monkeypatch.setattr(paired, "LOCK_TIMEOUT", timeout)  # 1ms: a later batch's wait is often a "clash" too
    empty_customers(customers)
    names, error = _one_after_another(kinds, batch_size)
    documents = [_document(i, kind) for i, kind in enumerate(kinds)]
    if error is None:
        ids = customers.create_many(documents, batch_size=batch_size)
        assert [customers.get(i)["firstName"] for i in ids] == [f"Ada{i}" for i in range(len(kinds))]
    else:
        with pytest.raises(error):
            customers.create_many(documents, batch_size=batch_size)
    assert _names(customers) == sorted(names)


def test_a_failing_batch_in_the_middle_keeps_those_before_and_none_after(
    customers: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writes, "can_overlap", lambda engine: True)
    kinds = ["shared"] + ["plain"] * 5 + ["shared"] + ["plain"] * 5  # batches of 2: the fourth is refused
    with pytest.raises(ConstraintViolation, match="one_owner_per_number"):
        customers.create_many([_document(i, kind) for i, kind in enumerate(kinds)], batch_size=2)
    assert _names(customers) == sorted(f"Ada{i}" for i in range(6))
    assert counts(customers)["customer_profile_phone_numbers"] == 1 + 5 * 2


def test_a_batch_waiting_longer_than_the_lock_timeout_is_written_again_alone(
    customers: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another transaction holds the shared number until it rolls back: one batch after another would wait
    for it and then write everything; so does create_many, its first attempt ended by the lock timeout. Only
    that batch and the one beside it are written again alone: the later ones go side by side again."""
    monkeypatch.setattr(writes, "can_overlap", lambda engine: True)
    monkeypatch.setattr(paired, "LOCK_TIMEOUT", "50ms")
    alone: list[Any] = []
    original = paired.Paired.__init__

    def counting(self: Any, engine: Any, write: Any, one: Any, translate: Any) -> None:
        def again(item: Any) -> Any:
            alone.append(item[0].rows[0][0][1])  # the batch's first document: its first name
            return one(item)

        original(self, engine, write, again, translate)

    monkeypatch.setattr(paired.Paired, "__init__", counting)
    other = customers.engine.connect()
    holder = other.begin()
    customers.write(other, [_document(99, "shared")])
    release = threading.Timer(0.5, holder.rollback)
    release.start()
    try:
        documents = [_document(i, "shared" if i == 3 else "plain") for i in range(12)]
        ids = customers.create_many(documents, batch_size=2)
    finally:
        release.join()
        other.close()
    assert [customers.get(i)["firstName"] for i in ids] == [f"Ada{i}" for i in range(12)]
    assert alone == ["Ada2", "Ada4"]  # the timeout ended the first attempt of batch 1; batches 3–5 side by side


def test_a_session_lock_timeout_lower_than_the_pairings_is_honoured(postgres_url: str) -> None:
    """The session's lock_timeout is 100 ms; another transaction holds the shared number for 600 ms. One batch
    after another fails by the session's timeout; so must create_many (a 1 s wait side by side would see the
    lock released, and write what one after another does not)."""
    customers_with_one_owner_per(postgres_url, SHARED).close()
    engine = sa.create_engine(postgres_url, connect_args={"options": "-c lock_timeout=100ms"})
    store = Store(engine, "customer", schemas_dir=SCHEMAS)
    other = engine.connect()
    holder = other.begin()
    store.write(other, [_document(99, "shared")])
    release = threading.Timer(0.6, holder.rollback)
    release.start()
    try:
        with pytest.raises(Exception, match="lock timeout"):
            store.create_many([_document(i, "shared" if i == 3 else "plain") for i in range(8)], batch_size=2)
    finally:
        release.join()
        other.close()
    assert _names(store) == ["Ada0", "Ada1"]
    store.close()
    engine.dispose()


def test_a_later_batch_outlives_a_tiny_idle_in_transaction_timeout(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session ends a transaction idle for 50 ms; batch 0 takes 300 ms, while batch 1, written, waits idle
    in its transaction for batch 0's commit. That wait is the pairing's own: every batch is written, none twice,
    by create_many and by a load."""
    customers_with_one_owner_per(postgres_url, SHARED).close()
    engine = sa.create_engine(postgres_url, connect_args={"options": "-c idle_in_transaction_session_timeout=50ms"})
    store = Store(engine, "customer", schemas_dir=SCHEMAS)
    sent: list[str] = []
    send = store.send

    def slow_first(conn: sa.Connection, batch: RowBatch, ids: list[Any]) -> list[Any]:
        sent.append(batch.rows[0][0][1])  # the batch's first document: its first name
        if sent[-1] == "Ada0":
            conn.exec_driver_sql("SELECT pg_sleep(0.3)")
        return send(conn, batch, ids)

    monkeypatch.setattr(store, "send", slow_first)
    ids = store.create_many([customer(i) for i in range(6)], batch_size=2)
    assert [store.get(i)["firstName"] for i in ids] == [f"Ada{i}" for i in range(6)]
    assert sorted(sent) == ["Ada0", "Ada2", "Ada4"]  # each batch written once, side by side
    sent.clear()
    recovered = _counted_recoveries(monkeypatch)
    assert _load(store, [customer(i) for i in range(6)], 2) == ([f"Ada{i}" for i in range(6)], 6, [])
    assert sorted(sent) == ["Ada0", "Ada2", "Ada4"] and recovered == []  # a load's too: no batch lost its connection
    store.close()
    engine.dispose()


def test_create_many_and_load_shorten_the_switch_interval_while_they_write_and_restore_it(
    customers: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interval is the whole process's (runtime/overlap.py): create_many and load, whose two batches at once
    pay for it, shorten it while their batches are written, and restore it after, a failure too."""
    monkeypatch.setattr(writes, "can_overlap", lambda engine: True)
    monkeypatch.setattr(ndjson, "can_overlap", lambda engine: True)
    before = sys.getswitchinterval()
    seen: list[float] = []
    send = customers.send

    def noting(conn: sa.Connection, *rows: Any) -> list[Any]:
        seen.append(sys.getswitchinterval())
        return send(conn, *rows)

    monkeypatch.setattr(customers, "send", noting)
    customers.create_many([customer(i) for i in range(4)], batch_size=2)
    assert seen == [pytest.approx(overlap.SWITCH_INTERVAL)] * 2 and sys.getswitchinterval() == before
    seen.clear()
    assert _load(customers, [customer(i) for i in range(4)], 2)[1] == 4
    assert seen == [pytest.approx(overlap.SWITCH_INTERVAL)] * 2 and sys.getswitchinterval() == before
    seen.clear()

    def failing(conn: sa.Connection, *rows: Any) -> list[Any]:
        seen.append(sys.getswitchinterval())
        raise RuntimeError("the database went away")

    monkeypatch.setattr(customers, "send", failing)
    with pytest.raises(RuntimeError):
        customers.create_many([customer(i) for i in range(4)], batch_size=2)
    assert seen and sys.getswitchinterval() == before


def test_a_pool_of_one_connection_writes_one_batch_at_a_time(customers: Store, postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url, pool_size=1, max_overflow=0, pool_timeout=5)
    store = Store(engine, "customer", schemas_dir=SCHEMAS)
    ids = store.create_many([customer(i) for i in range(9)], batch_size=2)
    assert [store.get(i)["firstName"] for i in ids] == [f"Ada{i}" for i in range(9)]
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]  # QueuePool's; typed Pool: every connection back
    store.close()
    engine.dispose()


def test_several_threads_write_at_once(customers: Store) -> None:
    written: dict[int, list[Any]] = {}

    def load(t: int) -> None:
        written[t] = customers.create_many([customer(100 * t + i) for i in range(7)], batch_size=2)

    threads = [threading.Thread(target=load, args=(t,)) for t in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for t in range(3):
        assert [customers.get(i)["firstName"] for i in written[t]] == [f"Ada{100 * t + i}" for i in range(7)]
    assert customers.engine.pool.checkedout() == 0  # type: ignore[attr-defined]  # QueuePool's; typed Pool


def test_an_earlier_batch_waiting_on_the_later_one_is_written_again_alone(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hazard the lock timeout is for: batch 0 inserts a key that batch 1 inserted first (uncommitted), so
    batch 0 waits on batch 1 while batch 1 waits for batch 0's commit. Without the timeout this never ends;
    with it, batch 0 is written again alone and batch 1 then fails, as one after another they do."""
    monkeypatch.setattr(paired, "LOCK_TIMEOUT", "100ms")
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE keys (k int PRIMARY KEY, batch int)")

    def write(conn: sa.Connection, item: tuple[float, int, int]) -> int:
        delay, key, batch = item
        conn.exec_driver_sql(f"SELECT pg_sleep({delay})")
        conn.exec_driver_sql(f"INSERT INTO keys VALUES ({key}, {batch})")
        return batch

    def alone(item: tuple[float, int, int]) -> int:
        with engine.begin() as conn:
            return write(conn, (0, *item[1:]))

    ran = paired.Paired[tuple[float, int, int], int](engine, write, alone, lambda exc: exc)
    with pytest.raises(sa.exc.IntegrityError), ran:
        assert ran.start((0.5, 1, 0)) == []  # batch 0 reaches its insert after batch 1's
        assert ran.start((0, 1, 1)) == []
        ran.finish()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT k, batch FROM keys").all() == [(1, 0)]
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]  # QueuePool's; typed Pool
    engine.dispose()


@pytest.fixture
def keys(postgres_url: str) -> Iterator[sa.Engine]:
    """A table of keys that refuses negative ones, and a row `held` whose lock another session keeps."""
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE keys (k int PRIMARY KEY CHECK (k >= 0))")
        conn.exec_driver_sql("CREATE TABLE held (k int); INSERT INTO held VALUES (1)")
    with psycopg.connect(postgres_url.replace("+psycopg", "")) as holder:  # outside the engine's pool
        holder.execute("SELECT k FROM held FOR UPDATE")  # kept until the test ends
        yield engine
    engine.dispose()


def _with_backoff(kinds: list[str]) -> tuple[list[int], bool, list[int]]:
    """Paired's rule, run on paper: (the items committed, whether a failure is raised, those written alone). A
    "clash" fails side by side by a concurrency failure and is written again alone with the item beside it; then
    items go side by side again, but after the n-th clash in a row (fewer than QUIET commits side by side since
    the last), 2**(n-1) - 1 items more are written alone. A "bad" item fails wherever it is written."""
    committed: list[int] = []
    alone: list[int] = []
    under_way: list[int] = []
    clashes = quiet = left = 0

    def write_alone(i: int) -> bool:
        if kinds[i] == "bad":
            return False
        alone.append(i)
        committed.append(i)
        return True

    def settle() -> bool:
        nonlocal clashes, quiet, left
        first, later = under_way[0], under_way[1:]
        under_way.clear()
        if kinds[first] == "plain":
            committed.append(first)
            under_way.extend(later)
            quiet += 1
            clashes = 0 if quiet >= paired.QUIET else clashes
            return True
        if kinds[first] == "bad":
            return False
        clashes, quiet = clashes + 1, 0
        left = min(2 ** (clashes - 1) - 1, paired.MOST_ALONE)
        return write_alone(first) and all(write_alone(i) for i in later)

    for i in range(len(kinds)):
        while len(under_way) >= (1 if left else 2):
            if not settle():
                return committed, True, alone
        if left:
            left -= 1
            if not write_alone(i):
                return committed, True, alone
        else:
            under_way.append(i)
    while under_way:
        if not settle():
            return committed, True, alone
    return committed, False, alone


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(["plain"] * 5 + ["clash"] * 3 + ["bad"]), min_size=1, max_size=24))
def test_drawn_clashes_are_written_alone_and_the_later_items_side_by_side_again(
    keys: sa.Engine, kinds: list[str]
) -> None:
    """Items commit and fail as one after another (every item before the first bad one, the failure raised), and
    after a clash the later items are written side by side again, as `_with_backoff` says (the old rule wrote
    every item after a clash alone)."""
    with keys.begin() as conn:
        conn.exec_driver_sql("TRUNCATE keys")
    alone: list[int] = []

    def write(conn: sa.Connection, i: int) -> int:
        if kinds[i] == "clash":  # another session holds the row: lock_not_available at once, a real clash's error
            conn.exec_driver_sql("SELECT k FROM held FOR UPDATE NOWAIT")
        conn.exec_driver_sql(f"INSERT INTO keys VALUES ({-1 if kinds[i] == 'bad' else i})")
        return i

    def write_alone(i: int) -> int:
        with keys.begin() as conn:
            conn.exec_driver_sql(f"INSERT INTO keys VALUES ({-1 if kinds[i] == 'bad' else i})")
        alone.append(i)
        return i

    committed, fails, expected_alone = _with_backoff(kinds)
    first_bad = kinds.index("bad") if "bad" in kinds else len(kinds)
    assert committed == list(range(first_bad)) and fails == (first_bad < len(kinds))  # the model is one after another
    results: list[int] = []
    ran = paired.Paired[int, int](keys, write, write_alone, lambda exc: exc)
    with contextlib.ExitStack() as stack:
        if fails:
            stack.enter_context(pytest.raises(sa.exc.IntegrityError, match="keys_k_check"))
        with ran:
            for i in range(len(kinds)):
                results += ran.start(i)
            results += ran.finish()
    if not fails:
        assert results == committed
    assert alone == expected_alone
    with keys.connect() as conn:
        assert conn.exec_driver_sql("SELECT k FROM keys ORDER BY k").scalars().all() == committed
    assert keys.pool.checkedout() == 0  # type: ignore[attr-defined]  # QueuePool's; typed Pool


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    session=st.one_of(st.sampled_from(["0", "1ms", "999ms", "1s", "1001ms", "2min", "1h", "1d"]), st.integers(0, 3000)),
    limit=st.sampled_from(["1ms", "100ms", "1s"]),
)
def test_side_by_side_the_lock_timeout_is_the_lower_of_the_sessions_and_the_pairings(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, session: str | int, limit: str
) -> None:
    """A side-by-side transaction waits on a lock at most the lower of the session's lock_timeout (0: none) and
    LOCK_TIMEOUT, and is never ended as idle in transaction; a transaction written alone keeps the session's."""
    monkeypatch.setattr(paired, "LOCK_TIMEOUT", limit)
    options = f"-c lock_timeout={session} -c idle_in_transaction_session_timeout=20s"
    engine = sa.create_engine(postgres_url, connect_args={"options": options})
    query = "SELECT current_setting('lock_timeout')::interval, current_setting('idle_in_transaction_session_timeout')"
    seen: dict[str, Any] = {}

    def write(conn: sa.Connection, label: str) -> str:
        seen[label] = tuple(conn.exec_driver_sql(query).one())
        return label

    def write_alone(label: str) -> str:
        with engine.begin() as conn:
            return write(conn, label)

    with paired.Paired[str, str](engine, write, write_alone, lambda exc: exc) as ran:
        ran.start("side by side")
        ran.finish()
    write_alone("alone")
    engine.dispose()
    own = seen["alone"][0]
    assert seen["alone"][1] == "20s"
    with psycopg.connect(postgres_url.replace("+psycopg", "")) as conn:
        expected = conn.execute("SELECT least(nullif(%s::interval, '0'), %s::interval)", (own, limit)).fetchone()
    assert seen["side by side"] == (expected[0] if expected else None, "0")


def _load(store: Store, documents: list[dict[str, Any]], batch_size: int) -> tuple[list[str], int, list[Reject]]:
    """A load of `documents` from an empty store: the names written (in order), the count, the rejects."""
    empty_customers(store)
    rejected: list[Reject] = []
    lines = [json.dumps(doc).encode() for doc in documents]
    result = Loader(store, rejected.append, batch_size, keep_ids=True).run(lines)
    return [store.get(i)["firstName"] for i in result.ids], result.loaded, rejected


def _counted_recoveries(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The batches a load recovers line by line (its connection lost), noted as `Loader._recover` is called."""
    recovered: list[Any] = []
    recover = Loader._recover

    def counting(self: Loader, batch: Any, error: Exception) -> Any:
        recovered.append(batch)
        return recover(self, batch, error)

    monkeypatch.setattr(Loader, "_recover", counting)
    return recovered


def _twins(store: Store) -> None:
    """A second unique value: two twins in a batch make its COPY fail at once, and each line is then written
    in a SAVEPOINT of its own (by INSERT: a lock timeout there is a SQLAlchemy error, as a refused line is)."""
    with store.engine.begin() as conn:
        conn.exec_driver_sql("CREATE UNIQUE INDEX one_twin ON customer_profiles (first_name) WHERE first_name = 'Twin'")


def _reasons(rejected: list[Reject]) -> list[tuple[int, str]]:
    return [(r.line, "one_twin" if "one_twin" in r.reasons[0] else r.reasons[0]) for r in rejected]


@pytest.mark.parametrize("timeout", ["1ms", "1s"])
def test_a_load_whose_two_batches_clash_rejects_what_one_after_another_does(
    customers: Store, monkeypatch: pytest.MonkeyPatch, timeout: str
) -> None:
    """Batch 1 inserts, line by line, the unique number batch 0 inserted: the later line is rejected for the same
    reason as one after another, never for a lock timeout (1ms: batch 1's wait often ends by it)."""
    _twins(customers)
    monkeypatch.setattr(paired, "LOCK_TIMEOUT", timeout)
    documents = [_document(i, "shared" if i in (3, 6) else "plain") for i in range(10)]
    documents[4]["firstName"] = documents[5]["firstName"] = "Twin"
    outcomes = []
    for paired_up in (False, True):
        monkeypatch.setattr(ndjson, "can_overlap", lambda engine, paired_up=paired_up: paired_up)
        outcomes.append(_load(customers, documents, 4))
    alone, side_by_side = outcomes
    assert side_by_side == alone
    assert [r.line for r in alone[2]] == [6, 7] and "one_owner_per_number" in alone[2][1].reasons[0]


def test_a_load_whose_earlier_batch_waits_on_the_later_one_ends_as_one_after_another(
    customers: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batch 0, slow to start, fails on its twins and writes its lines one by one; its first has the number batch 1
    inserted meanwhile: batch 0 waits on batch 1, which waits for batch 0's commit. The lock timeout ends it, and
    both batches are written again one after the other: batch 1's line is the one rejected, for the number."""
    _twins(customers)
    monkeypatch.setattr(paired, "LOCK_TIMEOUT", "100ms")
    documents = [_document(i, "shared" if i in (0, 4) else "plain") for i in range(8)]
    documents[1]["firstName"] = documents[2]["firstName"] = "Twin"
    monkeypatch.setattr(ndjson, "can_overlap", lambda engine: False)
    expected = _load(customers, documents, 4)
    monkeypatch.setattr(ndjson, "can_overlap", lambda engine: True)
    sent: list[int] = []
    send = customers.send
    inserted = threading.Event()

    def slow_first(conn: sa.Connection, *rows: Any) -> list[Any]:
        sent.append(len(sent))
        if len(sent) == 1:
            # batch 1 inserts the number meanwhile: waited for, not slept on (a sleep of 0.5 s, then of 2 s, was
            # too short for batch 1 on a machine running two suites at once)
            assert inserted.wait(timeout=60), "batch 1 was never sent"
            return send(conn, *rows)
        result = send(conn, *rows)
        inserted.set()  # batch 1's rows are in (uncommitted: it waits for batch 0's commit now)
        return result

    monkeypatch.setattr(customers, "send", slow_first)
    alone: list[Any] = []
    write_alone = Loader._alone

    def counting(self: Loader, batch: Any) -> Any:
        alone.append(batch)
        return write_alone(self, batch)

    monkeypatch.setattr(Loader, "_alone", counting)
    assert _load(customers, documents, 4) == expected
    assert len(alone) == 2  # the clash ended by the lock timeout: both batches written again, one after the other
    assert [r.line for r in expected[2]] == [3, 5] and "one_owner_per_number" in expected[2][1].reasons[0]


def test_an_item_recovered_from_keeps_its_place_and_the_later_one_is_written_alone(postgres_url: str) -> None:
    """`recover` gives the result of an item whose write failed (here: a value the table refuses), in its place;
    the later item, rolled back meanwhile, is written again alone, and the next ones side by side again; an error
    `recover` raises is the one raised."""
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE keys (k int PRIMARY KEY CHECK (k > 0))")

    def write(conn: sa.Connection, key: int) -> str:
        conn.exec_driver_sql(f"INSERT INTO keys VALUES ({key})")
        return f"written {key}"

    def alone(key: int) -> str:
        with engine.begin() as conn:
            return write(conn, key) + " alone"

    def recover(key: int, error: Exception) -> str:
        if key == -2:
            raise ValueError("not this one") from error
        return f"recovered {key}"

    ran = paired.Paired[int, str](engine, write, alone, lambda exc: exc, recover)
    with ran:
        results = ran.start(1) + ran.start(-1) + ran.start(2) + ran.start(3) + ran.start(5) + ran.finish()
    assert results == ["written 1", "recovered -1", "written 2 alone", "written 3", "written 5"]
    ran = paired.Paired[int, str](engine, write, alone, lambda exc: exc, recover)
    with pytest.raises(ValueError, match="not this one"), ran:
        ran.start(-2)
        ran.start(4)
        ran.finish()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT k FROM keys ORDER BY k").scalars().all() == [1, 2, 3, 5]
    engine.dispose()


@pytest.mark.parametrize("dropped", ["Ada0", "Ada4"])  # batch 0's connection, or batch 1's
def test_a_load_whose_batch_lost_its_connection_writes_it_again_line_by_line(
    customers: Store, monkeypatch: pytest.MonkeyPatch, dropped: str
) -> None:
    """The server drops the connection of one of two batches written side by side: its lines are written again
    one by one on a new connection, in its place, the same lines loaded and rejected as without the drop
    (batch 1's shared number refused line by line: by COPY, whose driver error is typed as in the batch)."""
    documents = [_document(i, "shared" if i in (1, 5) else "plain") for i in range(8)]
    monkeypatch.setattr(ndjson, "can_overlap", lambda engine: False)
    expected = _load(customers, documents, 4)
    monkeypatch.setattr(ndjson, "can_overlap", lambda engine: True)
    drops: list[int] = []
    send = customers.send

    def dropping(conn: sa.Connection, batch: RowBatch, ids: list[Any]) -> list[Any]:
        if not drops and batch.rows[0][0][1] == dropped:  # the batch's first document: its first name
            drops.append(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
            with customers.engine.connect() as admin:
                admin.exec_driver_sql(f"SELECT pg_terminate_backend({drops[0]})")
            while True:  # the server ends the session a moment later
                conn.exec_driver_sql("SELECT pg_sleep(0.01)")
        return send(conn, batch, ids)

    monkeypatch.setattr(customers, "send", dropping)
    recovered = _counted_recoveries(monkeypatch)
    assert _load(customers, documents, 4) == expected
    assert [r.line for r in expected[2]] == [6] and len(recovered) == 1
