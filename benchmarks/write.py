"""The write path against its hand-written limits on PostgreSQL, as ratios measured in one run.

    python benchmarks/write.py [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                               [--documents 20000] [--users 200000] [--ops 1000] [--repeat 5] [--memory]

| ours | its limit (importable from here) |
| --- | --- |
| `Store.create_many` | `copy_rows`: psycopg COPY of the same rows, built by hand, no validation |
| `schemarel load` (the whole process, validated) | the same `copy_rows` |
| `Store.create` of one document | `cte_insert`: one prepared `WITH … INSERT` statement of the same rows |
| `schemarel backfill` (the whole process) | `insert_missing`: one `INSERT … SELECT … WHERE NOT EXISTS` |
| `--memory`: `schemarel load` peak RSS, N and 10×N documents | — |

Creates a database of its own and drops it at the end. Each figure is the median of `--repeat` runs (single
creates: the median latency of `--ops` calls, interleaved with the limit's so that both meet the same load).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests")]

from runtime_helpers import customer  # noqa: E402 - the tests' CustomerProfile: an address, 2 emails, 2 phones
from schemarel.runtime.store import Store  # noqa: E402

CUSTOMER_TABLES = ("customer_profiles", "customer_profile_addresses", "customer_profile_emails",
                   "customer_profile_phone_numbers")  # fmt: skip
Row = tuple[str, str, str]


# -- the limits ---------------------------------------------------------------------------------------
def customer_rows(documents: list[dict[str, Any]]) -> list[list[tuple[Any, ...]]]:
    """The rows of CustomerProfile documents, built by hand (client uuids), per table."""
    roots: list[tuple[Any, ...]] = []
    addresses: list[tuple[Any, ...]] = []
    emails: list[tuple[Any, ...]] = []
    phones: list[tuple[Any, ...]] = []
    for d in documents:
        key = uuid.uuid4()
        p = d["privacySettings"]
        roots.append((key, d["firstName"], d.get("middleName"), d["lastName"], p["marketingEmailsEnabled"],
                      p["twoFactorEnabled"]))  # fmt: skip
        if "address" in d:
            a = d["address"]
            addresses.append((key, a["line1"], a.get("line2"), a["city"], a["state"], a["postalCode"], a["country"]))
        emails += [(key, e) for e in d["emails"]]
        phones += [(key, n["type"], n["number"]) for n in d["phoneNumbers"]]
    return [roots, addresses, emails, phones]


COLUMNS = [
    "customer_profiles (id, first_name, middle_name, last_name, marketing_emails_enabled, two_factor_enabled)",
    "customer_profile_addresses (customer_profile_id, line1, line2, city, state, postal_code, country)",
    "customer_profile_emails (customer_profile_id, email)",
    "customer_profile_phone_numbers (customer_profile_id, type, number)",
]


def copy_rows(conninfo: str, documents: list[dict[str, Any]]) -> None:
    """psycopg COPY of the documents' rows, built by hand, in one transaction, no validation."""
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        for columns, rows in zip(COLUMNS, customer_rows(documents), strict=True):
            with cur.copy(f"COPY {columns} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)


def cte_insert(conn: psycopg.Connection[Any]) -> Callable[[dict[str, Any]], None]:
    """One document as one prepared `WITH … INSERT` statement (autocommit `conn`): an address, 2 emails, 2
    phone numbers, as `runtime_helpers.customer` makes them."""
    sql = (
        f"WITH r AS (INSERT INTO {COLUMNS[0]} VALUES (%s, %s, %s, %s, %s, %s)), "
        f"a AS (INSERT INTO {COLUMNS[1]} VALUES (%s, %s, %s, %s, %s, %s, %s)), "
        f"e AS (INSERT INTO {COLUMNS[2]} VALUES (%s, %s), (%s, %s)) "
        f"INSERT INTO {COLUMNS[3]} VALUES (%s, %s, %s), (%s, %s, %s)"
    )

    def create(document: dict[str, Any]) -> None:
        values = [v for rows in customer_rows([document]) for row in rows for v in row]
        conn.execute(sql, values, prepare=True)

    return create


def insert_missing(conninfo: str) -> int:
    """The backfill as one statement: a default profile for every user without one."""
    with psycopg.connect(conninfo) as conn:
        return conn.execute(
            "INSERT INTO profiles (user_id, timezone, currency) SELECT u.id, 'UTC', 'USD' FROM users u "
            "WHERE NOT EXISTS (SELECT 1 FROM profiles p WHERE p.user_id = u.id)"
        ).rowcount


# -- measuring ----------------------------------------------------------------------------------------
def median_time(
    fn: Callable[[], Any], repeat: int, reset: Callable[[], None], clock: Callable[[], float] = time.perf_counter
) -> float:
    """Median seconds of `repeat` runs by `clock` (`time.process_time`: this process's CPU alone, which the
    load of a shared machine and the server's work hardly change)."""
    times = []
    for _ in range(repeat):
        reset()
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def paired(base: Callable[[int], Any], ours: Callable[[int], Any], ops: int, reset: Callable[[], None],
           repeat: int) -> tuple[float, float]:  # fmt: skip
    """Median seconds per call of each, the calls interleaved; the median round of `repeat`."""
    rounds = []
    for _ in range(repeat):
        reset()
        times: tuple[list[float], list[float]] = ([], [])
        for i in range(ops):
            for side, fn in enumerate((base, ours)):
                start = time.perf_counter()
                fn(i)
                times[side].append(time.perf_counter() - start)
        rounds.append((statistics.median(times[0]), statistics.median(times[1])))
    return statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds)


def cli(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "schemarel", *args, "--schemas", str(REPO / "schemas"), "--db", url]


# as an installed package runs: its modules compiled once (this machine's PYTHONDONTWRITEBYTECODE aside), in
# a cache of the benchmark's own
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_cli(command: list[str]) -> None:
    subprocess.run(command, check=True, cwd=REPO, stdout=subprocess.DEVNULL, env=ENV)


def peak_rss_kb(command: list[str]) -> int:
    """Peak resident memory of a command, in KiB (measured by a parent process of its own)."""
    probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL);"
             " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")  # fmt: skip
    found = subprocess.run([sys.executable, "-c", probe, *command], check=True, cwd=REPO, capture_output=True,
                           env=ENV)  # fmt: skip
    return int(found.stdout)


def write_ndjson(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            out.write(json.dumps(customer(i)) + "\n")


# -- the table ----------------------------------------------------------------------------------------
def run(url: sa.URL, args: argparse.Namespace, scratch: Path) -> list[Row]:
    plain = url.render_as_string(hide_password=False)
    conninfo = plain.replace("postgresql+psycopg", "postgresql")
    engine = sa.create_engine(url)
    customers = Store(engine, "customer", schemas_dir=REPO / "schemas")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE users (id text PRIMARY KEY)")
        owned = [t for n, t in customers.metadata.tables.items() if n != "users"]
        customers.metadata.create_all(conn, tables=owned)

    def truncate(*tables: str) -> Callable[[], None]:
        def reset() -> None:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} CASCADE")

        return reset

    reset = truncate(*CUSTOMER_TABLES)
    n, repeat = args.documents, args.repeat
    documents = [customer(i) for i in range(n)]
    ndjson = scratch / "customers.ndjson"
    write_ndjson(ndjson, n)
    rows: list[Row] = []

    copy_s = median_time(lambda: copy_rows(conninfo, documents), repeat, reset)
    many_s = median_time(lambda: customers.create_many(documents, batch_size=1000), repeat, reset)
    copy_cpu = median_time(lambda: copy_rows(conninfo, documents), repeat, reset, time.process_time)
    many_cpu = median_time(lambda: customers.create_many(documents, batch_size=1000), repeat, reset, time.process_time)
    rows += [
        ("client CPU of the psycopg COPY below", f"{copy_cpu:.2f} s", "1.00×"),
        ("client CPU of Store.create_many below", f"{many_cpu:.2f} s", f"{many_cpu / copy_cpu:.2f}× the time"),
    ]
    load = cli(plain, "load", str(ndjson), "--schema", "customer", "--rejects", str(scratch / "rejects.ndjson"))
    ENV["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    run_cli(load)  # compiles the modules, as installing the package does
    load_s = median_time(lambda: run_cli(load), repeat, reset)
    rows += [
        (f"psycopg COPY, {n:,} documents (rows built by hand, no validation)", f"{n / copy_s:,.0f} docs/s", "1.00×"),
        ("Store.create_many, batches of 1,000 (validated)", f"{n / many_s:,.0f} docs/s",
         f"{copy_s / many_s:.2f}× COPY (goal ≥ 0.9×)"),
        ("schemarel load, the whole process (validated)", f"{n / load_s:,.0f} docs/s",
         f"{copy_s / load_s:.2f}× COPY (goal ≥ 0.85×)"),
    ]  # fmt: skip

    with psycopg.connect(conninfo, autocommit=True) as raw:
        hand = cte_insert(raw)
        base, ours = paired(lambda i: hand(documents[i]), lambda i: customers.create(documents[i]), args.ops, reset,
                            repeat)  # fmt: skip
    rows += [
        ("one prepared WITH … INSERT statement (median latency)", f"{base * 1e3:.3f} ms", "1.00×"),
        ("one Store.create (validated)", f"{ours * 1e3:.3f} ms", f"{ours / base:.2f}× the time (goal ≤ 1.15×)"),
    ]

    users = args.users
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"INSERT INTO users SELECT 'user' || lpad(g::text, 9, '0') FROM generate_series(1, {users}) g"
        )
        conn.exec_driver_sql("ANALYZE users")
    # an emptied table without statistics: the statement's anti-join is then a hash join (right after a
    # migration, fresh statistics of the empty table make it a quadratic nested loop: see runtime/backfill.py)
    reset_profiles = truncate("profiles")
    one_s = median_time(lambda: insert_missing(conninfo), repeat, reset_profiles)
    fill_s = median_time(lambda: run_cli(cli(plain, "backfill", "--schema", "profile")), repeat, reset_profiles)
    rows += [
        (f"INSERT … SELECT … WHERE NOT EXISTS, {users:,} users", f"{users / one_s:,.0f} users/s", "1.00×"),
        ("schemarel backfill, the whole process", f"{users / fill_s:,.0f} users/s",
         f"{one_s / fill_s:.2f}× the statement (goal ≥ 0.9×)"),
    ]  # fmt: skip

    if args.memory:
        for count in (n, 10 * n):
            write_ndjson(ndjson, count)
            reset()
            kib = peak_rss_kb(cli(plain, "load", str(ndjson), "--schema", "customer"))
            rows.append((f"schemarel load {count:,} documents: peak RSS", f"{kib / 1024:,.0f} MiB", ""))
    customers.close()
    engine.dispose()
    return rows


def print_table(rows: list[Row]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    print(f"| {'method':<{widths[0]}} | {'figure':>{widths[1]}} | {'ratio':<{widths[2]}} |")
    print(f"| {'-' * widths[0]} | {'-' * widths[1]}:| {'-' * widths[2]} |")
    for a, b, c in rows:
        print(f"| {a:<{widths[0]}} | {b:>{widths[1]}} | {c:<{widths[2]}} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--ops", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--memory", action="store_true", help="Also the peak RSS of load, N and 10×N documents.")
    args = parser.parse_args()
    admin = sa.create_engine(args.server, isolation_level="AUTOCOMMIT")
    name = f"schemarel_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as scratch:
            rows = run(sa.engine.make_url(args.server).set(database=name), args, Path(scratch))
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"load: {os.getloadavg()[0]:.2f} (1 min average)")
    print_table(rows)


if __name__ == "__main__":
    main()
