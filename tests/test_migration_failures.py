"""A migration that fails, or would lose data, as users meet it: through `schemarel` and `alembic` subprocesses.

SQLite and PostgreSQL run a whole upgrade in one transaction: a failure leaves schema and data as they
were (no `_alembic_tmp_*` table on SQLite). MariaDB commits each DDL statement: the error names the
revision, the line, the statement and what stayed applied, and the same command resumes after the cause
is fixed. Downgrades that the older schema cannot hold the data for are refused before anything changes.
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import REPO, USERS_DDL
from conftest import _fresh_database as fresh_database
from dbtools import load_models, schema_diff
from pathtools import DIALECTS, alembic, evolve, execute, ok, rows, scalar, schemarel, shape

PROFILE = (
    "INSERT INTO customer_profiles (id, first_name, last_name, marketing_emails_enabled, two_factor_enabled)"
    " VALUES ('{id}', '{first}', 'Lovelace', {f}, {f})"
)
ADA = "00000000000000000000000000000001"


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(REPO / "generated", root / "generated", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _false(url: str) -> str:
    return "false" if url.startswith("postgres") else "0"


def _profile_id(url: str) -> str:
    # the Uuid type: native on PostgreSQL and MariaDB 10.7+, 32 hex digits on SQLite
    return ADA if url.startswith("sqlite") else f"{ADA[:8]}-{ADA[8:12]}-{ADA[12:16]}-{ADA[16:20]}-{ADA[20:]}"


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
@pytest.mark.parametrize("tool", ["schemarel", "alembic"])
def test_a_failed_upgrade_leaves_the_database_as_it_was(
    tmp_path: Path, dialect: str, tool: str, request: pytest.FixtureRequest
) -> None:
    url = str(request.getfixturevalue(DIALECTS[dialect]))
    root = _project(tmp_path)
    execute(url, USERS_DDL)
    ok(schemarel(root, url, "upgrade", "0001"))
    # an empty first name: revision 0003 adds the CHECK it violates, after 0002 created a table
    execute(url, PROFILE.format(id=_profile_id(url), first="", f=_false(url)))
    before = (shape(url), rows(url))

    run = schemarel if tool == "schemarel" else alembic
    failed = run(root, url, "upgrade", "head")
    assert failed.returncode != 0
    assert "revision 0003 failed in upgrade() at " in failed.stderr, failed.stderr
    assert "ck_customer_profiles__first_name_min_length" in failed.stderr
    assert "the database is at revision 0001, schema and data as they were" in failed.stderr
    if tool == "schemarel":
        assert "Traceback" not in failed.stderr
    assert (shape(url), rows(url)) == before, "the failed run changed the database"
    assert not [t for t in shape(url) if t.startswith("_alembic_tmp")]

    execute(url, "UPDATE customer_profiles SET first_name = 'Ada'")  # the cause, fixed
    ok(run(root, url, "upgrade", "head"))
    assert schema_diff(url, root / "generated", load_models(root / "generated")) == []


def test_mariadb_names_what_stayed_and_resumes(tmp_path: Path, mysql_url: str, mysql_server: sa.Engine) -> None:
    root = _project(tmp_path)
    url = mysql_url
    execute(url, USERS_DDL)
    ok(schemarel(root, url, "upgrade", "0002"))
    # an empty user id: the CHECK on profiles comes last in revision 0003, after the customer tables' ones
    execute(url, "INSERT INTO users (id, email) VALUES ('', 'x@')", "INSERT INTO profiles (user_id) VALUES ('')")

    failed = schemarel(root, url, "upgrade", "head")
    assert failed.returncode == 1, failed.stderr
    assert "revision 0003 failed in upgrade() at " in failed.stderr
    assert "ADD CONSTRAINT ck_profiles__user_id_min_length" in failed.stderr
    assert "the database is at revision 0002, with 7 statements of the failed revision applied" in failed.stderr
    assert "ADD CONSTRAINT ck_customer_profile_addresses__country_min_length" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert scalar(url, "SELECT version_num FROM alembic_version") == "0002"

    execute(url, "DELETE FROM users WHERE id = ''")  # the cause, fixed (the profile goes with it)
    resumed = ok(alembic(root, url, "upgrade", "head"))  # either command reads the journal
    assert resumed.stderr.count("skipping statement") == 7
    with contextmanager(fresh_database)(mysql_server, "`") as clean:  # the same history in one clean run
        execute(clean, USERS_DDL)
        ok(schemarel(root, clean, "upgrade", "head"))
        assert shape(url) == shape(clean)
    assert "schemarel_migration_journal" not in shape(url), "the journal goes once every revision completed"


def test_postgresql_add_value_outside_the_transaction_can_be_run_again(tmp_path: Path, postgres_url: str) -> None:
    url = postgres_url
    root = evolve(tmp_path / "project", 2)  # revision 0002 adds the value 'fax', then creates `orders`
    ok(schemarel(root, url, "upgrade", "0001"))
    execute(url, "CREATE TABLE orders (id integer)")  # something in the way of the rest of 0002

    failed = schemarel(root, url, "upgrade", "head")
    assert failed.returncode == 1
    assert "revision 0002 failed in upgrade()" in failed.stderr
    assert "rolled back to revision 0001, except what PostgreSQL cannot do inside a transaction" in failed.stderr
    assert "ADD VALUE IF NOT EXISTS 'fax'" in failed.stderr
    assert "customer_profile_tags" not in shape(url)

    execute(url, "DROP TABLE orders")
    ok(schemarel(root, url, "upgrade", "head"))
    assert schema_diff(url, root / "generated", load_models(root / "generated")) == []


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_a_downgrade_the_older_schema_cannot_hold_is_refused_first(
    tmp_path: Path, dialect: str, request: pytest.FixtureRequest
) -> None:
    url = str(request.getfixturevalue(DIALECTS[dialect]))
    root = evolve(tmp_path / "project", 2)  # 0002 adds 'fax', widens number to varchar(20), adds status
    ok(schemarel(root, url, "upgrade", "head"))
    pid = _profile_id(url)
    if dialect == "postgresql":  # its pattern CHECK would refuse the long number this test needs
        pattern = "ck_customer_profile_phone_numbers__number_pattern"
        execute(url, f"ALTER TABLE customer_profile_phone_numbers DROP CONSTRAINT {pattern}")
    execute(
        url,
        PROFILE.format(id=pid, first="Ada", f=_false(url)),
        "INSERT INTO customer_profile_phone_numbers (customer_profile_id, type, number)"
        f" VALUES ('{pid}', 'fax', '+44123456789012345'), ('{pid}', 'fax', '+1'), ('{pid}', 'home', '+2')",
    )
    before = (shape(url), rows(url))

    for run in (schemarel, alembic):
        refused = run(root, url, "downgrade", "0001")
        assert refused.returncode != 0
        text = refused.stderr
        assert "revision 0002 (downgrade) refused before changing anything" in text, text
        assert "`customer_profile_phone_numbers.type` holds 'fax' (2) in 2 rows" in text
        assert "`customer_profile_phone_numbers.number` holds 1 value longer than 16 characters (longest 18)" in text
        assert (shape(url), rows(url)) == before

    execute(url, "DELETE FROM customer_profile_phone_numbers WHERE type = 'fax'")
    done = ok(schemarel(root, url, "downgrade", "0001"))
    # what the downgrade drops is only named: dropping it is what reverting the revision means
    assert "`customer_profiles.status` holds data in 1 row, dropped by this step" in done.stderr
    assert scalar(url, "SELECT version_num FROM alembic_version") == "0001"
