"""`upgrade --sql` / `downgrade FROM:TO --sql`: the whole script for each dialect, and it builds the same database.

For the repository's history and the six-version evolution, on SQLite, PostgreSQL and MariaDB: `schemarel
upgrade --sql` and plain `alembic upgrade head --sql` print the same script; applied to an empty database
(as a DBA would, statement by statement), it gives the database an online upgrade gives, constraint names
included; the downgrade script takes it back to what an online downgrade leaves. Data checks are part
of the script: on PostgreSQL a refused downgrade stops with schemarel's message.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pymysql
import pytest
import sqlalchemy as sa
from conftest import REPO, USERS_DDL
from conftest import _fresh_database as fresh_database
from pathtools import DIALECTS, alembic, evolve, execute, ok, schemarel, shape


@pytest.fixture(scope="module")
def evolution(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return evolve(tmp_path_factory.mktemp("offline") / "project", 6)


@pytest.fixture
def committed(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(REPO / "generated", root / "generated", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def apply(url: str, script: str) -> None:
    """Run a script the way each dialect's client does: psql's protocol, mysql's DELIMITER, sqlite3's."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with sqlite3.connect(str(parsed.database)) as lite:
            lite.executescript(script)
    elif parsed.get_backend_name() == "postgresql":
        dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as pg:
            pg.execute(script)  # the simple query protocol runs a whole script
    else:
        conn = pymysql.connect(
            host=parsed.host, port=parsed.port or 3306, user=parsed.username, database=parsed.database
        )
        try:
            with conn.cursor() as cursor:
                for statement in _mysql_statements(script):
                    cursor.execute(statement)
            conn.commit()
        finally:
            conn.close()


def _mysql_statements(script: str) -> list[str]:
    """Statements as the mysql client splits them, `DELIMITER` lines included."""
    delimiter = ";"
    current: list[str] = []
    statements: list[str] = []
    for line in script.splitlines():
        if line.startswith("DELIMITER "):
            delimiter = line.split()[1]
            continue
        if line.startswith("--") and not current:
            continue
        current.append(line)
        if line.rstrip().endswith(delimiter):
            text = "\n".join(current).rstrip()[: -len(delimiter)].strip()
            if text:
                statements.append(text)
            current = []
    return statements


def _unordered(script: str) -> list[str]:
    return sorted(line.rstrip().rstrip(",") for line in script.splitlines())


@contextmanager
def other_database(dialect: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A second fresh database on the dialect's server (the fixtures give one per test)."""
    if dialect == "sqlite":
        yield f"sqlite:///{tmp_path / 'online.db'}"
        return
    server = request.getfixturevalue("postgres_server" if dialect == "postgresql" else "mysql_server")
    quote, drop = ('"', " WITH (FORCE)") if dialect == "postgresql" else ("`", "")
    with contextmanager(fresh_database)(server, quote, "", drop) as url:
        yield url


@pytest.mark.parametrize("dialect", list(DIALECTS))
@pytest.mark.parametrize("which", ["committed", "evolution"])
def test_the_script_builds_what_an_online_upgrade_builds(
    which: str, dialect: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    root = request.getfixturevalue(which)
    offline = str(request.getfixturevalue(DIALECTS[dialect]))
    # a script for MariaDB is asked for with a mariadb:// URL (its uuid type is not MySQL's)
    target = offline.replace("mysql+", "mariadb+")
    script = ok(schemarel(root, target, "upgrade", "--sql")).stdout
    by_alembic = ok(alembic(root, target, "upgrade", "head", "--sql")).stdout
    # Alembic's SQLite table rebuilds list a table's constraints in an order that varies between runs
    assert _unordered(by_alembic) == _unordered(script) if dialect == "sqlite" else by_alembic == script
    with other_database(dialect, request, tmp_path) as online:
        if which == "committed":
            execute(offline, USERS_DDL)
            execute(online, USERS_DDL)
            assert "revision 0002 needs table users" in script
        apply(offline, script)
        ok(schemarel(root, online, "upgrade", "head"))
        assert shape(offline) == shape(online)

        down = ok(schemarel(root, target, "downgrade", "head:0001", "--sql")).stdout
        apply(offline, down)
        ok(schemarel(root, online, "downgrade", "0001"))
        assert shape(offline) == shape(online)


def test_a_refused_downgrade_stops_the_postgresql_script(evolution: Path, postgres_url: str) -> None:
    url = postgres_url
    apply(url, ok(schemarel(evolution, url, "upgrade", "0002", "--sql")).stdout)
    execute(
        url,
        "INSERT INTO customer_profiles (first_name, last_name, marketing_emails_enabled, two_factor_enabled)"
        " VALUES ('Ada', 'L', false, false)",
        "INSERT INTO customer_profile_phone_numbers (customer_profile_id, type, number)"
        " SELECT id, 'fax', '+15550100' FROM customer_profiles",
    )
    script = ok(schemarel(evolution, url, "downgrade", "0002:0001", "--sql")).stdout
    with pytest.raises(psycopg.errors.RaiseException, match=r"revision 0002 \(downgrade\).*must not hold 'fax'"):
        apply(url, script)
    assert "nickname" in shape(url)["customer_profiles"]["columns"], "the script went on after the check"
