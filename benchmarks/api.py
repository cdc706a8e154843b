"""The application API against hand-written psycopg on PostgreSQL: lookups, find, patch, async; ratios in one run.

    python benchmarks/api.py [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                             [--users 20000] [--ops 1000] [--repeat 5] [--warmup 200]

Creates a database of its own (the repository's generated migrations, a `users` table and one profile per
user), drops it at the end. Each figure is the median latency of `--ops` calls, the median of `--repeat`
rounds, after `--warmup` untimed calls of each side (pools filled, statements compiled and prepared by the
server, caches warm); the two sides' calls alternate, so that both meet the same load of a shared machine.
The hand-written side is a psycopg connection in autocommit mode building the same dicts. The machine's load
average is printed before and after: on a loaded machine a call's latency grows with the CPU time it needs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import sqlalchemy as sa
from common import (
    DEFAULT_SERVER,
    GENERATED,
    WARMUP,
    Row,
    load_average,
    migrated_database,
    ms,
    paired,
    print_table,
    scratch_database,
)
from runtime_helpers import customer  # noqa: E402 - the tests' CustomerProfile: an address, 2 emails, 2 phones
from schemarel import AsyncStore, Store, backfill  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine

ZONES = ["Europe/Paris", "America/New_York", "UTC", "Asia/Tokyo"]


def profile_row(row: tuple[Any, ...]) -> dict[str, Any]:
    document = {"userId": row[0], "timezone": row[1], "currency": row[2]}
    if row[3] is not None:
        document["settings"] = row[3]
    return document


def run(url: sa.URL, args: argparse.Namespace) -> list[Row]:
    plain = url.render_as_string(hide_password=False)
    engine = migrated_database(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"INSERT INTO users SELECT 'u' || lpad(i::text, 7, '0') FROM generate_series(1, {args.users}) i"
        )
    profiles = Store(engine, "profile", source=GENERATED)
    customers = Store(engine, "customer", source=GENERATED)
    backfill(profiles)
    with engine.connect() as conn:
        ids = [str(i) for i in conn.exec_driver_sql("SELECT id FROM profiles ORDER BY user_id").scalars()]
    users = [f"u{i:07d}" for i in range(1, args.users + 1)]
    raw = psycopg.connect(plain.replace("postgresql+psycopg", "postgresql"), autocommit=True)
    ops, repeat = args.ops, args.repeat
    pick = [(i * 7919) % args.users for i in range(ops)]
    rows: list[Row] = []

    def hand_get_by(i: int) -> dict[str, Any]:
        row = raw.execute("SELECT user_id, timezone, currency, settings FROM profiles WHERE user_id = %s",
                          (users[pick[i]],)).fetchone()  # fmt: skip
        assert row is not None
        return profile_row(row)

    def store_get_by(i: int) -> Any:
        return profiles.get_by(userId=users[pick[i]])

    assert hand_get_by(0) == store_get_by(0)
    hand, ours = paired(hand_get_by, store_get_by, ops, repeat)
    rows += [("psycopg: SELECT … WHERE user_id = %s, dict built", ms(hand), "1.00×"),
             ("Store.get_by(userId=…)", ms(ours), f"{ours / hand:.2f}× (goal ≤ 1.5×)")]  # fmt: skip

    def hand_find(i: int) -> list[tuple[Any, dict[str, Any]]]:
        low, high = users[pick[i] % (args.users - 20)], users[pick[i] % (args.users - 20) + 20]
        found = raw.execute("SELECT id, user_id, timezone, currency, settings FROM profiles "
                            "WHERE user_id >= %s AND user_id < %s ORDER BY id", (low, high))  # fmt: skip
        return [(r[0], profile_row(r[1:])) for r in found]

    def store_find(i: int) -> list[Any]:
        low, high = users[pick[i] % (args.users - 20)], users[pick[i] % (args.users - 20) + 20]
        return list(profiles.find({"userId": {"gte": low, "lt": high}}))

    assert hand_find(0) == store_find(0) and len(store_find(0)) == 20
    hand, ours = paired(hand_find, store_find, ops, repeat)
    rows += [("psycopg: 20 documents by a range of user_id (unique index)", ms(hand), "1.00×"),
             ("Store.find({'userId': {'gte': …, 'lt': …}})", ms(ours), f"{ours / hand:.2f}× (goal ≤ 2×)")]  # fmt: skip

    def hand_patch(i: int) -> None:
        raw.execute("UPDATE profiles SET timezone = %s, updated_at = now() WHERE id = %s",
                    (ZONES[i % 4], ids[pick[i]]))  # fmt: skip

    def store_patch(i: int) -> Any:
        return profiles.patch(ids[pick[i]], {"timezone": ZONES[(i + 1) % 4]})

    hand, ours = paired(hand_patch, store_patch, ops, repeat)
    rows += [("psycopg: UPDATE profiles SET timezone = %s … WHERE id = %s", ms(hand), "1.00×"),
             ("Store.patch(id, {'timezone': …}) (validated, returns the document)", ms(ours),
              f"{ours / hand:.2f}× (goal ≤ 1.5×)")]  # fmt: skip

    documents = [customer(i) for i in range(ops)]
    created = [customers.create(documents[i]) for i in range(ops)]
    lookups = [(lambda i: customers.create(documents[i]), "create"), (lambda i: customers.get(created[i]), "get"),
               (store_get_by, "get_by")]  # fmt: skip
    figures = asyncio.run(_async_figures(url, lookups, documents, created, [users[p] for p in pick], repeat))
    (sync_create, async_create), (sync_get, async_get), (sync_by, async_by) = figures
    rows += [("Store.create(customer) (4 tables, one statement)", ms(sync_create), "1.00×"),
             ("AsyncStore.create(customer)", ms(async_create), f"{async_create / sync_create:.2f}× (goal ≤ 1.3×)"),
             ("Store.get(customer id) (4 tables)", ms(sync_get), "1.00×"),
             ("AsyncStore.get(customer id)", ms(async_get), f"{async_get / sync_get:.2f}× (goal ≤ 1.3×)"),
             ("Store.get_by(userId=…) (one row)", ms(sync_by), "1.00×"),
             ("AsyncStore.get_by(userId=…)", ms(async_by), f"{async_by / sync_by:.2f}× (goal ≤ 1.3×)")]  # fmt: skip
    raw.close()
    engine.dispose()
    return rows


async def _async_figures(
    url: sa.URL,
    lookups: list[tuple[Callable[[int], Any], str]],
    documents: list[Any],
    created: list[Any],
    users: list[str],
    repeat: int,
) -> list[tuple[float, float]]:
    """(sync, async) median latencies of create, get and get_by, interleaved as in `paired` (the sync calls
    block the event loop, which has nothing else to do)."""
    engine = create_async_engine(url)
    async_customers = AsyncStore(engine, "customer", source=GENERATED)
    async_profiles = AsyncStore(engine, "profile", source=GENERATED)
    await async_customers.get(created[0])  # the revision check, once
    await async_profiles.get_by(userId=users[0])
    ops = len(documents)
    figures = []
    calls: dict[str, Callable[[int], Awaitable[Any]]] = {
        "create": lambda i: async_customers.create(documents[i]),
        "get": lambda i: async_customers.get(created[i]),
        "get_by": lambda i: async_profiles.get_by(userId=users[i]),
    }
    sides = [(sync_fn, calls[name]) for sync_fn, name in lookups]
    for sync_fn, async_fn in sides:
        for i in range(WARMUP):
            sync_fn(i % ops)
            await async_fn(i % ops)
        rounds = []
        for _ in range(repeat):
            times: tuple[list[float], list[float]] = ([], [])
            for i in range(ops):
                start = time.perf_counter()
                sync_fn(i)
                times[0].append(time.perf_counter() - start)
                start = time.perf_counter()
                await async_fn(i)
                times[1].append(time.perf_counter() - start)
            rounds.append((statistics.median(times[0]), statistics.median(times[1])))
        figures.append((statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds)))
    await engine.dispose()
    return figures


table_rows = run  # what benchmarks/table.py runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--ops", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=WARMUP)
    args = parser.parse_args()
    before = load_average()
    with scratch_database(args.server) as url:
        rows = run(url, args)
    print(f"{before} before, {load_average()} after")
    print_table(rows)


if __name__ == "__main__":
    main()
