"""Shared fixtures: real database servers (one fresh database per test), project copies, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from hypothesis import settings
from schemarel.cli.main import main

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SCHEMAREL_SHARED", REPO.parent / "shared"))  # a worktree elsewhere names it
CI = bool(os.environ.get("CI"))
PG_ADMIN_URL = os.environ.get("SCHEMAREL_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MYSQL_ADMIN_URL = os.environ.get("SCHEMAREL_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306/")

# With CI set, each property test draws the examples its own seed gives (hashed from the test), the same on every
# run until the test or Hypothesis changes: the gate says whether the code broke, not whether a new draw came up.
# Elsewhere every run draws afresh, and what it finds is printed with the blob that replays it (`@reproduce_failure`).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if CI else "dev")


def committed_revisions() -> list[str]:
    """The ids of the repository's committed history (generated/), oldest first; the last is the head.

    Tests about the history in general read the head here, so that a new committed revision breaks none of them.
    """
    from schemarel.project.history import DiskSource, read_history

    return [r.id for r in read_history(DiskSource(REPO / "generated")).revisions]


def revision_after(rev: str, steps: int = 1) -> str:
    """The id `generate` (or `revision`) gives the revision `steps` after `rev`."""
    return f"{int(rev) + steps:04d}"


def require_shared(path: Path) -> Path:
    """`path` under ../shared (the project's seeds and corpus, beside the repository in CI), or a skip saying so
    in a clone without it (a failure when CI is set: CI has ../shared, and these tests must run there)."""
    if path.exists():
        return path
    reason = f"needs {path} (../shared is not beside this clone)"
    if CI:
        pytest.fail(f"{reason} (CI is set: CI has ../shared)")
    pytest.skip(reason)


def _admin_engine(url: str, what: str) -> sa.Engine:
    """An AUTOCOMMIT engine on the server, or a skip (a failure when CI is set) if it is not there."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect():
            pass
    except Exception as exc:  # any driver or connection error means "no server here"
        reason = f"{what} is not reachable at {url}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
        if CI:
            pytest.fail(f"{reason} (CI is set: a server test may not skip)")
        pytest.skip(reason)
    return engine


@pytest.fixture(scope="session")
def postgres_server() -> sa.Engine:
    return _admin_engine(PG_ADMIN_URL, "PostgreSQL")


@pytest.fixture(scope="session")
def mysql_server() -> sa.Engine:
    return _admin_engine(MYSQL_ADMIN_URL, "MariaDB/MySQL")


def _fresh_name() -> str:
    return f"schemarel_test_{uuid.uuid4().hex[:12]}"


def _fresh_database(
    server: sa.Engine, quote: str, options: str = "", drop_options: str = ""
) -> Generator[str, None, None]:
    """Create a uniquely named database on `server`, yield its URL, drop it afterwards."""
    name = _fresh_name()
    with server.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {quote}{name}{quote}{options}")
    try:
        yield server.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quote}{name}{quote}{drop_options}")


@pytest.fixture
def postgres_url(postgres_server: sa.Engine) -> Iterator[str]:
    """A new, empty PostgreSQL database for this test, dropped afterwards."""
    yield from _fresh_database(postgres_server, '"', drop_options=" WITH (FORCE)")


@pytest.fixture
def mysql_url(mysql_server: sa.Engine) -> Iterator[str]:
    """A new, empty MariaDB/MySQL database for this test, dropped afterwards."""
    yield from _fresh_database(mysql_server, "`", options=" CHARACTER SET utf8mb4")


USERS_DDL = "CREATE TABLE users (id VARCHAR(64) PRIMARY KEY, email VARCHAR(320) NOT NULL)"


def create_users_table(url: str) -> None:
    """The `users` table of "another system" (an auth library) that profile.schema.json references."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(USERS_DDL)
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test using it runs once on SQLite and once on PostgreSQL."""
    return str(request.getfixturevalue(f"{'postgres' if request.param == 'postgresql' else 'sqlite'}_url"))


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def three_db_url(request: pytest.FixtureRequest) -> str:
    """Each test using it runs on SQLite, PostgreSQL and MariaDB."""
    return str(request.getfixturevalue({"postgresql": "postgres_url"}.get(request.param, f"{request.param}_url")))


@pytest.fixture
def app_db_url(db_url: str) -> str:
    """`db_url` holding the `users` table the generated migrations expect to find (SQLite and PostgreSQL)."""
    create_users_table(db_url)
    return db_url


def copy_project(base: Path) -> Path:
    """`base/project`: a copy of this repository's schemas/, generated/ and pyproject.toml (its ruff settings lay
    out the generated Python), as a user's project would hold them."""
    root = base / "project"
    root.mkdir()
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(REPO / "generated", root / "generated", ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of this repository's schemas/ and generated/, as a user's project would hold them."""
    return copy_project(tmp_path)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> object:
    """Run `schemarel ARGS` in-process from a directory: `cli(root, "check")` → click Result."""

    def run(cwd: Path, *args: str) -> Result:
        monkeypatch.chdir(cwd)
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run


def run_schemarel(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `schemarel` command in a subprocess (exit codes, stderr, no traceback)."""
    return subprocess.run(
        [sys.executable, "-m", "schemarel", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def tree(root: Path) -> dict[str, bytes]:
    """Every file below `root` (posix path relative to it → bytes), bytecode caches left out."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def edit_schema(project: Path, change: Callable[[dict[str, Any]], None], name: str = "customer") -> None:
    """Load a schema of the project copy, let `change` mutate it, write it back."""
    path = project / "schemas" / f"{name}.schema.json"
    contents = json.loads(path.read_text(encoding="utf-8"))
    change(contents)
    path.write_text(json.dumps(contents, indent=2) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def mermaid_cli() -> str:
    """The mermaid-cli executable, with a Chromium for it (a skip without them; a failure when CI is set)."""
    from schemarel.render.mermaid import find_browser, find_mmdc

    mmdc, browser = find_mmdc(), find_browser()
    if mmdc is None or browser is None:
        reason = f"mermaid-cli (mmdc: {mmdc}) and Chromium ({browser}) are needed; .ci/run installs both"
        if CI:
            pytest.fail(f"{reason} (CI is set: a browser test may not skip)")
        pytest.skip(reason)
    return mmdc


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging (SIGALRM: pytest runs tests in the main thread). A guard against work that
    never ends (a hang, exponential time), with a bound far above the work's own time: no timing assertion."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
