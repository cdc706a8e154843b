"""Strings MariaDB's default collation takes as equal ('Ab' = 'ab', 'e' = 'é', 'a' = 'a ') stay distinct on
MariaDB, as JSON Schema and Python hold them: as map keys and unique values they round-trip exactly, while a
true duplicate is still refused with schemarel's error; and revision 0005 gives the columns of a database the
earlier revisions built the exact collation, and takes it back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from collation_helpers import ENV, as_generated_before, collation, foreign_keys, pairs, server_equal
from conftest import USERS_DDL, committed_revisions, copy_project
from filter_semantics import SETTINGS
from hypothesis import assume, example, given
from pathtools import alembic, execute, ok, scalar, schemarel
from projects import generate, write_project
from runtime_helpers import customer, open_store, stored_as_given
from schemarel import ConstraintViolation, Store
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.dialects.mysql.mariadb import MariaDBDialect


def test_strings_equal_under_the_default_collation_stay_distinct(mysql_url: str, tmp_path: Path) -> None:
    (tmp_path / "env.schema.json").write_text(json.dumps(ENV))
    store = open_store(mysql_url, "env", tmp_path)

    @SETTINGS
    @given(pairs)
    @example(("Ab", "ab"))
    @example(("e", "é"))
    @example(("a", "a "))
    def check(pair: tuple[str, str]) -> None:
        a, b = pair
        assume(a != b and server_equal(mysql_url, a, b))
        first, second = {"name": a}, {"name": b, "vars": {a: "1", b: "2"}}
        ids = [store.create(first), store.create(second)]
        try:
            assert [store.get(i) for i in ids] == [first, second]
            assert store.get_by(name=a) == first and store.get_by(name=b) == second
            assert [doc for _, doc in store.find({"name": a})] == [first]
            assert [doc for _, doc in store.find({"name": b})] == [second]
            with pytest.raises(ConstraintViolation):  # a true duplicate is still one
                store.create({"name": b})
        finally:
            for i in ids:
                store.delete(i)

    try:
        check()
    finally:
        store.close()


EXACT_COLUMNS = [("customer_profiles", "first_name"), ("customer_profile_emails", "email"), ("profiles", "timezone")]


@pytest.mark.parametrize("tool", [schemarel, alembic])
def test_revision_0005_makes_text_exact_and_back(tmp_path: Path, mysql_url: str, tool: object) -> None:
    revisions = committed_revisions()
    assert "0005" in revisions, revisions
    root = copy_project(tmp_path)
    run = schemarel if tool is schemarel else alembic
    execute(mysql_url, USERS_DDL)
    ok(run(root, mysql_url, "upgrade", "0004"))
    server = {column: collation(mysql_url, *column) for column in EXACT_COLUMNS}
    assert all(c != "utf8mb4_nopad_bin" for c in server.values()), server
    execute(mysql_url, "INSERT INTO users VALUES ('u1', 'a@example.com')")
    ok(run(root, mysql_url, "upgrade", "head"))
    for column in EXACT_COLUMNS:
        assert collation(mysql_url, *column) == "utf8mb4_nopad_bin", column
    # another system's key: its foreign key keeps that table's collation
    assert collation(mysql_url, "profiles", "user_id") == collation(mysql_url, "users", "id")
    # emails of one customer that differ only in case: the server's collation would take them as one
    document = customer(1, emails=["ada@example.org", "ADA@example.org"])
    stored_as_given(mysql_url, "customer", document, root / "generated")
    refused = run(root, mysql_url, "downgrade", "0004")
    assert refused.returncode != 0
    assert "customer_profile_emails" in refused.stderr and "ADA@example.org" in refused.stderr, refused.stderr
    assert scalar(mysql_url, "SELECT version_num FROM alembic_version") == "0005"
    for column in EXACT_COLUMNS:  # refused before anything changed
        assert collation(mysql_url, *column) == "utf8mb4_nopad_bin", column
    execute(mysql_url, "DELETE FROM customer_profile_emails WHERE email = 'ADA@example.org'")
    ok(run(root, mysql_url, "downgrade", "0004"))
    assert {column: collation(mysql_url, *column) for column in EXACT_COLUMNS} == server
    ok(run(root, mysql_url, "upgrade", "head"))


@pytest.mark.parametrize(
    ("dialect", "spelled"),
    [
        (mysql.dialect(), "COLLATE utf8mb4_0900_bin"),  # MySQL 8 has no utf8mb4_nopad_bin
        (MariaDBDialect(), "COLLATE utf8mb4_nopad_bin"),  # MariaDB has no utf8mb4_0900_bin
        (postgresql.dialect(), None),  # type: ignore[no-untyped-call]
        (sqlite.dialect(), None),
    ],
)
def test_each_server_gets_its_name_of_the_exactcollation(dialect: sa.engine.Dialect, spelled: str | None) -> None:
    from schemarel.ir import Column, ColumnType
    from schemarel.sql.metadata import sa_type

    for kind, length, keyed in (("text", None, False), ("text", None, True), ("varchar", 40, False),
                                ("varchar", 20_000, "text")):  # fmt: skip
        column = Column("c", ColumnType(kind, length=length), False)  # type: ignore[arg-type]
        compiled = str(sa_type(column, {}, keyed).compile(dialect=dialect))
        if spelled is None:
            assert "COLLATE" not in compiled, (kind, compiled)
        else:
            assert compiled.endswith(spelled), (kind, compiled)
        legacy = str(sa_type(column, {}, keyed, exact=False).compile(dialect=dialect))
        assert "COLLATE" not in legacy, (kind, legacy)


TEAM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.com/team.schema.json",
    "title": "Team",
    "type": "object",
    "x-sql": {"primaryKey": {"property": "code"}},
    "properties": {
        "code": {"type": "string", "maxLength": 40},
        "members": {"type": "array", "items": {"type": "string"}},
        "labels": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
            },
        },
    },
    "required": ["code"],
}


def test_generate_gives_an_earlier_project_exact_keys_andforeign_keys(tmp_path: Path, mysql_url: str) -> None:
    """A project generated before: the next `generate` writes the revision (once), which changes keys that
    foreign keys tie together, resumes after a failure, and whose downgrade refuses keys that would collide."""
    root = write_project(tmp_path / "project", {"team": TEAM})
    assert generate(root).exit_code == 0
    as_generated_before(root)
    made = generate(root, "--rehash")
    assert made.exit_code == 0, made.output
    assert generate(root).exit_code == 0  # nothing changed since: no third revision
    versions = sorted(p.name[:4] for p in (root / "generated" / "migrations" / "versions").glob("*.py"))
    assert versions == ["0001", "0002"], versions
    ok(schemarel(root, mysql_url, "upgrade", "0001"))
    assert collation(mysql_url, "teams", "code") != "utf8mb4_nopad_bin"
    store = Store(mysql_url, "team", source=root / "generated", check=False)
    try:
        store.create({"code": "Ab", "members": ["x"], "labels": {"k": {"tags": ["t"]}}})
    finally:
        store.close()

    # the upgrade fails at a foreign key's column, after the statements before it committed (MariaDB's DDL
    # commits by itself: the foreign keys are dropped, `teams.code` changed); run again, it resumes there
    execute(mysql_url, "ALTER TABLE team_labels RENAME COLUMN team_code TO away")
    assert schemarel(root, mysql_url, "upgrade", "head").returncode != 0
    execute(mysql_url, "ALTER TABLE team_labels RENAME COLUMN away TO team_code")
    ok(schemarel(root, mysql_url, "upgrade", "head"))
    for column in (
        ("teams", "code"),
        ("team_members", "team_code"),
        ("team_labels", "team_code"),
        ("team_labels", "key"),
    ):
        assert collation(mysql_url, *column) == "utf8mb4_nopad_bin", column
    assert foreign_keys(mysql_url) == 3

    document = {"code": "ab", "members": ["x"], "labels": {"K": {"tags": ["t"]}, "k": {"tags": []}}}
    stored_as_given(mysql_url, "team", document, root / "generated")
    refused = schemarel(root, mysql_url, "downgrade", "0001")
    assert refused.returncode != 0 and "`teams` (code)" in refused.stderr, refused.stderr
    assert collation(mysql_url, "teams", "code") == "utf8mb4_nopad_bin"
    execute(mysql_url, "DELETE FROM teams WHERE code = 'ab'")
    ok(schemarel(root, mysql_url, "downgrade", "0001"))
    assert collation(mysql_url, "team_labels", "team_code") != "utf8mb4_nopad_bin"
    assert foreign_keys(mysql_url) == 3
