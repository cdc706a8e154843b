"""`schemarel load`, `export` and `backfill` on SQLite and PostgreSQL, in-process and as real processes."""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from runtime_helpers import GENERATED, REPO, add_users, customer, migrated_store
from schemarel.cli.main import main
from schemarel.runtime import ndjson
from schemarel.runtime.store import Store

Cli = Callable[..., Result]


def write_ndjson(path: Path, documents: list[Any], extra: Sequence[str] = ()) -> Path:
    lines = [json.dumps(d) for d in documents] + list(extra)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def exported(cli: Cli, cwd: Path, db_url: str, *options: str) -> list[Any]:
    result = cli(cwd, "export", "--schema", "customer", "--out", str(GENERATED), "--db", db_url, *options)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_load_then_export_returns_the_same_documents(cli: Cli, tmp_path: Path, db_url: str) -> None:
    migrated_store(db_url, "customer")
    documents = [customer(i, lastName="Ørsted – “quoted”") for i in range(25)]
    source = write_ndjson(tmp_path / "in.ndjson", documents)
    result = cli(tmp_path, "load", "--schema", "customer", "--out", str(GENERATED), "--db", db_url,
                 "--batch-size", "10", str(source))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "loaded 25 customer documents" in result.output and "documents/s" in result.output
    out = exported(cli, tmp_path, db_url)
    assert sorted(out, key=json.dumps) == sorted(documents, key=json.dumps)

    with_ids = exported(cli, tmp_path, db_url, "--with-ids")
    store = migrated_store(db_url, "customer")
    assert all(store.get(line["id"]) == line["document"] for line in with_ids)


def test_load_keeps_start_up_out_of_the_collector_and_collects_young_objects_once_a_batch_or_so(
    cli: Cli, tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrated_store(sqlite_url, "customer")
    seen: list[tuple[int, int]] = []  # (frozen objects, the youngest generation's threshold) while loading
    run = ndjson.Loader.run

    def spying(self: ndjson.Loader, lines: Any, first: int = 1) -> ndjson.LoadResult:
        seen.append((gc.get_freeze_count(), gc.get_threshold()[0]))
        return run(self, lines, first)

    monkeypatch.setattr(ndjson.Loader, "run", spying)
    frozen, threshold = gc.get_freeze_count(), gc.get_threshold()
    source = write_ndjson(tmp_path / "in.ndjson", [customer(1)])
    args = ("--out", str(GENERATED), "--db", sqlite_url, str(source))
    for size in ("2000", "1"):
        result = cli(tmp_path, "load", "--schema", "customer", "--batch-size", size, *args)
        assert result.exit_code == 0, result.output
    assert all(count > frozen for count, _ in seen) and [every for _, every in seen] == [40_000, threshold[0]]
    assert gc.get_freeze_count() == frozen and gc.get_threshold() == threshold


@pytest.mark.parametrize("caller_paused", [False, True])
def test_data_commands_pause_the_collector_only_for_start_up(
    cli: Cli, tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, caller_paused: bool
) -> None:
    migrated_store(sqlite_url, "customer")
    seen: list[tuple[str, bool]] = []
    init, run = Store.__init__, ndjson.Loader.run

    def building(self: Store, *args: Any, **kwargs: Any) -> None:
        seen.append(("start-up", gc.isenabled()))
        init(self, *args, **kwargs)

    def loading(self: ndjson.Loader, lines: Any, first: int = 1) -> ndjson.LoadResult:
        seen.append(("load", gc.isenabled()))
        return run(self, lines, first)

    monkeypatch.setattr(Store, "__init__", building)
    monkeypatch.setattr(ndjson.Loader, "run", loading)
    source = write_ndjson(tmp_path / "in.ndjson", [customer(1)])
    args = ("--out", str(GENERATED), "--db", sqlite_url)
    if caller_paused:
        gc.disable()
    try:
        assert cli(tmp_path, "load", "--schema", "customer", *args, str(source)).exit_code == 0
        assert seen == [("start-up", False), ("load", not caller_paused)]
        assert gc.isenabled() is not caller_paused and gc.get_freeze_count() == 0
        failed = cli(tmp_path, "load", "--schema", "nope", *args, str(source))  # fails during start-up
        assert failed.exit_code != 0 and "no schema named 'nope'" in failed.output
        assert gc.isenabled() is not caller_paused and gc.get_freeze_count() == 0
    finally:
        gc.enable()


@pytest.mark.parametrize(
    "entry",
    ["from schemarel.cli.main import run; run()", "import runpy; runpy.run_module('schemarel', run_name='__main__')"],
)
@pytest.mark.parametrize(("args", "code"), [(["--version"], 0), (["load", "--schema", "customer", "nope.ndjson"], 2)])
def test_the_process_ends_with_what_is_alive_frozen_and_its_exit_code(
    tmp_path: Path, entry: str, args: list[str], code: int
) -> None:
    """The console script and `python -m schemarel` freeze the objects alive at the end (the interpreter's
    last collections then skip them: 0.2 s of a load's CPU), and exit as the command does."""
    probe = ("import atexit, gc, sys; atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0)); "
             f"sys.argv = ['schemarel', *{args!r}]; {entry}")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == code, done.stderr
    assert done.stdout.splitlines()[-1] == "frozen True"


def test_invalid_lines_go_to_the_reject_file(cli: Cli, tmp_path: Path, db_url: str) -> None:
    migrated_store(db_url, "customer")
    documents = [customer(1), customer(2, emails=["nope"]), customer(3)]
    source = write_ndjson(tmp_path / "in.ndjson", documents, ["", "{oops", "[1, 2]", json.dumps(customer(1))])
    result = cli(tmp_path, "load", "--schema", "customer", "--out", str(GENERATED), "--db", db_url, str(source))
    assert result.exit_code == 1
    rejects = [json.loads(line) for line in (tmp_path / "in.ndjson.rejects.ndjson").read_text().splitlines()]
    assert [r["line"] for r in rejects] == [2, 5, 6]  # line 4 is blank, line 7 a second Ada1 (allowed)
    assert rejects[0]["errors"] == ["#/emails/0: 'nope' is not a 'email'"]
    assert rejects[1]["errors"][0].startswith("invalid JSON")
    assert "#: [1, 2] is not of type 'object'" in rejects[2]["errors"]
    assert "in.ndjson:2: #/emails/0" in result.output
    assert sorted(d["firstName"] for d in exported(cli, tmp_path, db_url)) == ["Ada1", "Ada1", "Ada3"]


def test_a_constraint_failure_rejects_only_its_line(cli: Cli, tmp_path: Path, db_url: str) -> None:
    store = migrated_store(db_url, "profile")
    add_users(store, ["u1", "u2", "u3"])
    profiles = [{"userId": "u1"}, {"userId": "ghost"}, {"userId": "u2"}, {"userId": "u1"}, {"userId": "u3"}]
    source = write_ndjson(tmp_path / "p.ndjson", profiles)
    rejects = tmp_path / "r.ndjson"
    args = ["load", "--schema", "profile", "--out", str(GENERATED), "--db", db_url, "--rejects", str(rejects)]
    result = cli(tmp_path, *args, str(source))
    assert result.exit_code == 1, result.output
    found = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["line"], "fk_profiles__user_id__users" in r["errors"][0]) for r in found] == [(2, True), (4, False)]
    assert "uq_profiles__user_id" in found[1]["errors"][0]
    assert sorted(d["userId"] for d in store) == ["u1", "u2", "u3"]


def test_all_or_nothing_loads_nothing_when_a_line_is_invalid(cli: Cli, tmp_path: Path, db_url: str) -> None:
    migrated_store(db_url, "customer")
    source = write_ndjson(tmp_path / "in.ndjson", [customer(i) for i in range(5)] + [customer(9, firstName="")])
    args = ["load", "--schema", "customer", "--out", str(GENERATED), "--db", db_url, "--batch-size", "2"]
    result = cli(tmp_path, *args, "--all-or-nothing", str(source))
    assert result.exit_code == 2
    assert "nothing loaded: 1 invalid line," in result.output and "in.ndjson:6: #/firstName" in result.output
    assert exported(cli, tmp_path, db_url) == []
    good = write_ndjson(tmp_path / "good.ndjson", [customer(i) for i in range(5)])
    assert cli(tmp_path, *args, "--all-or-nothing", str(good)).exit_code == 0
    assert len(exported(cli, tmp_path, db_url)) == 5


def test_load_reads_stdin_and_backfill_reports_counts(tmp_path: Path, sqlite_url: str) -> None:
    store = migrated_store(sqlite_url, "profile")
    add_users(store, [f"u{i}" for i in range(30)])
    lines = "".join(json.dumps({"userId": f"u{i}", "currency": "EUR"}) + "\n" for i in range(5))
    loaded = invoke(tmp_path, "load", "--schema", "profile", "-", db=sqlite_url, stdin=lines)
    assert loaded.exit_code == 0 and "loaded 5 profile documents" in loaded.stdout, loaded.output
    filled = invoke(tmp_path, "backfill", "--schema", "profile", "--batch-size", "7", db=sqlite_url)
    assert filled.exit_code == 0, filled.output
    assert "created 25 profile documents for 30 rows of users (5 had one already)" in filled.stdout
    again = invoke(tmp_path, "backfill", "--schema", "profile", db=sqlite_url)
    assert "created 0 profile documents" in again.stdout


def test_backfill_counts_the_referenced_table_only_for_a_progress_bar(
    cli: Cli, tmp_path: Path, sqlite_url: str
) -> None:
    add_users(migrated_store(sqlite_url, "profile"), [f"u{i}" for i in range(30)])
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(" ".join(statement.split()))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", seen)
    try:  # stderr is no terminal here: no bar, so no count of every user
        filled = cli(tmp_path, "backfill", "--schema", "profile", "--out", str(GENERATED), "--db", sqlite_url)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", seen)
    assert filled.exit_code == 0 and "created 30 profile documents for 30 rows of users" in filled.output
    assert any("INSERT INTO profiles" in s for s in statements)
    assert "SELECT count(*) AS count_1 FROM users" not in statements


def test_bad_invocations_get_one_line(tmp_path: Path, sqlite_url: str) -> None:
    missing = invoke(tmp_path, "load", "--schema", "customer", "nowhere.ndjson", db=sqlite_url)
    assert missing.exit_code == 2 and "nowhere.ndjson: cannot read" in missing.stderr
    unknown = invoke(tmp_path, "export", "--schema", "nope", db=sqlite_url)
    assert unknown.exit_code == 2 and "no schema named 'nope'" in unknown.stderr
    no_tables = invoke(tmp_path, "export", "--schema", "customer", db=f"sqlite:///{tmp_path / 'empty.db'}")
    assert no_tables.exit_code == 1 and f"run `schemarel upgrade --out {GENERATED}`" in no_tables.stderr
    for result in (missing, unknown, no_tables):
        assert result.stderr.count("\n") == 1


def test_a_load_killed_midway_leaves_only_whole_documents(tmp_path: Path, db_url: str) -> None:
    store = migrated_store(db_url, "customer")
    documents = [customer(i) for i in range(40_000)]
    source = write_ndjson(tmp_path / "big.ndjson", documents)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "schemarel",
            "load",
            "--schema",
            "customer",
            "--out",
            str(GENERATED),
            "--db",
            db_url,
            "--batch-size",
            "500",
            str(source),
        ],  # fmt: skip
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    roots = store.metadata.tables["customer_profiles"]
    deadline = time.monotonic() + 120
    stored = 0
    while stored < 1_000 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
        try:
            with store.engine.connect() as conn:
                stored = conn.execute(sa.select(sa.func.count()).select_from(roots)).scalar_one()
        except sa.exc.OperationalError:  # SQLite: the loader holds the lock right now
            continue
    assert process.poll() is None, "the load ended before it could be killed; make the input larger"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    found = list(store)
    assert 1_000 <= len(found) < len(documents)
    assert len(found) % 500 == 0  # whole batches
    by_name = {d["firstName"]: d for d in documents}
    assert all(by_name[d["firstName"]] == d for d in found)  # whole documents: every child row is there


def invoke(cwd: Path, *args: str, db: str, stdin: str | None = None) -> Result:
    """`schemarel ARGS` in-process, the database given by SCHEMAREL_DATABASE_URL, the repository's generated/."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        runner = CliRunner(env={"SCHEMAREL_DATABASE_URL": db})
        return runner.invoke(main, [*args, "--out", str(GENERATED)], input=stdin, catch_exceptions=False)
    finally:
        os.chdir(old)


def test_one_loaded_document_is_singular(cli: Cli, tmp_path: Path, sqlite_url: str) -> None:
    migrated_store(sqlite_url, "customer")
    source = write_ndjson(tmp_path / "one.ndjson", [customer(1)])
    result = cli(tmp_path, "load", "--schema", "customer", "--out", str(GENERATED), "--db", sqlite_url, str(source))
    assert result.exit_code == 0, result.output
    assert "loaded 1 customer document in " in result.output
