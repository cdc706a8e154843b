"""Migrations as users run them (the CLI and plain Alembic, as subprocesses), and a database's shape to compare."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from conftest import run_schemarel

# every server of the test run, by the fixture that gives a fresh database on it
DIALECTS = {"sqlite": "sqlite_url", "postgresql": "postgres_url", "mysql": "mysql_url"}


def schemarel(root: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`schemarel ARGS --db URL` in `root`."""
    return run_schemarel(root, *args, "--db", url)


def alembic(root: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`alembic -c generated/alembic.ini -x db=URL ARGS` in `root`: Alembic's own command line."""
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-c", "generated/alembic.ini", "-x", f"db={url}", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=300,
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result


def _normal(text: Any) -> str:
    return " ".join(str(text).replace('"', "").replace("`", "").split()).lower()


def shape(url: str) -> dict[str, Any]:
    """Everything a migration decides about a database, in a form two databases can be compared in: per
    table its columns (type, nullability, default, comment), keys, constraints and indexes by name (CHECK
    texts included), and PostgreSQL's enum types with their labels; the order SQLite keeps them in aside."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        for table in sorted(inspector.get_table_names()):
            columns = {
                c["name"]: (_normal(c["type"]), c["nullable"], _normal(c.get("default")), c.get("comment"))
                for c in inspector.get_columns(table)
            }
            pk = inspector.get_pk_constraint(table)
            out[table] = {
                "columns": columns,
                "pk": (pk.get("name"), tuple(pk["constrained_columns"])),
                "fks": sorted(
                    (fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
                    for fk in inspector.get_foreign_keys(table)
                ),
                "uniques": sorted(
                    (u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)
                ),
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(table)
                ),
                "checks": sorted((c["name"], _normal(c["sqltext"])) for c in inspector.get_check_constraints(table)),
            }
        if conn.dialect.name == "postgresql":
            rows = conn.execute(
                sa.text(
                    "SELECT t.typname, e.enumlabel FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid "
                    "ORDER BY t.typname, e.enumsortorder"
                )
            )
            enums: dict[str, list[str]] = {}
            for name, label in rows:
                enums.setdefault(name, []).append(label)
            out["<enum types>"] = enums
    engine.dispose()
    return out


def rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: the data a failed migration must leave as it was."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        md = sa.MetaData()
        md.reflect(conn)
        data = {name: sorted(map(tuple, conn.execute(sa.select(t))), key=repr) for name, t in md.tables.items()}
    engine.dispose()
    return data


EVOLUTION = Path(__file__).parent / "evolution"


def evolve(root: Path, upto: int) -> Path:
    """A project generated through tests/evolution's versions 1..`upto` (a revision each); returns `root`."""
    from projects import generate

    schemas = root / "schemas"
    schemas.mkdir(parents=True, exist_ok=True)
    for version in range(1, upto + 1):
        shutil.copy(EVOLUTION / f"v{version}.customer.schema.json", schemas / "customer.schema.json")
        if version >= 2:
            shutil.copy(EVOLUTION / "order.schema.json", schemas / "order.schema.json")
        result = generate(root, *(["--allow-destructive"] if version == 6 else []))
        assert result.exit_code == 0, result.output
    return root


def execute(url: str, *statements: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    engine.dispose()


def scalar(url: str, query: str) -> Any:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        value = conn.exec_driver_sql(query).scalar()
    engine.dispose()
    return value
