"""An SQLite `--db` naming a file that is not an SQLite database is refused before anything connects, and the file
is left as it was: SQLite took a file of a few bytes for an empty database and wrote over it (`upgrade --db
sqlite:///notes.txt` holding `todo` made it a database). A folder, or a file in a folder that does not exist,
is named too (SQLite said only "unable to open database file"); an empty file is still an empty database."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_schemarel
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from runtime_helpers import GENERATED

HEADER = b"SQLite format 3\x00"
COMMANDS = {
    "upgrade": ("upgrade",),
    "downgrade": ("downgrade", "base"),
    "load": ("load", "--schema", "customer", "in.ndjson"),
    "export": ("export", "--schema", "customer"),
    "backfill": ("backfill", "--schema", "profile"),
}
# what a user's file holds: short texts SQLite would overwrite, longer ones, binary, a header cut short
CONTENTS = st.one_of(
    st.binary(min_size=1, max_size=40),
    st.text(min_size=1, max_size=40).map(lambda t: t.encode("utf-8")),
    st.integers(1, len(HEADER) - 1).map(lambda n: HEADER[:n]),
).filter(lambda b: not b.startswith(HEADER))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(sorted(COMMANDS)), contents=CONTENTS)
@example(command="upgrade", contents=b"todo")  # SQLite wrote a database over it
@example(command="load", contents=b"{")
def test_a_file_that_is_no_sqlite_database_is_refused_and_kept(
    command: str, contents: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("foreign")
    (folder / "in.ndjson").write_text("{}\n", encoding="utf-8")
    (folder / "notes.txt").write_bytes(contents)
    result = run_schemarel(folder, *COMMANDS[command], "--out", str(GENERATED), "--db", "sqlite:///notes.txt")
    assert result.returncode == 2, result.stderr
    assert "error: the database notes.txt is not an SQLite database" in result.stderr
    assert (folder / "notes.txt").read_bytes() == contents
    assert sorted(p.name for p in folder.iterdir()) == ["in.ndjson", "notes.txt"]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_folder_or_a_missing_folder_is_named(command: str, tmp_path: Path) -> None:
    """A folder, on every command; a missing folder where the command would create the database (`load`,
    `export` and `backfill` create none: tests/test_missing_database.py)."""
    (tmp_path / "in.ndjson").write_text("{}\n", encoding="utf-8")
    (tmp_path / "data").mkdir()
    cases = [("data", "the database data is a folder")]
    if command in ("upgrade", "downgrade"):
        cases.append(("nowhere/app.db", "the database nowhere/app.db cannot be created: there is no folder nowhere"))
    for db, said in cases:
        result = run_schemarel(tmp_path, *COMMANDS[command], "--out", str(GENERATED), "--db", f"sqlite:///{db}")
        assert result.returncode == 2, result.stderr
        assert said in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "in.ndjson"]


def test_an_empty_file_is_an_empty_database(tmp_path: Path) -> None:
    """The guard lets through what SQLite reads as a database: an empty file goes on to the upgrade (which stops
    at its own precondition here: the repository's profiles reference a `users` table another system owns)."""
    (tmp_path / "app.db").write_bytes(b"")
    result = run_schemarel(tmp_path, "upgrade", "--out", str(GENERATED), "--db", "sqlite:///app.db")
    assert "is not an SQLite database" not in result.stderr
    assert "references `users`" in result.stderr, result.stderr
    assert (tmp_path / "app.db").read_bytes()[: len(HEADER)] in (b"", HEADER)
