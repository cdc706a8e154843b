"""Every figure of issues 13 and 14 in one run, each with its ratio to a baseline timed in the same run.

    python benchmarks/table.py [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                               [--documents 20000] [--users 200000] [--ops 1000] [--repeat 3]
                               [--scaling [--scale 10]] [--memory] [--datamodel-codegen PATH]
                               [--only write,reads,api,generate,runtime]

Runs `table_rows` of the scripts beside it, each database section in a database of its own (dropped at the
end): `write.py` (`schemarel load` as a whole process and `Store.create_many` against psycopg COPY,
`Store.create` against one prepared CTE statement, `schemarel backfill` against one `INSERT … SELECT … WHERE
NOT EXISTS`), `reads.py` (export and `items()` against 4 SELECTs + reassembly, `Store.get` against 4 prepared
queries; with `--scaling`, export of `--scale` × `--documents` right after a bulk load, which takes minutes),
`api.py` (get_by, find, patch against hand-written psycopg, the async store's create/get against the sync
one) and `generate.py` (`generate` on large_models against datamodel-codegen, found by `--datamodel-codegen`,
`$DATAMODEL_CODEGEN` or PATH; `check` against `import sqlalchemy`). `runtime.py` (the ORM and the seed's loops,
slow) only with `--only runtime`. The README's performance figures are this script's output.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import sys
import time
from typing import Any

from common import DEFAULT_SERVER, Row, load_average, print_table, scratch_database

SECTIONS = ("write", "reads", "api", "generate")


def section(name: str, args: argparse.Namespace) -> list[Row]:
    """The rows of one script (`table_rows(url, args)` on a scratch database; `generate`: `table_rows(args)`)."""
    module: Any = importlib.import_module(name)
    if name == "generate":
        return list(module.table_rows(args))
    with scratch_database(args.server) as url:
        return list(module.table_rows(url, args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=200_000, help="Users to backfill (and to look up in api.py).")
    parser.add_argument("--ops", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scaling", action="store_true", help="Also export of --scale × --documents (minutes).")
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--memory", action="store_true", help="Also the peak RSS of load, N and 10×N documents.")
    parser.add_argument("--datamodel-codegen", dest="codegen", default=None)
    parser.add_argument("--only", default=",".join(SECTIONS), help="Comma-separated sections to run.")
    args = parser.parse_args()
    started = dt.datetime.now(dt.timezone.utc)
    before = load_average()
    rows: list[Row] = []
    for name in args.only.split(","):
        clock = time.perf_counter()
        print(f"… {name.strip()}", file=sys.stderr, flush=True)
        rows += section(name.strip(), args)
        print(f"  {name.strip()}: {time.perf_counter() - clock:.0f} s", file=sys.stderr, flush=True)
    print(f"{started:%Y-%m-%d %H:%M} UTC; {before} at the start, {load_average()} at the end")
    print_table(rows)


if __name__ == "__main__":
    main()
