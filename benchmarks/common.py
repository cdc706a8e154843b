"""What the benchmark scripts share: a scratch database, timing (medians, interleaved pairs) and the table."""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "tests") not in sys.path:  # the tests' document helpers, the repository's generated package
    sys.path[:0] = [str(REPO), str(REPO / "tests")]

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
WARMUP = 200  # untimed calls of each side before a paired measurement
Row = tuple[str, str, str]  # (method, figure, ratio)


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


def noop() -> None:
    pass


def median_time(fn: Callable[[], Any], repeat: int, reset: Callable[[], None] = noop) -> float:
    """Median seconds of `repeat` runs of `fn`, `reset` before each (untimed)."""
    times = []
    for _ in range(repeat):
        reset()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def latencies(fn: Callable[[int], Any], count: int) -> float:
    """Median seconds of `fn(i)` over `count` calls."""
    times = []
    for i in range(count):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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
