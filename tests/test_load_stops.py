"""A failure that is not a document's (a table the database lacks, no privilege, a read-only database) stops a
load at the first batch it meets, instead of rejecting every later line with it; the load says which lines it
left loaded (or rejected) and which to load again, on SQLite, PostgreSQL and MariaDB, as a process."""

from __future__ import annotations

import itertools
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import run_schemarel
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from projects import generate, write_project
from value_strategies import SCHEMA

SEQ = itertools.count(1)
SETTINGS = settings(
    deadline=None,
    database=None,
    max_examples=6,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
ROOT, EVENTS = "readings", "reading_events"  # the root table and the child table of `events`
LIMITED = "schemarel_test_no_events"  # a PostgreSQL role that may not write the events


def line(kind: str, seq: int) -> str:
    """A line of the kind: a document without events, one with (a row of the events table), or not JSON."""
    if kind == "plain":
        return json.dumps({"seq": seq, "text": "ok"})
    if kind == "events":
        return json.dumps({"seq": seq, "events": [{"n": 1}]})
    return f'{{"seq": {seq}, '


def expected_through(kinds: list[str], batch_size: int) -> int | None:
    """The last line of the last batch written before the first batch holding a document with events (0: the
    first batch holds one); None when none does. A batch is `batch_size` documents and the bad lines read
    with them, as `Loader._read` cuts them."""
    through, pending, has_events = 0, 0, False
    for number, kind in enumerate(kinds, 1):
        if kind == "bad":
            continue
        pending += 1
        has_events = has_events or kind == "events"
        if pending == batch_size:
            if has_events:
                return through
            through, pending = number, 0
    return through if has_events else None


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "project", {"reading": SCHEMA})
    assert generate(root).exit_code == 0
    return root


def _unusable_events(url: str, how: str) -> str:
    """Make the events table unusable (`how`: dropped, or not writable by the URL's role); the URL to load with."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        if how == "dropped":
            conn.exec_driver_sql(f"DROP TABLE {EVENTS}")
            engine.dispose()
            return url
        conn.exec_driver_sql(f"DROP ROLE IF EXISTS {LIMITED}")
        conn.exec_driver_sql(f"CREATE ROLE {LIMITED} LOGIN")
        conn.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {LIMITED}")
        conn.exec_driver_sql(f"REVOKE INSERT ON {EVENTS} FROM {LIMITED}")
    engine.dispose()
    return str(sa.make_url(url).set(username=LIMITED))


@pytest.mark.parametrize(
    "url_fixture, how",
    [("sqlite_url", "dropped"), ("postgres_url", "dropped"), ("mysql_url", "dropped"), ("postgres_url", "revoked")],
)
def test_a_failure_every_document_meets_stops_the_load_and_says_where(
    project: Path, url_fixture: str, how: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(url_fixture)
    upgraded = run_schemarel(project, "upgrade", "--db", url)
    assert upgraded.returncode == 0, upgraded.stderr
    load_url = _unusable_events(url, how)
    admin = sa.create_engine(url, poolclass=sa.pool.NullPool)
    words = "the database lacks the models' tables" if how == "dropped" else "permission denied"

    @SETTINGS
    @given(
        st.lists(st.sampled_from(["plain", "plain", "plain", "events", "bad"]), min_size=1, max_size=30).filter(
            lambda kinds: "events" in kinds
        ),
        st.integers(1, 5),
    )
    def load(kinds: list[str], batch_size: int) -> None:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DELETE FROM {ROOT}")
        seqs = [next(SEQ) for _ in kinds]
        source = project / "in.ndjson"
        source.write_text("".join(line(k, n) + "\n" for k, n in zip(kinds, seqs, strict=True)), encoding="utf-8")
        rejects = project / "in.ndjson.rejects.ndjson"
        rejects.unlink(missing_ok=True)
        result = run_schemarel(project, "load", str(source), "--schema", "reading", "--db", load_url,
                               "--batch-size", str(batch_size))  # fmt: skip
        through = expected_through(kinds, batch_size)
        assert through is not None
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert words in result.stderr
        loaded = [n for i, (k, n) in enumerate(zip(kinds, seqs, strict=True), 1) if k == "plain" and i <= through]
        if loaded:
            assert f"lines 1 to {through:,} are loaded" in result.stderr, result.stderr
            assert f"the lines after {through:,} are not" in result.stderr
            assert re.search(
                rf"`tail -n \+{through + 1} \S+in.ndjson \| schemarel load - --schema reading", result.stderr
            )
        else:
            assert "nothing was loaded" in result.stderr, result.stderr
        with admin.connect() as conn:  # (export reads the events table too, which is gone or not ours)
            stored = sorted(conn.exec_driver_sql(f"SELECT seq FROM {ROOT}").scalars())
        assert stored == loaded
        # the rejects file lists the bad lines up to `through`, none after (those are to be loaded again)
        listed = [json.loads(r)["line"] for r in rejects.read_text().splitlines()] if rejects.exists() else []
        assert listed == [i for i, k in enumerate(kinds, 1) if k == "bad" and i <= through]

    try:
        load()
    finally:
        admin.dispose()


def test_a_read_only_sqlite_database_loads_nothing_and_says_so(project: Path, tmp_path: Path) -> None:
    database = tmp_path / "ro.db"
    url = f"sqlite:///{database}"
    assert run_schemarel(project, "upgrade", "--db", url).returncode == 0
    source = project / "in.ndjson"
    source.write_text("".join(line("plain", n) + "\n" for n in range(1, 2001)), encoding="utf-8")
    result = run_schemarel(project, "load", str(source), "--schema", "reading", "--batch-size", "100",
                           "--db", f"sqlite:///file:{database}?mode=ro&uri=true")  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "nothing was loaded" in result.stderr and "readonly database" in result.stderr
    assert not (project / "in.ndjson.rejects.ndjson").exists()  # no line is blamed for it


def test_the_store_raises_write_refused_on_a_read_only_database(project: Path, tmp_path: Path) -> None:
    from schemarel import Store, WriteRefused

    database = tmp_path / "ro-store.db"
    assert run_schemarel(project, "upgrade", "--db", f"sqlite:///{database}").returncode == 0
    with Store(f"sqlite:///file:{database}?mode=ro&uri=true", "reading", source=project / "generated") as store:
        with pytest.raises(WriteRefused, match="readonly database"):
            store.create({"seq": 1})
        with pytest.raises(WriteRefused, match="readonly database"):
            store.create_many([{"seq": n} for n in range(3)])


@pytest.mark.parametrize("url_fixture", ["sqlite_url", "postgres_url"])
def test_ctrl_c_keeps_the_batches_committed_and_says_which_lines_they_are(
    project: Path, url_fixture: str, request: pytest.FixtureRequest
) -> None:
    """SIGINT while the load waits for more input (stdin held open): the batches written so far stay, and
    the message counts them; the lines of the batch being read are not loaded."""
    url = request.getfixturevalue(url_fixture)
    assert run_schemarel(project, "upgrade", "--db", url).returncode == 0
    kinds = ["plain"] * 9 + ["bad"] + ["plain"] * 5  # batches of 4: lines 1-4, 5-8, 9-13 (bad 10), 14-15…
    load = subprocess.Popen(
        [sys.executable, "-m", "schemarel", "load", "-", "--schema", "reading", "--db", url, "--batch-size", "4"],
        cwd=project, stdin=subprocess.PIPE, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    assert load.stdin is not None
    load.stdin.write("".join(line(k, n) + "\n" for n, k in enumerate(kinds, 1)))
    load.stdin.flush()
    admin = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the first three batches committed; the fourth waits for a 4th line
            with admin.connect() as conn:
                if conn.exec_driver_sql(f"SELECT count(*) FROM {ROOT}").scalar_one() == 12:
                    break
            time.sleep(0.1)
        time.sleep(0.3)
        load.send_signal(signal.SIGINT)
        _, err = load.communicate(timeout=60)
        with admin.connect() as conn:
            stored = sorted(conn.exec_driver_sql(f"SELECT seq FROM {ROOT}").scalars())
    finally:
        load.kill()
        admin.dispose()
    assert load.returncode == 1 and "Traceback" not in err, err
    assert "12 reading documents loaded before it was interrupted: lines 1 to 13 are loaded or listed in" in err
    assert "the lines after 13 are not" in err
    assert stored == [n for n in range(1, 14) if n != 10]
    rejects = [json.loads(r)["line"] for r in (project / "rejects.ndjson").read_text().splitlines()]
    assert rejects == [10]


def test_a_value_error_of_the_load_itself_is_not_blamed_on_the_database(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ValueError raised by the command's own work (a fault injected in the loader) is worded as itself: it
    used to read `sqlite:///….db: ValueError: …`, which sent the user to the database."""
    from click.testing import CliRunner
    from schemarel.cli.main import main
    from schemarel.runtime.ndjson import Loader

    url = f"sqlite:///{project / 'db.sqlite'}"
    assert run_schemarel(project, "upgrade", "--db", url).returncode == 0
    (project / "in.ndjson").write_text(line("plain", 1) + "\n", encoding="utf-8")

    def broken(self: Loader, lines: object, first: int = 1) -> None:
        raise ValueError("the loader's own fault")

    monkeypatch.setattr(Loader, "run", broken)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["load", "in.ndjson", "--schema", "reading", "--db", url])
    assert result.exit_code == 1
    assert "error: ValueError: the loader's own fault" in result.output
    assert "sqlite:" not in result.output


@pytest.mark.parametrize("url_fixture", ["sqlite_url", "postgres_url"])
def test_a_stop_after_batches_the_database_refused_whole_says_where_to_resume(
    project: Path, url_fixture: str, request: pytest.FixtureRequest
) -> None:
    """Batches whose every document the database refused (each one listed in the reject file) are lines done
    all the same: Ctrl-C after them said "nothing was loaded", hiding that those lines are listed and where to
    load again from. For batches of lines already stored (a unique index refuses them) and unparsable lines,
    the message names the lines listed and the `tail` that loads the rest."""
    url = request.getfixturevalue(url_fixture)
    assert run_schemarel(project, "upgrade", "--db", url).returncode == 0
    admin = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE UNIQUE INDEX uq_test_seq ON {ROOT} (seq)")
    stored = project / "stored.ndjson"
    stored.write_text("".join(line("plain", n) + "\n" for n in range(1, 41)), encoding="utf-8")
    assert run_schemarel(project, "load", str(stored), "--schema", "reading", "--db", url).returncode == 0

    @SETTINGS
    @given(  # at least one whole batch, so that the load is past its start when the signal comes
        st.lists(st.sampled_from(["dup", "dup", "bad"]), min_size=4, max_size=12).filter(lambda k: k.count("dup") >= 4),
        st.integers(1, 4),
    )
    def stop(kinds: list[str], batch_size: int) -> None:
        documents = [i for i, k in enumerate(kinds, 1) if k == "dup"]
        full = len(documents) - len(documents) % batch_size
        through = documents[full - 1] if full else 0  # the last line of the last whole batch
        rejects = project / "rejects.ndjson"
        rejects.unlink(missing_ok=True)
        load = subprocess.Popen(
            [sys.executable, "-m", "schemarel", "load", "-", "--schema", "reading", "--db", url,
             "--batch-size", str(batch_size)],
            cwd=project, stdin=subprocess.PIPE, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )  # fmt: skip
        assert load.stdin is not None
        load.stdin.write("".join(line("plain" if k == "dup" else k, n) + "\n" for n, k in enumerate(kinds, 1)))
        load.stdin.flush()
        try:
            _wait_idle(load.pid)  # the batches written, the load waits for the next line on stdin
            load.send_signal(signal.SIGINT)
            _, err = load.communicate(timeout=60)
        finally:
            load.kill()
        assert load.returncode == 1 and "Traceback" not in err, err
        listed = list(range(1, through + 1))  # every line up to `through` is refused, one way or another
        assert sorted(_listed(rejects)) == listed  # a batch lists its unparsable lines first
        assert f"no reading document loaded before it was interrupted: lines 1 to {through:,} are listed" in err
        assert f"the lines after {through:,} are not" in err, err
        assert re.search(rf"`tail -n \+{through + 1} - \| schemarel load - --schema reading", err) is None  # stdin

    try:
        stop()
    finally:
        admin.dispose()


def _wait_idle(pid: int) -> None:
    """Until process `pid` has used no CPU for 0.6 s (Linux's /proc): blocked, here on reading stdin."""
    deadline, still, last = time.monotonic() + 60, 0, ""
    while time.monotonic() < deadline and still < 3:
        time.sleep(0.2)
        used = " ".join(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11:13])
        still, last = (still + 1 if used == last else 0), used


def _listed(rejects: Path) -> list[int]:
    """The line numbers a reject file lists (so far)."""
    text = rejects.read_text(encoding="utf-8") if rejects.exists() else ""
    return [json.loads(r)["line"] for r in text.splitlines() if r.endswith("}")]
