"""The leanest validated load a Python process can make of CustomerProfile NDJSON: a reference for `schemarel load`.

    python benchmarks/lean_load.py FILE CONNINFO

What `write.py` times as a whole process beside `schemarel load`, to show how much of the gap to COPY any Python
load must pay and how much is schemarel's: it imports only psycopg, orjson and jsonschema-rs (less start-up than
`schemarel load`, which also reads the model from generated/ and checks the revision), reads numbers as floats
(no exact decimals), does not look for keys given twice, validates with jsonschema-rs against the generated
schema copy, builds the rows by hand (`customer_rows.py`, as the COPY limit does) and writes batches of 1,000 by
COPY on two connections, each committed after the one before it (as `runtime/paired.py` does). Invalid lines are
skipped, not reported, and nothing is retried: none of what `schemarel load` promises beyond the rows themselves.
"""

from __future__ import annotations

import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
import psycopg
from customer_rows import COLUMNS, customer_rows

SCHEMA = Path(__file__).resolve().parent.parent / "generated" / "schemas" / "customer.schema.json"
BATCH = 1000


def write(conn: psycopg.Connection[Any], documents: list[dict[str, Any]], before: Future[None] | None) -> None:
    """One batch in a transaction of its own, committed once the batch before it is."""
    with conn.cursor() as cursor:
        for columns, rows in zip(COLUMNS, customer_rows(documents), strict=True):
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
