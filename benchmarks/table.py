"""Every figure of issues 13 and 14 in one run, each with its ratio to a baseline timed in the same run.

    python benchmarks/table.py [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                               [--documents 20000] [--users 200000] [--ops 1000] [--repeat 3]
                               [--datamodel-codegen PATH] [--only runtime,api,write,reads,generate]

Runs the sections of the scripts beside it, each in a database of its own (dropped at the end): `runtime.py`
(create_many, create, backfill), `write.py` and `reads.py` where present (load as a whole process, COPY,
export, items(), get and create against hand-written psycopg), `api.py` (get_by, find, patch, the async
store) and `generate.py` (generate on large_models against datamodel-codegen, check against `import
sqlalchemy`). The README's performance figures are this script's output, with the date and the load it prints.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
from collections.abc import Callable
from typing import Any

from common import DEFAULT_SERVER, Row, load_average, print_table, scratch_database

SECTIONS = ("runtime", "write", "reads", "api", "generate")


def section(name: str, args: argparse.Namespace) -> list[Row]:
    """The rows of one script, or one row saying why there are none."""
    try:
        module: Any = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        return [(f"({name}.py)", "skipped", f"not importable here: {exc}")]
    if name == "generate":
        codegen = module.find_codegen(args.codegen)
        return list(module.generate_rows(args.repeat, codegen) + module.check_rows(args.repeat))
    runner: Callable[..., list[Row]] | None = {
        "runtime": lambda url: module.run(url, args),
        "api": lambda url: module.run(url, args),
        "write": getattr(module, "table_rows", None),
        "reads": getattr(module, "table_rows", None),
    }[name]
    if runner is None:
        return [(f"({name}.py)", "skipped", "it has no table_rows(url, args) yet")]
    with scratch_database(args.server) as url:
        return list(runner(url) if name in ("runtime", "api") else runner(url, args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--ops", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--datamodel-codegen", dest="codegen", default=None)
    parser.add_argument("--only", default=",".join(SECTIONS), help="Comma-separated sections to run.")
    args = parser.parse_args()
    started = dt.datetime.now(dt.timezone.utc)
    before = load_average()
    rows: list[Row] = []
    for name in args.only.split(","):
        rows += section(name.strip(), args)
    print(f"{started:%Y-%m-%d %H:%M} UTC; {before} at the start, {load_average()} at the end")
    print_table(rows)


if __name__ == "__main__":
    main()
