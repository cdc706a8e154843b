"""`load --rejects`: never the input (however it is named), the database or a schema; created at the first reject.

Before, `load data.ndjson --rejects data.ndjson` truncated the input while reading it (3,000 lines became 2),
even when the load then failed. Hypothesis names the input every way a path can (relative, `./`, absolute,
`..` detours, symlinks, chains of them, hard links, stdin redirected from it) and the real command must
refuse with exit 2 before reading a line, the input byte for byte as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import create_users_table, run_schemarel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runtime_helpers import GENERATED, SCHEMAS, count, customer, migrated_store

NAMINGS = ("same", "dot", "absolute", "detour", "symlink", "symlink_chain", "hardlink", "stdin", "default_link")


def _input(folder: Path, lines: int = 3000, bad_every: int = 7) -> Path:
    """An NDJSON file of customer documents, every `bad_every`-th line invalid (so that rejects would be written)."""
    rows = [json.dumps(customer(i)) if i % bad_every else '{"firstName": 1}' for i in range(lines)]
    path = folder / "data" / "in.ndjson"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _name_it(folder: Path, source: Path, how: str) -> tuple[list[str], Path | None]:
    """The `load` arguments naming `source` as its own reject file `how`, and the stdin to give it."""
    rel = source.relative_to(folder).as_posix()
    if how == "dot":
        return [rel, "--rejects", f"./{rel}"], None
    if how == "absolute":
        return [rel, "--rejects", str(source)], None
    if how == "detour":
        return [rel, "--rejects", f"data/../{rel}"], None
    if how in ("symlink", "symlink_chain"):
        (folder / "elsewhere").mkdir(exist_ok=True)
        link = folder / "elsewhere/rejects.ndjson"
        if how == "symlink_chain":
            (folder / "elsewhere/middle").symlink_to(source)
            link.symlink_to(folder / "elsewhere/middle")
        else:
            link.symlink_to(os.path.relpath(source, link.parent))
        return [rel, "--rejects", "elsewhere/rejects.ndjson"], None
    if how == "hardlink":
        os.link(source, folder / "hard.ndjson")
        return [rel, "--rejects", "hard.ndjson"], None
    if how == "stdin":
        return ["-", "--rejects", rel], source
    if how == "default_link":  # a committed link where the default reject file goes
        Path(f"{source}.rejects.ndjson").symlink_to(source.name)
        return [rel], None
    return [rel, "--rejects", rel], None


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'app.db'}"
    migrated_store(url, "customer")
    return url


@settings(max_examples=12, deadline=None)
@given(how=st.sampled_from(NAMINGS), all_or_nothing=st.booleans())
def test_the_input_is_never_its_own_reject_file(
    how: str, all_or_nothing: bool, sqlite_db: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("rejects")
    source = _input(folder)
    before = source.read_bytes()
    args, stdin = _name_it(folder, source, how)
    command = [sys.executable, "-m", "schemarel", "load", "--schema", "customer", "--out", str(GENERATED)]
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as given_stdin:
        result = subprocess.run(
            [*command, "--db", sqlite_db, *args, *(["--all-or-nothing"] if all_or_nothing else [])],
            cwd=folder,
            stdin=given_stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: --rejects ") and "; name another file" in result.stderr
    assert "is the input" in result.stderr or "is a symbolic link" in result.stderr
    assert source.read_bytes() == before
    assert count(migrated_store(sqlite_db, "customer"), "customer_profiles") == 0  # refused before a line was read


def test_the_database_and_the_schemas_are_never_the_reject_file(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    migrated_store(f"sqlite:///{db}", "customer")
    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, schemas)
    shutil.copytree(GENERATED, tmp_path / "generated", ignore=shutil.ignore_patterns("__pycache__"))
    source = _input(tmp_path, lines=20)
    keep = {p: p.read_bytes() for p in [db, source, *schemas.iterdir()]}
    for rejects, why in [
        ("app.db", "is the database"),
        ("schemas/customer.schema.json", "is inside the schemas folder"),
        ("schemas/new.ndjson", "is inside the schemas folder"),
        ("generated/new.ndjson", "is inside the generated folder"),
        ("nowhere/r.ndjson", "cannot be created: nowhere is not a folder"),
    ]:
        result = run_schemarel(
            tmp_path, "load", "--schema", "customer", "--schemas", "schemas", "--out", "generated",
            "--db", f"sqlite:///{db}",
            "data/in.ndjson", "--rejects", rejects,
        )  # fmt: skip
        assert result.returncode == 2 and f"error: --rejects {rejects} {why}" in result.stderr, result.stderr
    assert {p: p.read_bytes() for p in keep} == keep
    assert not (tmp_path / "schemas/new.ndjson").exists() and not (tmp_path / "generated/new.ndjson").exists()


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = request.getfixturevalue(
        {"sqlite": "sqlite_url", "postgresql": "postgres_url", "mysql": "mysql_url"}[request.param]
    )
    create_users_table(url)  # VARCHAR keys: MariaDB cannot key the TEXT column open_store would make
    migrated_store(url, "customer")
    return str(url)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=st.sets(st.integers(0, 29), max_size=4), old=st.booleans())
def test_the_reject_file_is_written_only_when_there_is_a_reject(
    any_db: str, bad: set[int], old: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No reject, no reject file (an old one stays as it was); the first reject creates or truncates it."""
    folder = tmp_path_factory.mktemp("lazy")
    rows = [json.dumps(customer(i)) if i not in bad else "not json" for i in range(30)]
    (folder / "in.ndjson").write_text("\n".join(rows) + "\n")
    rejects = folder / "in.ndjson.rejects.ndjson"
    last_run = '{"line": 1, "errors": ["from the last run"]}\n'
    if old:
        rejects.write_text(last_run)
    result = run_schemarel(folder, "load", "--schema", "customer", "--out", str(GENERATED), "--db", any_db,
                           "in.ndjson")  # fmt: skip
    assert result.returncode == (1 if bad else 0), result.stderr
    if bad:
        assert [json.loads(line)["line"] for line in rejects.read_text().splitlines()] == sorted(i + 1 for i in bad)
    elif old:
        assert rejects.read_text() == last_run
    else:
        assert not rejects.exists()


def test_a_load_that_cannot_connect_touches_no_reject_file(tmp_path: Path) -> None:
    source = _input(tmp_path, lines=50, bad_every=2)
    old = tmp_path / "old.ndjson"
    kept = '{"line": 7, "errors": ["kept"]}\n'
    old.write_text(kept)
    for rejects in ("old.ndjson", "new.ndjson"):
        result = run_schemarel(
            tmp_path, "load", "--schema", "customer", "--out", str(GENERATED),
            "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", str(source), "--rejects", rejects,
        )  # fmt: skip
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert old.read_text() == kept and not (tmp_path / "new.ndjson").exists()


OTHER_FILES = st.one_of(
    st.binary(min_size=1, max_size=200),
    st.text(min_size=1, max_size=200).map(str.encode),
    st.sampled_from([b"# README\n", b'[project]\nname = "x"\n', b'{"line": 1}\n', b'{"line": "1", "errors": []}\n',
                     b'[{"line": 1, "errors": []}]\n', b'{"line": 1, "errors": [], "more": 0}\n']),
)  # fmt: skip


@settings(max_examples=15, deadline=None)
@given(content=OTHER_FILES, all_or_nothing=st.booleans())
def test_a_file_that_holds_no_rejects_is_never_the_reject_file(
    content: bytes, all_or_nothing: bool, sqlite_db: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`--rejects README.md` emptied the user's file at the first reject; now refused before the load."""
    folder = tmp_path_factory.mktemp("theirs")
    source = _input(folder, lines=30)
    theirs = folder / "notes.txt"
    theirs.write_bytes(content)
    result = run_schemarel(
        folder, "load", "--schema", "customer", "--out", str(GENERATED), "--db", sqlite_db,
        str(source), "--rejects", "notes.txt", *(["--all-or-nothing"] if all_or_nothing else []),
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "error: --rejects notes.txt holds something else than rejected lines" in result.stderr
    assert theirs.read_bytes() == content
    assert count(migrated_store(sqlite_db, "customer"), "customer_profiles") == 0
