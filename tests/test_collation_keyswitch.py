"""A project generated before string columns were exact, whose next revision also makes a string property its
root's key: the collations change in a phase of their own before the key switch (its foreign keys tie columns of
one collation, MariaDB refuses others) and after its reverse on the way down; keys that differ only in case,
accents, spaces or width are distinct keys, and every value comes back as it was, through `schemarel` and plain
Alembic on MariaDB, and on PostgreSQL and SQLite (no collation to change there). A text key alone changes its
MySQL type (a key's varchar) in that phase too, never through the uuid key's conversion (which drops dashes)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from collation_helpers import as_generated_before, collation, fold, foreign_keys, pairs, server_equal
from filter_semantics import SETTINGS
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pathtools import alembic, ok, scalar, schemarel
from projects import generate, write_project

HOWS = ["case", "space", "accent", "ligature", "width"]
# codes with dashes (MariaDB's uuid keys lose theirs on the way down) and their folded variants beside them
codes = st.lists(
    st.tuples(st.text(alphabet="abeAB -", min_size=1, max_size=10), st.lists(st.sampled_from(HOWS), max_size=2)),
    min_size=1,
    max_size=4,
).map(lambda drawn: list(dict.fromkeys(c for text, hows in drawn for c in (text, fold(text, hows)))))
FEW = settings(SETTINGS, max_examples=3)  # a project's whole migration per example


def team(length: int | None, keyed: bool) -> dict[str, Any]:
    code: dict[str, Any] = {"type": "string", **({"maxLength": length} if length else {})}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.com/team.schema.json",
        "title": "Team",
        "type": "object",
        **({"x-sql": {"primaryKey": {"property": "code"}}} if keyed else {}),
        "properties": {
            "code": code,
            "members": {"type": "array", "items": {"type": "string"}},
            "labels": {
                "type": "object",
                "additionalProperties": {"type": "object", "properties": {"note": {"type": "string"}}},
            },
        },
        "required": ["code"],
    }


def switched_project(tmp_path: Path, length: int | None, before: bool = True) -> Path:
    """Generated before string columns were exact (unless not `before`); then `code` becomes the key: one
    revision does both."""
    root = write_project(tmp_path / "project", {"team": team(length, keyed=False)})
    assert generate(root).exit_code == 0
    if before:
        as_generated_before(root)
    write_project(root, {"team": team(length, keyed=True)})
    made = generate(root, "--rehash")
    assert made.exit_code == 0, made.output
    versions = sorted(p.name[:4] for p in (root / "generated" / "migrations" / "versions").glob("*.py"))
    assert versions == ["0001", "0002"], versions
    return root


def emptied(url: str) -> None:
    """The database without tables: each example starts from scratch, whatever the one before left."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    tables = sa.MetaData()
    with engine.begin() as conn:
        tables.reflect(conn)
        tables.drop_all(conn)
    engine.dispose()


def store_teams(url: str, drawn: list[str]) -> None:
    """One team per code at revision 0001 (keyed by the surrogate `id`), a member and a label each."""
    teams = sa.table("teams", sa.column("id", sa.Uuid()), sa.column("code"))
    members = sa.table("team_members", sa.column("team_id", sa.Uuid()), sa.column("member"))
    labels = sa.table("team_labels", sa.column("team_id", sa.Uuid()), sa.column("key"))
    ids = [uuid.uuid4() for _ in drawn]
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(teams.insert(), [{"id": i, "code": c} for i, c in zip(ids, drawn, strict=True)])
        conn.execute(members.insert(), [{"team_id": i, "member": c} for i, c in zip(ids, drawn, strict=True)])
        conn.execute(labels.insert(), [{"team_id": i, "key": f"k{n}"} for n, i in enumerate(ids)])
    engine.dispose()


def held(url: str, keyed: bool) -> list[tuple[str, str, str]]:
    """(team code, member, label key) of each member, its team found by the key the revision gives."""
    key = "code" if keyed else "id"
    query = (
        f"SELECT t.code, m.member, l.{_quoted(url, 'key')} FROM teams t"
        f" JOIN team_members m ON m.team_{key} = t.{key} JOIN team_labels l ON l.team_{key} = t.{key}"
    )
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        found = [(str(a), str(b), str(c)) for a, b, c in conn.exec_driver_sql(query)]
    engine.dispose()
    return sorted(found)


def _quoted(url: str, name: str) -> str:
    return f"`{name}`" if url.startswith("mysql") else f'"{name}"'


def expected(drawn: list[str]) -> list[tuple[str, str, str]]:
    return sorted((c, c, f"k{n}") for n, c in enumerate(drawn))


STRING_KEYS = [("teams", "code"), ("team_members", "team_code"), ("team_labels", "team_code")]


@pytest.mark.parametrize(
    ("tool", "length", "before"),
    [(schemarel, 40, True), (alembic, 40, True), (schemarel, None, True), (alembic, None, True),
     (schemarel, None, False)],  # a text key alone: MySQL keys it as a varchar, which the switch must not undo
)  # fmt: skip
def test_collation_and_key_switch_in_one_revision_on_mariadb(
    tmp_path: Path, mysql_url: str, tool: object, length: int | None, before: bool
) -> None:
    root = switched_project(tmp_path, length, before)
    run = schemarel if tool is schemarel else alembic

    @FEW
    @given(codes, pairs)
    @example(["a-b", "A-B", "e", "é", "x", "x "], ("Ab", "ab"))  # keys the server's collation takes as one
    def check(drawn: list[str], label: tuple[str, str]) -> None:
        emptied(mysql_url)
        ok(run(root, mysql_url, "upgrade", "0001"))
        server = collation(mysql_url, "teams", "code")
        assert (server != "utf8mb4_nopad_bin") == before
        store_teams(mysql_url, drawn)
        ok(run(root, mysql_url, "upgrade", "head"))
        for column in STRING_KEYS:
            assert collation(mysql_url, *column) == "utf8mb4_nopad_bin", column
        assert foreign_keys(mysql_url) == 2
        assert held(mysql_url, keyed=True) == expected(drawn)

        # two labels of one team that the server's collation would take as one: the downgrade refuses
        # before it changes anything, naming the table, its unique key's columns and the values
        a, b = label
        execute_labels(mysql_url, drawn[0], [a, b] if a != b else [a])
        if before and a != b and server_equal(mysql_url, a, b):
            refused = run(root, mysql_url, "downgrade", "0001")
            assert refused.returncode != 0
            assert "`team_labels` (team_code, key)" in refused.stderr, refused.stderr
            assert repr(a) in refused.stderr or repr(b) in refused.stderr, refused.stderr
            assert scalar(mysql_url, "SELECT version_num FROM alembic_version") == "0002"
            for column in STRING_KEYS:
                assert collation(mysql_url, *column) == "utf8mb4_nopad_bin", column
        execute_labels(mysql_url, drawn[0], [], drop=[a, b])

        ok(run(root, mysql_url, "downgrade", "0001"))
        assert collation(mysql_url, "teams", "code") == server
        assert collation(mysql_url, "team_members", "member") == server
        assert foreign_keys(mysql_url) == 2
        assert held(mysql_url, keyed=False) == expected(drawn)

    check()


def execute_labels(url: str, code: str, keys: list[str], drop: Sequence[str] = ()) -> None:
    """Labels `keys` added to the team keyed `code` (at the head revision), or the ones in `drop` deleted."""
    labels = sa.table("team_labels", sa.column("team_code"), sa.column("key"))
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        if keys:
            conn.execute(labels.insert(), [{"team_code": code, "key": k} for k in keys])
        if drop:
            conn.execute(labels.delete().where(labels.c.team_code == code, labels.c.key.in_(list(drop))))
    engine.dispose()


@pytest.mark.parametrize("fixture", ["postgres_url", "sqlite_url"])
def test_key_switch_in_the_same_revision_elsewhere(
    tmp_path: Path, fixture: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(fixture)
    root = switched_project(tmp_path, 40)

    @FEW
    @given(codes)
    def check(drawn: list[str]) -> None:
        emptied(url)
        ok(schemarel(root, url, "upgrade", "0001"))
        store_teams(url, drawn)
        ok(schemarel(root, url, "upgrade", "head"))
        assert held(url, keyed=True) == expected(drawn)
        ok(alembic(root, url, "downgrade", "0001"))
        assert held(url, keyed=False) == expected(drawn)

    check()
