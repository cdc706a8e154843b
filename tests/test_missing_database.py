"""`load`, `export` and `backfill` on a database that does not exist: an SQLite file is not created by them (an
empty `app.db` was left behind, then called "never upgraded"), and a server without the database is told to
create it (the message said to run `schemarel upgrade`, which cannot)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import run_schemarel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runtime_helpers import GENERATED

COMMANDS = {
    "load": ("load", "--schema", "customer", "in.ndjson"),
    "export": ("export", "--schema", "customer"),
    "backfill": ("backfill", "--schema", "profile"),
}
NAMES = st.lists(st.sampled_from(["app.db", "sub", "x y", "é.sqlite", "deep"]), min_size=1, max_size=3).map(
    lambda parts: "/".join(parts) + ".db"
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(sorted(COMMANDS)), name=NAMES, absolute=st.booleans())
def test_a_missing_sqlite_file_is_named_and_not_created(
    command: str, name: str, absolute: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("missing")
    (folder / "in.ndjson").write_text("{}\n", encoding="utf-8")
    (folder / "sub").mkdir()
    path = str(folder / name) if absolute else name
    url = f"sqlite:///{path}"
    result = run_schemarel(folder, *COMMANDS[command], "--out", str(GENERATED), "--db", url)
    assert result.returncode == 1, result.stderr
    assert "error: the database was never upgraded (there is no file " in result.stderr
    assert f"run `schemarel upgrade --out {GENERATED} --db " in result.stderr
    assert sorted(os.listdir(folder)) == ["in.ndjson", "sub"] and not os.listdir(folder / "sub")
    assert "in.ndjson.rejects.ndjson" not in os.listdir(folder)


@pytest.mark.parametrize("server", ["postgres_url", "mysql_url"])
def test_a_database_the_server_lacks_is_to_be_created(
    tmp_path: Path, server: str, request: pytest.FixtureRequest
) -> None:
    url = str(request.getfixturevalue(server))
    missing = url.rsplit("/", 1)[0] + "/schemarel_nowhere_db"
    result = run_schemarel(tmp_path, "export", "--schema", "customer", "--out", str(GENERATED), "--db", missing)
    assert result.returncode == 1, result.stderr
    assert "create the database first" in result.stderr and "run `schemarel upgrade` first" not in result.stderr
