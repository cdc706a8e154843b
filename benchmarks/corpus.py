"""The corpus table: per schema of ../shared/corpus, tables, columns, share of example text stored as JSON, and
the round trip of each valid example on SQLite, PostgreSQL and MariaDB (exact / refused / differs).

    python benchmarks/corpus.py [--corpus ../shared/corpus] [--only NAME ...] [--dialects sqlite postgresql mysql]
                                [--postgres URL] [--mysql URL]

Creates a database of its own per server and schema (tables from the runtime's metadata) and drops it at the
end. The JSON share is `schemarel.runtime.jsonshare.json_share` (its docstring defines it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests")]

from corpus_measure import Figures, measure, table  # noqa: E402


@contextmanager
def fresh_database(server: str, quote: str, options: str = "", drop_options: str = "") -> Iterator[str]:
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    name = f"schemarel_corpus_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {quote}{name}{quote}{options}")
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quote}{name}{quote}{drop_options}")
        admin.dispose()


def run(schema: Path, dialects: list[str], args: argparse.Namespace) -> Figures:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        urls = {"sqlite": f"sqlite:///{work / 'corpus.db'}"}
        with (
            fresh_database(args.postgres, '"', drop_options=" WITH (FORCE)") as pg,
            fresh_database(args.mysql, "`", options=" CHARACTER SET utf8mb4") as my,
        ):
            urls |= {"postgresql": pg, "mysql": my}
            return measure(schema, {d: urls[d] for d in dialects}, work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--only", nargs="*", default=[], help="schema names (file stems without .schema.json)")
    parser.add_argument("--dialects", nargs="*", default=["sqlite", "postgresql", "mysql"])
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--mysql", default="mysql+pymysql://root@127.0.0.1:3306/")
    args = parser.parse_args()
    schemas = sorted(args.corpus.glob("*.schema.json"))
    if args.only:
        schemas = [s for s in schemas if s.name.removesuffix(".schema.json") in args.only]
    rows = []
    for schema in schemas:
        print(f"… {schema.name}", file=sys.stderr, flush=True)
        rows.append(run(schema, args.dialects, args))
    print(table(rows, args.dialects))
    for row in rows:
        for failure in row.failures():
            print(f"  {failure}")


if __name__ == "__main__":
    main()
