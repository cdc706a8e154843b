"""The write path against its hand-written limits on PostgreSQL, as ratios measured in one run.

    python benchmarks/write.py [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                               [--documents 20000] [--users 200000] [--ops 1000] [--repeat 5] [--memory]

| ours | its limit (importable from here) |
| --- | --- |
| `Store.create_many` | `copy_rows`: psycopg COPY of the same rows, built by hand, no validation |
| `schemarel load` (the whole process, validated) | the same `copy_rows` |
| … its start-up (an empty file); in this process, its COPY load and the Store's way | the same `copy_rows` |
| `lean_load.py` (a lean whole-process load: the floor any Python load stands on) | the same `copy_rows` |
| `Store.create` of one document | `cte_insert`: one prepared `WITH … INSERT` statement of the same rows |
| `schemarel backfill` (the whole process) | `insert_missing`: one `INSERT … SELECT … WHERE NOT EXISTS` |
| `--memory`: `schemarel load` peak RSS, N and 10×N documents | — |

Creates a database of its own and drops it at the end. Each figure is the median of `--repeat` rounds, each
round running every side once in turn, its limit too (`common.interleaved`), so that all meet the same state of
the server and the machine (single creates: the median latency of `--ops` calls, interleaved with the limit's).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from common import (
    COLUMNS,
    CUSTOMER_TABLES,
    DEFAULT_SERVER,
    ENV,
    GENERATED,
    Row,
    cli,
    conninfo,
    copy_rows,
    customer_database,
    customer_rows,
    interleaved,
    load_average,
    paired,
    peak_rss_kb,
    print_table,
    run_cli,
    scratch_database,
    truncate,
)
from runtime_helpers import customer  # noqa: E402 - the tests' CustomerProfile: an address, 2 emails, 2 phones
from schemarel import Store
from schemarel.runtime.copyload import copy_loader
from schemarel.runtime.ndjson import Loader


# -- the limits (and `common.copy_rows`) ----------------------------------------------------------------
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


def insert_missing(dsn: str) -> int:
    """The backfill as one statement: a default profile for every user without one."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "INSERT INTO profiles (user_id, timezone, currency) SELECT u.id, 'UTC', 'USD' FROM users u "
            "WHERE NOT EXISTS (SELECT 1 FROM profiles p WHERE p.user_id = u.id)"
        ).rowcount


def load_in_process(store: Store, path: Path) -> None:
    """The Store's way of `schemarel load` without its start-up: the NDJSON file through `Loader.run` (rejects
    dropped), as a load goes where COPY without SQLAlchemy cannot (runtime/copyload.py)."""
    with path.open("rb") as lines:
        Loader(store, lambda reject: None).run(lines)


def copy_load_in_process(url: str, path: Path) -> None:
    """`schemarel load`'s work on PostgreSQL without its start-up: the NDJSON file through `CopyLoader.run`."""
    loader = copy_loader(url, GENERATED, "customer", lambda reject: None)
    assert loader is not None, "the load goes by COPY"
    with loader, path.open("rb") as lines:
        assert loader.run(lines) is None


def write_ndjson(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            out.write(json.dumps(customer(i)) + "\n")


# -- the table ----------------------------------------------------------------------------------------
def run(url: sa.URL, args: argparse.Namespace, scratch: Path) -> list[Row]:
    plain = url.render_as_string(hide_password=False)
    dsn = conninfo(url)
    engine, customers = customer_database(url)
    reset = truncate(engine, *CUSTOMER_TABLES)
    n, repeat = args.documents, args.repeat
    documents = [customer(i) for i in range(n)]
    ndjson = scratch / "customers.ndjson"
    write_ndjson(ndjson, n)
    rows: list[Row] = []

    copy = lambda: copy_rows(dsn, documents)  # noqa: E731
    many = lambda: customers.create_many(documents, batch_size=1000)  # noqa: E731
    cpu = interleaved({"copy": copy, "many": many}, repeat, reset, time.process_time)
    copy_cpu, many_cpu = cpu["copy"], cpu["many"]
    rows += [
        ("client CPU of the psycopg COPY below", f"{copy_cpu:.2f} s", "1.00×"),
        ("client CPU of Store.create_many below", f"{many_cpu:.2f} s", f"{many_cpu / copy_cpu:.2f}× the time"),
    ]
    load = cli(plain, "load", str(ndjson), "--schema", "customer", "--rejects", str(scratch / "rejects.ndjson"))
    ENV["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    run_cli(load)  # compiles the modules, as installing the package does
    # where the whole process's time goes: its start-up, its load in this process, and a lean load (lean_load.py)
    empty = scratch / "empty.ndjson"
    empty.touch()
    lean = [sys.executable, str(Path(__file__).with_name("lean_load.py")), str(ndjson), dsn]
    sides = {
        "copy": copy,
        "many": many,
        "load": lambda: run_cli(load),
        "start": lambda: run_cli(cli(plain, "load", str(empty), "--schema", "customer")),
        "by copy": lambda: copy_load_in_process(plain, ndjson),
        "in process": lambda: load_in_process(customers, ndjson),
        "lean": lambda: run_cli(lean),
    }
    t = interleaved(sides, repeat, reset)
    copy_s, many_s, load_s, start_s = t["copy"], t["many"], t["load"], t["start"]
    by_copy_s, in_process_s, lean_s = t["by copy"], t["in process"], t["lean"]
    rows += [
        (f"psycopg COPY, {n:,} documents (rows built by hand, no validation)", f"{n / copy_s:,.0f} docs/s", "1.00×"),
        ("Store.create_many, batches of 1,000 (validated)", f"{n / many_s:,.0f} docs/s",
         f"{copy_s / many_s:.2f}× COPY (goal ≥ 0.9×)"),
        ("schemarel load, the whole process (validated)", f"{n / load_s:,.0f} docs/s",
         f"{copy_s / load_s:.2f}× COPY (goal ≥ 0.85×)"),
        ("… its start-up: load of an empty file (imports, model, revision check)", f"{start_s:.2f} s",
         f"{start_s / copy_s:.2f}× COPY's time"),
        ("… its load by COPY in this process (CopyLoader.run, no start-up)", f"{n / by_copy_s:,.0f} docs/s",
         f"{copy_s / by_copy_s:.2f}× COPY"),
        ("… the Store's way in this process (Loader.run, no start-up)", f"{n / in_process_s:,.0f} docs/s",
         f"{copy_s / in_process_s:.2f}× COPY"),
        ("lean_load.py, the whole process (floats, no key-twice check, no rejects)", f"{n / lean_s:,.0f} docs/s",
         f"{copy_s / lean_s:.2f}× COPY"),
    ]  # fmt: skip

    with psycopg.connect(dsn, autocommit=True) as raw:
        hand = cte_insert(raw)
        base, ours = paired(lambda i: hand(documents[i]), lambda i: customers.create(documents[i]), args.ops, repeat,
                            reset)  # fmt: skip
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
    reset_profiles = truncate(engine, "profiles")
    fill = {"one": lambda: insert_missing(dsn), "fill": lambda: run_cli(cli(plain, "backfill", "--schema", "profile"))}
    t = interleaved(fill, repeat, reset_profiles)
    one_s, fill_s = t["one"], t["fill"]
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
    ENV.pop("PYTHONPYCACHEPREFIX")
    customers.close()
    engine.dispose()
    return rows


def table_rows(url: sa.URL, args: argparse.Namespace) -> list[Row]:
    """The rows of `benchmarks/table.py`, on the empty database at `url` (NDJSON files in a scratch directory)."""
    with tempfile.TemporaryDirectory() as scratch:
        return run(url, args, Path(scratch))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--ops", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--memory", action="store_true", help="Also the peak RSS of load, N and 10×N documents.")
    args = parser.parse_args()
    before = load_average()
    with scratch_database(args.server) as url:
        rows = table_rows(url, args)
    print(f"{before} before, {load_average()} after")
    print_table(rows)


if __name__ == "__main__":
    main()
