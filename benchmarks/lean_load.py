"""The leanest validated load a Python process can make of CustomerProfile NDJSON: a reference for `schemarel load`.

    python benchmarks/lean_load.py FILE CONNINFO

What `write.py` times as a whole process beside `schemarel load`, to show how much of the gap to COPY any Python
load must pay and how much is schemarel's: it imports only psycopg, orjson and jsonschema-rs (about 0.15 s of
start-up against `schemarel load`'s 0.35 s with SQLAlchemy), reads numbers as floats (no exact decimals), does
not look for keys given twice, validates with jsonschema-rs against the generated schema copy, builds the rows
by hand (`common.customer_rows`, keys by `uuid_utils`) and writes batches of 1,000 by COPY on two connections,
each committed after the one before it (as `runtime/paired.py` does). Invalid lines are skipped, not reported,
and nothing is retried: none of what `schemarel load` promises beyond the rows themselves.
"""

from __future__ import annotations

import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
import psycopg
from uuid_utils.compat import uuid7

SCHEMA = Path(__file__).resolve().parent.parent / "generated" / "schemas" / "customer.schema.json"
COLUMNS = [  # as `common.COLUMNS` (not imported from there: it imports SQLAlchemy, which is what this leaves out)
    "customer_profiles (id, first_name, middle_name, last_name, marketing_emails_enabled, two_factor_enabled)",
    "customer_profile_addresses (customer_profile_id, line1, line2, city, state, postal_code, country)",
    "customer_profile_emails (customer_profile_id, email)",
    "customer_profile_phone_numbers (customer_profile_id, type, number)",
]
BATCH = 1000


def rows_of(documents: list[dict[str, Any]]) -> list[list[tuple[Any, ...]]]:
    """The rows of each table of `COLUMNS`, as `common.customer_rows` builds them."""
    roots: list[tuple[Any, ...]] = []
    addresses: list[tuple[Any, ...]] = []
    emails: list[tuple[Any, ...]] = []
    phones: list[tuple[Any, ...]] = []
    for d in documents:
        key = uuid7()
        p = d["privacySettings"]
        roots.append((key, d["firstName"], d.get("middleName"), d["lastName"], p["marketingEmailsEnabled"],
                      p["twoFactorEnabled"]))  # fmt: skip
        if "address" in d:
            a = d["address"]
            addresses.append((key, a["line1"], a.get("line2"), a["city"], a["state"], a["postalCode"], a["country"]))
        emails += [(key, e) for e in d["emails"]]
        phones += [(key, n["type"], n["number"]) for n in d["phoneNumbers"]]
    return [roots, addresses, emails, phones]


def write(conn: psycopg.Connection[Any], documents: list[dict[str, Any]], before: Future[None] | None) -> None:
    """One batch in a transaction of its own, committed once the batch before it is."""
    with conn.cursor() as cursor:
        for columns, rows in zip(COLUMNS, rows_of(documents), strict=True):
            with cursor.copy(f"COPY {columns} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    if before is not None:
        before.result()
    conn.commit()


def main() -> None:
    path, conninfo = sys.argv[1:]
    validator = jsonschema_rs.validator_for(orjson.loads(SCHEMA.read_bytes()))
    connections = [psycopg.connect(conninfo), psycopg.connect(conninfo)]
    written: list[Future[None]] = []
    with ThreadPoolExecutor(2) as pool, open(path, "rb") as lines:

        def flush(batch: list[dict[str, Any]]) -> None:
            if len(written) >= 2:
                written[-2].result()  # its connection is free again
            before = written[-1] if written else None
            written.append(pool.submit(write, connections[len(written) % 2], batch, before))

        batch: list[dict[str, Any]] = []
        for line in lines:
            document = orjson.loads(line)
            if validator.is_valid(document):
                batch.append(document)
            if len(batch) == BATCH:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
        for future in written:
            future.result()
    for conn in connections:
        conn.close()


if __name__ == "__main__":
    main()
