"""`upgrade FROM:TO --sql` and `downgrade FROM:TO --sql` go the command's way, or say why not, on every dialect.

An upgrade to a revision below FROM printed the downgrade's script on SQLite (exit 0: a DBA asking for an
upgrade got DROPs) and an empty one elsewhere; a downgrade to a revision above FROM printed the upgrade's
script on SQLite; an unknown id ended in a traceback on SQLite. For every pair of the history's revisions
(`base`, ids, `head`, unknown ones), each command on each dialect's script: the right direction prints a
script that ends at TO; the wrong one, or an unknown id, exits 2 naming the command to run, printing no script.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import committed_revisions, copy_project, run_schemarel
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

REVISIONS = ["base", *committed_revisions(), "head"]
URLS = {
    "sqlite": "sqlite:///scratch.db",
    "postgresql": "postgresql+psycopg://localhost/app",
    "mariadb": "mariadb+pymysql://localhost/app",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("range"))


def place(rev: str) -> int:
    """Where `rev` is in the history, base first."""
    return REVISIONS.index(committed_revisions()[-1] if rev == "head" else rev)


@settings(max_examples=24, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(["upgrade", "downgrade"]),
    st.sampled_from([*REVISIONS, "9999"]),
    st.sampled_from([*REVISIONS, "nope"]),
    st.sampled_from(sorted(URLS)),
)
@example("upgrade", "0002", "0001", "sqlite")
@example("downgrade", "0001", "0002", "sqlite")
@example("upgrade", "9999", "nope", "sqlite")
@example("downgrade", "0001", "base", "sqlite")  # Alembic gives base as None: SQLite's script was empty
def test_a_script_goes_the_commands_way(project: Path, action: str, start: str, end: str, dialect: str) -> None:
    result = run_schemarel(project, action, f"{start}:{end}", "--sql", "--db", URLS[dialect])
    assert "Traceback" not in result.stderr, result.stderr
    if start not in REVISIONS or end not in REVISIONS:
        assert result.returncode == 2, result.stderr
        assert "Can't locate revision identified by" in result.stderr
        assert result.stdout == ""
        return
    backwards = place(end) < place(start) if action == "upgrade" else place(end) > place(start)
    if backwards:
        other = "downgrade" if action == "upgrade" else "upgrade"
        assert result.returncode == 2, result.stderr
        assert f"`schemarel {other} {start}:{end} --sql`" in result.stderr
        assert result.stdout == ""
        return
    assert result.returncode == 0, result.stderr
    versions = re.findall(r"(?:SET version_num\s*=\s*|VALUES\s*\()'(\d{4})'", result.stdout)
    if place(end) == place(start):
        assert versions == []
    elif end == "base":
        assert "DELETE FROM alembic_version" in result.stdout
    else:
        target = committed_revisions()[-1] if end == "head" else end
        assert versions[-1] == target, result.stdout[-2000:]
