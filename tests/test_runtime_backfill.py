"""Backfill of default profiles: complete, idempotent, resumable, and safe beside concurrent registrations."""

from __future__ import annotations

import random
import threading

import pytest
import sqlalchemy as sa
from runtime_helpers import add_users, open_store
from schemarel.errors import ConstraintViolation
from schemarel.runtime.backfill import Backfill, BackfillResult, backfill
from schemarel.runtime.store import Store

DEFAULTS = {"timezone": "UTC", "currency": "USD"}


def profiles_by_user(store: Store) -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = {}
    for document in store:
        assert document["userId"] not in found, "two profiles for one user"
        found[str(document["userId"])] = document
    return found


def test_backfill_creates_exactly_the_missing_profiles(db_url: str) -> None:
    store = open_store(db_url, "profile")
    users = [f"user{i:05d}" for i in range(2_500)]
    add_users(store, users)
    chosen = {"user00007": "Europe/Paris", "user01500": "Asia/Tokyo", "user02499": "UTC"}
    for user, timezone in chosen.items():
        store.create({"userId": user, "timezone": timezone, "currency": "EUR", "settings": {"x": 1}})

    result = backfill(store, batch_size=700)
    assert (result.referenced, result.created, result.batches) == (2_500, 2_497, 4)
    found = profiles_by_user(store)
    assert sorted(found) == users
    for user, document in found.items():
        if user in chosen:  # an existing profile is left as it was
            assert document == {"userId": user, "timezone": chosen[user], "currency": "EUR", "settings": {"x": 1}}
        else:
            assert document == {"userId": user, **DEFAULTS}

    again = backfill(store, batch_size=700)
    assert (again.referenced, again.created) == (2_500, 0)


def test_backfill_resumes_after_being_stopped(db_url: str) -> None:
    store = open_store(db_url, "profile")
    add_users(store, [f"u{i:04d}" for i in range(1_000)])

    def stop_after_two_batches(result: BackfillResult, total: int) -> None:
        assert total == 1_000
        if result.batches == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Backfill(store, batch_size=300, workers=2).run(stop_after_two_batches)
    done = len(store)
    assert done in (600, 900)  # whole batches only: those collected, and the one under way with them
    result = backfill(store, batch_size=300)
    assert (result.created, len(store)) == (1_000 - done, 1_000)


def test_backfill_refuses_a_schema_without_a_unique_external_reference(db_url: str) -> None:
    store = open_store(db_url, "customer")
    with pytest.raises(Exception, match="needs exactly one unique reference"):
        Backfill(store)


@pytest.mark.postgres
def test_backfill_beside_concurrent_registrations(postgres_url: str) -> None:
    store = open_store(postgres_url, "profile")
    existing = [f"old{i:06d}" for i in range(20_000)]
    add_users(store, existing)
    users = store.metadata.tables["users"]
    errors: list[BaseException] = []
    registered: list[str] = []
    lazily_created = 0
    lock = threading.Lock()
    stop = threading.Event()

    def register(worker: int) -> None:
        """New users with their profile, in one transaction each (the seed's registration endpoint)."""
        n = 0
        try:
            while not stop.is_set() or n < 20:
                user = f"new{worker}-{n:05d}"
                with store.engine.begin() as conn:
                    conn.execute(users.insert().values(id=user))
                    store.create({"userId": user, "timezone": "Europe/Oslo"}, conn=conn)
                with lock:
                    registered.append(user)
                n += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    def first_login(seed: int) -> None:
        """Existing users getting a profile on their own while the backfill runs (a race per user)."""
        nonlocal lazily_created
        rng = random.Random(seed)
        try:
            while not stop.is_set():
                try:
                    store.create({"userId": rng.choice(existing), "currency": "NOK"})
                    with lock:
                        lazily_created += 1
                except ConstraintViolation:
                    pass  # the backfill (or another login) was first: the profile exists
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(w,)) for w in range(3)]
    threads += [threading.Thread(target=first_login, args=(s,)) for s in range(2)]
    for thread in threads:
        thread.start()
    try:
        result = backfill(store, batch_size=2_000)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors, errors
    found = profiles_by_user(store)  # no user has two
    assert sorted(found) == sorted(existing + registered)
    assert result.created + lazily_created == len(existing)  # each existing user got one, from one side
    for user in registered:
        assert found[user]["timezone"] == "Europe/Oslo"
    assert sum(1 for u in existing if found[u]["currency"] == "NOK") == lazily_created
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one() == len(found)
    assert backfill(store).created == 0


def test_the_referenced_table_is_counted_only_for_a_progress_report(db_url: str) -> None:
    store = open_store(db_url, "profile")
    add_users(store, [f"u{i:04d}" for i in range(50)])
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(" ".join(statement.split()))

    counts = "SELECT count(*) AS count_1 FROM users"
    sa.event.listen(store.engine, "before_cursor_execute", seen)
    try:
        assert backfill(store, batch_size=20).created == 50
        assert counts not in statements  # a scan of the whole table, for nobody
        totals: list[int] = []
        assert Backfill(store, batch_size=20).run(lambda result, total: totals.append(total)).referenced == 50
        assert counts in statements and totals == [50, 50, 50]
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", seen)
