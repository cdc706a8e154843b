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
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import create_async_engine

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from runtime_helpers import customer  # noqa: E402 - the tests' CustomerProfile: an address, 2 emails, 2 phones
from schemarel import AsyncStore, Store, backfill  # noqa: E402

GENERATED = REPO / "generated"
ZONES = ["Europe/Paris", "America/New_York", "UTC", "Asia/Tokyo"]


WARMUP = 200


def paired(base: Callable[[int], Any], ours: Callable[[int], Any], ops: int, repeat: int) -> tuple[float, float]:
    """Median seconds per call of each, the calls interleaved (base, ours, base, …) so that both meet the same
    load of a shared machine; each round times `ops` calls of each, and the median round is kept. `WARMUP`
    calls of each come first, untimed."""
    for i in range(WARMUP):
        base(i % ops)
        ours(i % ops)
    rounds: list[tuple[float, float]] = []
    for _ in range(repeat):
        times: tuple[list[float], list[float]] = ([], [])
        for i in range(ops):
            for side, fn in enumerate((base, ours)):
                start = time.perf_counter()
                fn(i)
                times[side].append(time.perf_counter() - start)
        rounds.append((statistics.median(times[0]), statistics.median(times[1])))
    return statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds)


def profile_row(row: tuple[Any, ...]) -> dict[str, Any]:
    document = {"userId": row[0], "timezone": row[1], "currency": row[2]}
    if row[3] is not None:
        document["settings"] = row[3]
    return document


def run(url: sa.URL, args: argparse.Namespace) -> list[tuple[str, float, str]]:
    plain = url.render_as_string(hide_password=False)
    with psycopg.connect(plain.replace("postgresql+psycopg", "postgresql"), autocommit=True) as setup:
        setup.execute("CREATE TABLE users (id text PRIMARY KEY, email text NOT NULL)")
        setup.execute("INSERT INTO users SELECT 'u' || lpad(i::text, 7, '0'), 'x' FROM generate_series(1, %s) i",
                      (args.users,))  # fmt: skip
    config = Config(str(GENERATED / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", plain.replace("%", "%%"))
    config.attributes["without_models"] = True
    command.upgrade(config, "head")
    engine = sa.create_engine(url)
    profiles = Store(engine, "profile", source=GENERATED)
    customers = Store(engine, "customer", source=GENERATED)
    backfill(profiles)
    with engine.connect() as conn:
        ids = [str(i) for i in conn.exec_driver_sql("SELECT id FROM profiles ORDER BY user_id").scalars()]
    users = [f"u{i:07d}" for i in range(1, args.users + 1)]
    raw = psycopg.connect(plain.replace("postgresql+psycopg", "postgresql"), autocommit=True)
    ops, repeat = args.ops, args.repeat
    pick = [(i * 7919) % args.users for i in range(ops)]
    rows: list[tuple[str, float, str]] = []

    def hand_get_by(i: int) -> dict[str, Any]:
        row = raw.execute("SELECT user_id, timezone, currency, settings FROM profiles WHERE user_id = %s",
                          (users[pick[i]],)).fetchone()  # fmt: skip
        assert row is not None
        return profile_row(row)

    def store_get_by(i: int) -> Any:
        return profiles.get_by(userId=users[pick[i]])

    assert hand_get_by(0) == store_get_by(0)
    hand, ours = paired(hand_get_by, store_get_by, ops, repeat)
    rows += [("psycopg: SELECT … WHERE user_id = %s, dict built", hand, "1.00×"),
             ("Store.get_by(userId=…)", ours, f"{ours / hand:.2f}× (goal ≤ 1.5×)")]  # fmt: skip

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
    rows += [("psycopg: 20 documents by a range of user_id (unique index)", hand, "1.00×"),
             ("Store.find({'userId': {'gte': …, 'lt': …}})", ours, f"{ours / hand:.2f}× (goal ≤ 2×)")]  # fmt: skip

    def hand_patch(i: int) -> None:
        raw.execute("UPDATE profiles SET timezone = %s, updated_at = now() WHERE id = %s",
                    (ZONES[i % 4], ids[pick[i]]))  # fmt: skip

    def store_patch(i: int) -> Any:
        return profiles.patch(ids[pick[i]], {"timezone": ZONES[(i + 1) % 4]})

    hand, ours = paired(hand_patch, store_patch, ops, repeat)
    rows += [("psycopg: UPDATE profiles SET timezone = %s … WHERE id = %s", hand, "1.00×"),
             ("Store.patch(id, {'timezone': …}) (validated, returns the document)", ours,
              f"{ours / hand:.2f}× (goal ≤ 1.5×)")]  # fmt: skip

    documents = [customer(i) for i in range(ops)]
    created = [customers.create(documents[i]) for i in range(ops)]
    figures = asyncio.run(_async_figures(url, customers, documents, created, ops, repeat))
    (sync_create, async_create), (sync_get, async_get) = figures
    rows += [("Store.create(customer) (4 tables, one statement)", sync_create, "1.00×"),
             ("AsyncStore.create(customer)", async_create, f"{async_create / sync_create:.2f}× (goal ≤ 1.3×)"),
             ("Store.get(customer id) (4 tables)", sync_get, "1.00×"),
             ("AsyncStore.get(customer id)", async_get, f"{async_get / sync_get:.2f}× (goal ≤ 1.3×)")]  # fmt: skip
    raw.close()
    engine.dispose()
    return rows


async def _async_figures(
    url: sa.URL, customers: Store, documents: list[Any], created: list[Any], ops: int, repeat: int
) -> list[tuple[float, float]]:
    """(sync, async) median latencies of create and get, interleaved as in `paired` (the sync calls block the
    event loop, which has nothing else to do)."""
    engine = create_async_engine(url)
    async_customers = AsyncStore(engine, "customer", source=GENERATED)
    await async_customers.get(created[0])  # the revision check, once
    figures = []
    for sync_fn, async_fn in [
        (lambda i: customers.create(documents[i]), lambda i: async_customers.create(documents[i])),
        (lambda i: customers.get(created[i]), lambda i: async_customers.get(created[i])),
    ]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--ops", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=WARMUP)
    args = parser.parse_args()
    globals()["WARMUP"] = args.warmup
    load_before = os.getloadavg()
    admin = sa.create_engine(args.server, isolation_level="AUTOCOMMIT")
    name = f"schemarel_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        rows = run(sa.engine.make_url(args.server).set(database=name), args)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    load_after = os.getloadavg()
    print(f"load average (1, 5, 15 min): before {_load(load_before)}, after {_load(load_after)}; "
          f"{os.cpu_count()} CPUs; {args.ops} calls × {args.repeat} rounds, {args.warmup} warm-up calls")  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print(f"| {'method':<{width}} | median latency | ratio |")
    print(f"| {'-' * width} | --------------:| ----- |")
    for label, seconds, ratio in rows:
        print(f"| {label:<{width}} | {seconds * 1e3:11.3f} ms | {ratio} |")


def _load(figures: tuple[float, float, float]) -> str:
    return " ".join(f"{f:.2f}" for f in figures)


if __name__ == "__main__":
    main()
