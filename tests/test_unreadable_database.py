"""`upgrade --db sqlite:///FILE` on a file that is no database says its revision cannot be read, and keeps it.

The state line read "the database is at revision base (no revision)" for any failure to read
`alembic_version`: for a file that is not a database, that told the user the file was an empty database. For a
file that begins with SQLite's header and is no database after it (the command refuses any other file before
connecting: tests/test_foreign_sqlite.py), the command exits 1 without a traceback, says the revision is
unknown and why, never "base", and leaves every byte as it was.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import copy_project, run_schemarel
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

HEADER = b"SQLite format 3\x00"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("unreadable"))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=127, max_size=4096).map(lambda b: HEADER + b))
@example(HEADER + b'{"orderNo": "ORD-000001"}\n' * 40)
def test_a_file_that_is_no_database_is_said_unreadable_and_kept(project: Path, content: bytes) -> None:
    target = project / "not-a-database.ndjson"
    target.write_bytes(content)
    result = run_schemarel(project, "upgrade", "--db", f"sqlite:///{target}")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "revision base" not in result.stderr, result.stderr
    assert "the database is at revision unknown (its revision cannot be read: file is not a database)" in (
        result.stderr
    )
    assert target.read_bytes() == content
