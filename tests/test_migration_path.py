"""One migration path: the committed history through `schemarel` and plain `alembic`, as users run them.

On SQLite, PostgreSQL and MariaDB, one database is migrated by `schemarel upgrade/downgrade`, another by
`alembic -c generated/alembic.ini` (subprocesses: the models are never imported), step by step up to
head, down to base and up again, holding a document: after every step the two are identical (constraint
and index names included), and at head Alembic's compare_metadata against the models is empty.
"""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from conftest import REPO, USERS_DDL
from conftest import _fresh_database as fresh_database
from dbtools import load_models, schema_diff
from pathtools import DIALECTS, alembic, evolve, execute, ok, scalar, schemarel, shape

REVISIONS = sorted(p.name[:4] for p in (REPO / "generated/migrations/versions").glob("[0-9]*.py"))


@pytest.fixture(params=list(DIALECTS))
def two_databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two fresh databases on one server, each holding the `users` table another system owns."""
    if request.param == "sqlite":
        urls = (f"sqlite:///{tmp_path / 'cli.db'}", f"sqlite:///{tmp_path / 'alembic.db'}")
        for url in urls:
            execute(url, USERS_DDL)
        yield urls
        return
    server = request.getfixturevalue("postgres_server" if request.param == "postgresql" else "mysql_server")
    quote, drop = ('"', " WITH (FORCE)") if request.param == "postgresql" else ("`", "")
    with ExitStack() as stack:
        first, second = (stack.enter_context(contextmanager(fresh_database)(server, quote, "", drop)) for _ in "ab")
        urls = (first, second)
        for url in urls:
            execute(url, USERS_DDL)
        yield urls


def test_the_committed_history_takes_one_path(tmp_path: Path, two_databases: tuple[str, str]) -> None:
    root = tmp_path / "project"
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(REPO / "generated", root / "generated", ignore=shutil.ignore_patterns("__pycache__"))
    models = load_models(root / "generated")

    def step(action: str, target: str) -> None:
        ok(schemarel(root, two_databases[0], action, target))
        ok(alembic(root, two_databases[1], action, target))
        assert shape(two_databases[0]) == shape(two_databases[1]), f"the two paths differ after {action} {target}"

    def no_drift(url: str) -> bool:
        return schema_diff(url, root / "generated", models) == []

    def profiles() -> list[int]:
        return [scalar(url, "SELECT count(*) FROM customer_profiles") for url in two_databases]

    for revision in REVISIONS:
        step("upgrade", revision)
        if revision == REVISIONS[0]:
            for url in two_databases:
                execute(
                    url,
                    "INSERT INTO customer_profiles (first_name, last_name, marketing_emails_enabled,"
                    " two_factor_enabled) VALUES ('Ada', 'Lovelace', 1 = 1, 1 = 0)",
                )
        assert profiles() == [1, 1]
    assert all(no_drift(url) for url in two_databases)
    for revision in reversed(REVISIONS[:-1]):
        step("downgrade", revision)  # SQLite rebuilds tables here: the CHECK names must survive it
        assert profiles() == [1, 1]
    step("downgrade", "base")
    step("upgrade", "head")
    assert all(no_drift(url) for url in two_databases)
    tables = {"alembic_version", "users", *models.metadata.tables}
    assert all(set(shape(url)) - {"<enum types>"} == tables for url in two_databases)


def test_renaming_an_enum_value_keeps_the_postgresql_type(tmp_path: Path, postgres_url: str) -> None:
    """Revision 0004 renames 'other' to 'misc' in the catalog (RENAME VALUE): the type is not swapped."""
    root = evolve(tmp_path / "project", 4)
    text = next((root / "generated/migrations/versions").glob("0004_*.py")).read_text()
    # long SQL is written as implicitly concatenated pieces (ruff layout): read the strings as Python does
    strings = [n.value for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert any("RENAME VALUE 'other' TO 'misc'" in value for value in strings)
    url = postgres_url
    ok(schemarel(root, url, "upgrade", "0003"))
    execute(
        url,
        "INSERT INTO customer_profiles (first_name, last_name, marketing_emails_enabled, two_factor_enabled)"
        " VALUES ('Ada', 'L', false, false)",
        "INSERT INTO customer_profile_phone_numbers (customer_profile_id, kind, number)"
        " SELECT id, 'other', '+15550100' FROM customer_profiles",
    )
    oid = "SELECT atttypid FROM pg_attribute WHERE attrelid = '{}'::regclass AND attname = 'kind'"
    before = scalar(url, oid.format("customer_profile_phone_numbers"))
    ok(schemarel(root, url, "upgrade", "0004"))
    assert scalar(url, oid.format("client_phone_numbers")) == before, "the enum type was replaced"
    assert scalar(url, "SELECT kind::text FROM client_phone_numbers") == "misc"
    assert shape(url)["<enum types>"]["client_phone_numbers_kind_enum"] == ["mobile", "home", "work", "misc", "fax"]
    ok(schemarel(root, url, "downgrade", "0003"))
    assert scalar(url, oid.format("customer_profile_phone_numbers")) == before
    assert scalar(url, "SELECT kind::text FROM customer_profile_phone_numbers") == "other"
