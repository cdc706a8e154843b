"""`load`, `export` and `backfill` as real processes use the models the API uses: the generated package's head
snapshot (found through `--out` or `[tool.schemarel]`), never `schemas/`; a database at another revision is
told exactly what to run."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from conftest import copy_project, create_users_table, edit_schema, run_schemarel
from runtime_helpers import customer
from schemarel.runtime.source import locate


def _write(path: Path, documents: Sequence[object]) -> Path:
    path.write_text("".join(json.dumps(d) + "\n" for d in documents), encoding="utf-8")
    return path


def _exported(cwd: Path, *args: str, env: dict[str, str] | None = None) -> list[object]:
    result = run_schemarel(cwd, "export", "--schema", "customer", *args, env=env)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _upgraded(project: Path, url: str, revision: str = "head") -> None:
    create_users_table(url)
    result = run_schemarel(project, "upgrade", revision, "--db", url)
    assert result.returncode == 0, result.stderr


def test_schemas_ahead_of_the_migrations_are_not_what_the_data_commands_write(tmp_path: Path, db_url: str) -> None:
    """A property added to schemas/ and not generated yet has no column in the database: the commands read
    and write with the migrations' model, so the documents load; one using the new property is refused."""
    project = copy_project(tmp_path)
    _upgraded(project, db_url)
    edit_schema(project, lambda s: s["properties"].update({"nickname": {"type": "string", "maxLength": 30}}))
    documents = [customer(i) for i in range(3)]
    loaded = run_schemarel(project, "load", "--schema", "customer", "--db", db_url,
                           str(_write(tmp_path / "in.ndjson", documents)))  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    assert "loaded 3 customer documents" in loaded.stdout
    assert sorted(map(json.dumps, _exported(project, "--db", db_url))) == sorted(map(json.dumps, documents))
    ahead = run_schemarel(project, "load", "--schema", "customer", "--db", db_url,
                          str(_write(tmp_path / "ahead.ndjson", [customer(9, nickname="Ada")])))  # fmt: skip
    assert ahead.returncode == 1 and "ahead.ndjson:1: " in ahead.stderr and "nickname" in ahead.stderr, ahead.stderr
    assert len(_exported(project, "--db", db_url)) == 3


def test_a_database_at_an_older_revision_is_told_the_command_that_brings_it_to_the_models(
    tmp_path: Path, db_url: str
) -> None:
    """The message names both revisions and the command, with the --db and --out the command was given;
    running that command verbatim is enough for the next run to work."""
    project = copy_project(tmp_path)
    head = locate(project / "generated").revision
    _upgraded(project, db_url, "0001")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = str(project / "generated")
    for args, env in [(["--db", db_url, "--out", out], None), (["--out", out], {"SCHEMAREL_DATABASE_URL": db_url})]:
        for command in (["export", "--schema", "customer"], ["backfill", "--schema", "profile"]):
            result = run_schemarel(elsewhere, *command, *args, env=env)
            assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
            db = f" --db {shlex.quote(db_url)}" if env is None else ""
            told = f"run `schemarel upgrade --out {shlex.quote(out)}{db}`"
            assert result.stderr == f"error: the database is at 0001, the models at {head}: {told}\n", result.stderr
    run = shlex.split(result.stderr.split("`")[1])
    assert run[:2] == ["schemarel", "upgrade"]
    done = subprocess.run([sys.executable, "-m", "schemarel", *run[1:]], cwd=elsewhere, capture_output=True,
                          text=True, env={**os.environ, "SCHEMAREL_DATABASE_URL": db_url}, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _exported(elsewhere, "--out", out, "--db", db_url) == []
    never = run_schemarel(elsewhere, "export", "--schema", "customer", "--out", out,
                          "--db", f"sqlite:///{tmp_path / 'empty.db'}")  # fmt: skip
    assert never.returncode == 1 and "never upgraded" in never.stderr and f"models are at {head}" in never.stderr


def test_started_from_a_subfolder_the_commands_find_the_generated_package_through_tool_schemarel(
    tmp_path: Path, sqlite_url: str
) -> None:
    project = copy_project(tmp_path)
    (project / "src" / "app").mkdir(parents=True)
    shutil.move(project / "generated", project / "src" / "app" / "db")
    shutil.move(project / "schemas", project / "contracts")
    with (project / "pyproject.toml").open("a", encoding="utf-8") as toml:
        toml.write('\n[tool.schemarel]\nout = "src/app/db"\nschemas = "contracts"\n')
    sub = project / "deep" / "sub"
    sub.mkdir(parents=True)
    _upgraded(sub, sqlite_url)
    documents = [customer(i) for i in range(2)]
    loaded = run_schemarel(sub, "load", "--schema", "customer", "--db", sqlite_url,
                           str(_write(sub / "in.ndjson", documents)))  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    assert sorted(map(json.dumps, _exported(sub, "--db", sqlite_url))) == sorted(map(json.dumps, documents))
    engine = sa.create_engine(sqlite_url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO users (id, email) VALUES ('u1', 'a@x'), ('u2', 'b@x')")
    engine.dispose()
    filled = run_schemarel(sub, "backfill", "--schema", "profile", "--db", sqlite_url)
    assert filled.returncode == 0 and "created 2 profile documents for 2 rows of users" in filled.stdout, filled.stderr
    rejects = run_schemarel(sub, "load", "--schema", "customer", "--db", sqlite_url, "in.ndjson",
                            "--rejects", str(project / "contracts" / "r.ndjson"))  # fmt: skip
    assert rejects.returncode == 2 and "is inside the schemas folder" in rejects.stderr, rejects.stderr
    missing = run_schemarel(tmp_path, "export", "--schema", "customer", "--db", sqlite_url)
    assert missing.returncode == 2 and "generated not found" in missing.stderr and "--out" in missing.stderr
