"""The read path on PostgreSQL against hand-written psycopg: export, `Store.items()`, `Store.get`; ratios in one run.

    python benchmarks/reads.py [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                               [--documents 20000] [--scale 10] [--ops 1000] [--repeat 5]

Creates a database of its own, loads `--documents` CustomerProfile documents (4 tables) by COPY, as a bulk
load leaves them (no statistics yet: the planner's worst case), and drops it at the end. Figures are medians
of `--repeat` runs; `Store.get` is the median latency of `--ops` calls interleaved with the hand-written
get's. `table_rows` is what `benchmarks/table.py` runs.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable
from typing import Any

import psycopg
import sqlalchemy as sa
from common import (
    CUSTOMER_TABLES,
    DEFAULT_SERVER,
    Row,
    conninfo,
    copy_rows,
    customer_database,
    interleaved,
    load_average,
    median_time,
    paired,
    print_table,
    scratch_database,
)
from runtime_helpers import customer  # noqa: E402 - the tests' CustomerProfile: an address, 2 emails, 2 phones
from schemarel.runtime.ndjson import export  # noqa: E402

ROOT_SQL = ("SELECT id, first_name, middle_name, last_name, marketing_emails_enabled, two_factor_enabled "
            "FROM customer_profiles")  # fmt: skip
ADDRESS_SQL = ("SELECT customer_profile_id, line1, line2, city, state, postal_code, country "
               "FROM customer_profile_addresses")  # fmt: skip
EMAIL_SQL = "SELECT customer_profile_id, email FROM customer_profile_emails"
PHONE_SQL = "SELECT customer_profile_id, type, number FROM customer_profile_phone_numbers"


def root_document(r: tuple[Any, ...]) -> dict[str, Any]:
    document: dict[str, Any] = {"firstName": r[1]}
    if r[2] is not None:
        document["middleName"] = r[2]
    document["lastName"] = r[3]
    document["privacySettings"] = {"marketingEmailsEnabled": r[4], "twoFactorEnabled": r[5]}
    return document


def address(r: tuple[Any, ...]) -> dict[str, Any]:
    a = {"line1": r[1]}
    if r[2] is not None:
        a["line2"] = r[2]
    a.update(city=r[3], state=r[4], postalCode=r[5], country=r[6])
    return a


def hand_read_all(raw: psycopg.Connection[Any]) -> dict[Any, dict[str, Any]]:
    """The hand-written read: 4 SELECTs in one transaction, reassembled into dicts by parent key."""
    with raw.transaction():
        documents = {r[0]: root_document(r) for r in raw.execute(ROOT_SQL)}
        for r in raw.execute(ADDRESS_SQL):
            documents[r[0]]["address"] = address(r)
        for d in documents.values():
            d["emails"], d["phoneNumbers"] = [], []
        for r in raw.execute(EMAIL_SQL + " ORDER BY id"):
            documents[r[0]]["emails"].append(r[1])
        for r in raw.execute(PHONE_SQL + " ORDER BY id"):
            documents[r[0]]["phoneNumbers"].append({"type": r[1], "number": r[2]})
    return documents


def hand_get(raw: psycopg.Connection[Any], key: Any) -> dict[str, Any]:
    """The hand-written get: 4 prepared queries in one transaction."""
    with raw.transaction():
        row = raw.execute(ROOT_SQL + " WHERE id = %s", (key,), prepare=True).fetchone()
        assert row is not None
        document = root_document(row)
        a = raw.execute(ADDRESS_SQL + " WHERE customer_profile_id = %s", (key,), prepare=True).fetchone()
        if a is not None:
            document["address"] = address(a)
        document["emails"] = [r[1] for r in raw.execute(EMAIL_SQL + " WHERE customer_profile_id = %s ORDER BY id",
                                                        (key,), prepare=True)]  # fmt: skip
        document["phoneNumbers"] = [{"type": r[1], "number": r[2]} for r in raw.execute(
            PHONE_SQL + " WHERE customer_profile_id = %s ORDER BY id", (key,), prepare=True)]  # fmt: skip
    return document


def load(engine: sa.Engine, count: int) -> None:
    """`count` documents by COPY into emptied tables; no ANALYZE: the state right after a bulk load."""
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {', '.join(CUSTOMER_TABLES)} CASCADE")
    for start in range(0, count, 50_000):
        copy_rows(conninfo(engine.url), [customer(i) for i in range(start, min(count, start + 50_000))])


def read_rows(
    url: sa.URL, documents: int, scale: int, ops: int, repeat: int, show: Callable[[Row], None] = lambda row: None
) -> list[Row]:
    """The read path's rows of the benchmark table, on the (empty) database at `url`; `show` sees each row as
    soon as it is measured. `scale` 0 leaves out the export of `scale` × `documents` (it takes minutes)."""
    engine, store = customer_database(url)
    raw = psycopg.connect(conninfo(url))
    load(engine, documents)
    n = documents

    def store_export() -> int:
        return export(store, io.StringIO())

    def items() -> int:
        return sum(1 for _ in store.items())

    assert len(hand_read_all(raw)) == store_export() == items() == n
    t = interleaved({"hand": lambda: hand_read_all(raw), "export": store_export, "items": items}, repeat)
    hand_s, export_s, items_s = t["hand"], t["export"], t["items"]
    rows = [
        (f"psycopg: 4 SELECTs + reassembly into dicts, {n:,} documents", f"{n / hand_s:,.0f} docs/s", "1.00×"),
        ("schemarel export (NDJSON, to memory)", f"{n / export_s:,.0f} docs/s",
         f"{hand_s / export_s:.2f}× (goal ≥ 0.8×)"),
        ("Store.items()", f"{n / items_s:,.0f} docs/s", f"{hand_s / items_s:.2f}× (goal ≥ 0.8×)"),
    ]  # fmt: skip

    for row in rows:
        show(row)
    keys = [r[0] for r in raw.execute("SELECT id FROM customer_profiles ORDER BY md5(id::text) LIMIT %s", (ops,))]
    raw.commit()
    assert hand_get(raw, keys[0]) == store.get(keys[0])
    hand, ours = paired(lambda i: hand_get(raw, keys[i]), lambda i: store.get(keys[i]), ops, repeat)
    rows += [
        ("psycopg: 4 prepared queries in one transaction (one document)", f"{hand * 1e3:.3f} ms", "1.00×"),
        ("Store.get(id)", f"{ours * 1e3:.3f} ms", f"{ours / hand:.2f}× the time (goal ≤ 1.5×)"),
    ]  # fmt: skip

    for row in rows[3:]:
        show(row)
    if scale:
        rows += export_scaling(engine, store_export, n, scale, repeat, show)
    raw.close()
    store.close()
    engine.dispose()
    return rows


def export_scaling(
    engine: sa.Engine, store_export: Callable[[], int], n: int, scale: int, repeat: int, show: Callable[[Row], None]
) -> list[Row]:
    """export of `scale` × `n` documents against `n`, each right after its bulk load (no statistics yet): both
    the median of the same number of exports, the first right after the load (it sets the rows' hint bits,
    which makes every block it reads dirty), so that neither size is measured warmer than the other."""
    big = n * scale
    runs = max(1, repeat // 2)
    load(engine, big)
    big_s = median_time(store_export, runs)  # no ANALYZE in between: the planner has no statistics
    load(engine, n)
    small_s = median_time(store_export, runs)
    rows = [
        (f"schemarel export of {n:,} documents right after a bulk load", f"{small_s:.2f} s", "1.00×"),
        (f"schemarel export of {big:,} documents right after a bulk load", f"{big_s:.2f} s",
         f"{big_s / small_s:.1f}× the time for {scale}× the documents (goal ≤ {scale * 1.1:.0f}×)"),
    ]  # fmt: skip
    for row in rows:
        show(row)
    return rows


def table_rows(url: sa.URL, args: argparse.Namespace) -> list[Row]:
    """The rows of `benchmarks/table.py`, on the empty database at `url` (the export scaling with `--scaling`)."""
    show = lambda row: print("  ", *row, sep=" | ", file=sys.stderr, flush=True)  # noqa: E731 - progress
    return read_rows(url, args.documents, args.scale if args.scaling else 0, args.ops, args.repeat, show)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--scale", type=int, default=10, help="0 leaves out the export of scale × documents.")
    parser.add_argument("--ops", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    before = load_average()
    with scratch_database(args.server) as url:
        rows = read_rows(
            url, args.documents, args.scale, args.ops, args.repeat, lambda r: print(*r, sep=" | ", flush=True)
        )
    print(f"{before} before, {load_average()} after")
    print_table(rows)


if __name__ == "__main__":
    main()
