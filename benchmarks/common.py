"""What the benchmark scripts share: a scratch database, the CustomerProfile tables and their COPY by hand,
timing (medians, interleaved pairs), whole processes (the CLI, peak RSS) and the table."""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "tests") not in sys.path:  # the tests' document helpers, the repository's generated package
    sys.path[:0] = [str(REPO), str(REPO / "tests")]

GENERATED = REPO / "generated"
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
WARMUP = 200  # untimed calls of each side before a paired measurement
Row = tuple[str, str, str]  # (method, figure, ratio)

from customer_rows import COLUMNS, customer_rows  # noqa: E402, F401 - the rows written by hand
from schemarel import Store  # noqa: E402

CUSTOMER_TABLES = ("customer_profiles", "customer_profile_addresses", "customer_profile_emails",
                   "customer_profile_phone_numbers")  # fmt: skip


@contextlib.contextmanager
def scratch_database(server: str) -> Iterator[sa.URL]:
    """A new PostgreSQL database on `server` for one benchmark, dropped at the end whatever happens."""
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"schemarel_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(server).set(database=name)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def conninfo(url: sa.URL) -> str:
    """`url` as psycopg itself takes it."""
    return url.render_as_string(hide_password=False).replace("postgresql+psycopg", "postgresql")


def migrated_database(url: sa.URL) -> sa.Engine:
    """An engine on the empty database at `url`, with a `users` table (the auth library's, which profiles
    reference) and the repository's generated migrations applied, as an application's database is."""
    with psycopg.connect(conninfo(url), autocommit=True) as setup:
        setup.execute("CREATE TABLE users (id text PRIMARY KEY)")
    config = Config(str(GENERATED / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%"))
    config.attributes["without_models"] = True
    command.upgrade(config, "head")
    return sa.create_engine(url)


def customer_database(url: sa.URL) -> tuple[sa.Engine, Store]:
    """`migrated_database(url)` and the Store of CustomerProfile documents on it."""
    engine = migrated_database(url)
    return engine, Store(engine, "customer", source=GENERATED)


def truncate(engine: sa.Engine, *tables: str) -> Callable[[], None]:
    """A reset emptying `tables` (CASCADE)."""

    def reset() -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} CASCADE")

    return reset


def copy_rows(dsn: str, documents: list[dict[str, Any]]) -> None:
    """psycopg COPY of the documents' rows, built by hand, in one transaction, no validation: the write limit."""
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        for columns, rows in zip(COLUMNS, customer_rows(documents), strict=True):
            with cur.copy(f"COPY {columns} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)


def noop() -> None:
    pass


def median_time(
    fn: Callable[[], Any], repeat: int, reset: Callable[[], None] = noop, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Median seconds of `repeat` runs of `fn` by `clock`, `reset` before each (untimed). `time.process_time`
    counts this process's CPU alone, which the load of a shared machine and the server's work hardly change."""
    times = []
    for _ in range(repeat):
        reset()
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def interleaved(
    sides: dict[str, Callable[[], Any]],
    repeat: int,
    reset: Callable[[], None] = noop,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Median seconds of each side over `repeat` rounds, each round running every side once in turn (`reset`
    before each run, untimed). Why rounds: a side timed in a block of its own meets the server in another state
    (a checkpoint, autovacuum, a warmer cache) than its baseline did, which moved a ratio by 0.1 between runs;
    interleaved, every side meets the same ones."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeat):
        for name, fn in sides.items():
            reset()
            start = clock()
            fn()
            times[name].append(clock() - start)
    return {name: statistics.median(runs) for name, runs in times.items()}


def latencies(fn: Callable[[int], Any], count: int) -> float:
    """Median seconds of `fn(i)` over `count` calls."""
    times = []
    for i in range(count):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def paired(
    base: Callable[[int], Any], ours: Callable[[int], Any], ops: int, repeat: int, reset: Callable[[], None] = noop
) -> tuple[float, float]:
    """Median seconds per call of each, the calls interleaved (base, ours, base, …) so that both meet the same
    load of a shared machine; each round (`reset` before it, untimed) times `ops` calls of each, and the median
    round is kept. `WARMUP` calls of each come first, untimed."""
    for i in range(WARMUP):
        base(i % ops)
        ours(i % ops)
    rounds: list[tuple[float, float]] = []
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


# whole processes run as an installed package runs: modules compiled once (this machine's
# PYTHONDONTWRITEBYTECODE aside), in a cache that the caller may point elsewhere (PYTHONPYCACHEPREFIX)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def cli(url: str, *args: str) -> list[str]:
    """A `schemarel` data command on the repository's generated package and the database at `url`."""
    return [sys.executable, "-m", "schemarel", *args, "--out", str(GENERATED), "--db", url]


def run_cli(command: list[str]) -> None:
    subprocess.run(command, check=True, cwd=REPO, stdout=subprocess.DEVNULL, env=ENV)


def peak_rss_kb(command: list[str]) -> int:
    """Peak resident memory of a command, in KiB (measured by a parent process of its own)."""
    probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL);"
             " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")  # fmt: skip
    found = subprocess.run([sys.executable, "-c", probe, *command], check=True, cwd=REPO, capture_output=True,
                           env=ENV)  # fmt: skip
    return int(found.stdout)


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def load_average() -> str:
    """The machine's load while the figures were taken (they are ratios in one run, but say it)."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} CPUs"


def print_table(rows: list[Row]) -> None:
    """A Markdown table: method, figure (right-aligned), ratio."""
    widths = [max(len(r[i]) for r in [("method", "figure", "ratio"), *rows]) for i in range(3)]
    print(f"| {'method':<{widths[0]}} | {'figure':>{widths[1]}} | {'ratio':<{widths[2]}} |")
    print(f"| {'-' * widths[0]} | {'-' * widths[1]}:| {'-' * widths[2]} |")
    for a, b, c in rows:
        print(f"| {a:<{widths[0]}} | {b:>{widths[1]}} | {c:<{widths[2]}} |")
