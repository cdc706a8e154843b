"""Revision history: hand-written revisions kept and chained, history.sum integrity, small diffs per change."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import REPO, USERS_DDL, committed_revisions, revision_after, run_schemarel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemarel.errors import HistoryError
from schemarel.project.history import SUM_FILE, DiskSource, parse_sum, read_history

HEAD = committed_revisions()[-1]  # the committed history's head: these tests hold for any head
# the newest generated revision (with a snapshot and a doc), which a hand-written head may follow
GENERATED_HEAD = max(p.stem for p in (REPO / "generated/migrations/snapshots").glob("[0-9]*.json"))
NEXT, AFTER_NEXT = revision_after(HEAD), revision_after(HEAD, 2)
EPOCH = {"SOURCE_DATE_EPOCH": "1709985600"}
DATA_MIGRATION = """def upgrade() -> None:
    op.execute("UPDATE customer_profiles SET first_name = upper(first_name)")


def downgrade() -> None:
    pass  # the original spelling is not kept
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repository's schemas/ and generated/ (the committed history, up to HEAD)."""
    root = tmp_path / "project"
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(REPO / "generated", root / "generated", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root)  # its ruff settings lay out the generated Python
    return root


def ok(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = run_schemarel(root, *args, env=EPOCH)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def add_property(root: Path, name: str, schema: str = "customer") -> None:
    """One optional string property, inserted as a text line (as a person edits the file)."""
    path = root / "schemas" / f"{schema}.schema.json"
    text = path.read_text()
    path.write_text(text.replace('"properties": {', f'"properties": {{\n    "{name}": {{"type": "string"}},', 1))


def fill_body(script: Path) -> None:
    text = script.read_text()
    script.write_text(text[: text.index("def upgrade()")] + DATA_MIGRATION)


def test_hand_written_revision_is_kept_chained_and_runs(project: Path) -> None:
    made = ok(project, "revision", "-m", "uppercase first names")
    script = project / f"generated/migrations/versions/{NEXT}_uppercase_first_names.py"
    assert str(script) in made.stdout and f'down_revision = "{HEAD}"' in script.read_text()
    fill_body(script)
    written = script.read_bytes()
    ok(project, "check")

    add_property(project, "nickname")
    assert f"new revision {AFTER_NEXT}" in ok(project, "generate").stdout
    new = next((project / "generated/migrations/versions").glob(f"{AFTER_NEXT}_*.py")).read_text()
    assert f'down_revision = "{NEXT}"' in new and re.search(r'add_column\(\s*sa\.Column\(\s*"nickname"', new)  # ruff
    ok(project, "check")
    assert script.read_bytes() == written
    index = (project / "generated/docs/index.md").read_text()
    row = f"| `{NEXT}` | uppercase first names | hand-written: `migrations/versions/{NEXT}_uppercase_first_names.py` |"
    assert row in index

    db = project / "app.db"
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.exec_driver_sql(USERS_DDL)
    ok(project, "upgrade", HEAD, "--db", f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO customer_profiles (id, first_name, last_name, marketing_emails_enabled, two_factor_enabled)"
            " VALUES ('a', 'ada', 'l', 0, 0)"
        )
    ok(project, "upgrade", "--db", f"sqlite:///{db}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT first_name, nickname FROM customer_profiles").one() == ("ADA", None)
    engine.dispose()


def test_plain_alembic_revision_is_kept_and_recorded(project: Path) -> None:
    ok(project, "generate")  # script.py.mako is generated
    made = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", "generated/alembic.ini", "revision", "-m", "grant read"],
        cwd=project, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    (script,) = (project / "generated/migrations/versions").glob("*_grant_read.py")
    stale = run_schemarel(project, "check")
    assert stale.returncode == 1 and "should not be there" not in stale.stderr
    assert f"+{script.stem.split('_')[0]} migrations/versions/{script.name} manual" in stale.stdout
    ok(project, "generate")
    ok(project, "check")
    add_property(project, "nickname")
    ok(project, "generate")
    new = next((project / "generated/migrations/versions").glob(f"{NEXT}_*.py")).read_text()
    assert f'down_revision = "{script.stem.split("_")[0]}"' in new
    assert script.is_file()


def failing_check(root: Path) -> str:
    result = run_schemarel(root, "check")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_check_names_an_edited_removed_or_reordered_revision(project: Path) -> None:
    ok(project, "revision", "-m", "first by hand")
    ok(project, "revision", "-m", "second by hand")
    versions = project / "generated/migrations/versions"
    saved = {p: p.read_bytes() for p in (project / "generated").rglob("*") if p.is_file()}

    def restore() -> None:
        for path, data in saved.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        assert run_schemarel(project, "check").returncode == 0

    edited = next(versions.glob("0002_*.py"))
    edited.write_text(edited.read_text().replace("def downgrade", "# tweak\ndef downgrade"))
    message = failing_check(project)
    assert f"{edited.relative_to(project)}: revision 0002 was edited" in message
    generate = run_schemarel(project, "generate")
    assert generate.returncode == 1 and "was edited" in generate.stderr  # generate does not launder it
    restore()

    doc = next((project / "generated/docs/migrations").glob(f"{GENERATED_HEAD}_*.md"))
    doc.write_text(doc.read_text() + "\nA note.\n")
    assert f"{doc.relative_to(project)}: revision {GENERATED_HEAD} was edited" in failing_check(project)
    restore()

    # the newest generated revision's files go, and the revision after it is chained to the one before it
    chain = [*committed_revisions(), NEXT, AFTER_NEXT]
    at = chain.index(GENERATED_HEAD)
    removed, follower = next(versions.glob(f"{GENERATED_HEAD}_*.py")), next(versions.glob(f"{chain[at + 1]}_*.py"))
    for path in (removed, project / f"generated/migrations/snapshots/{GENERATED_HEAD}.json", doc):
        path.unlink()
    follower.write_text(follower.read_text().replace(f'"{GENERATED_HEAD}"', f'"{chain[at - 1]}"'))
    missing = f"generated/migrations/snapshots/{GENERATED_HEAD}.json: file of revision {GENERATED_HEAD} is missing"
    assert missing in failing_check(project)
    restore()

    first, second = versions / f"{NEXT}_first_by_hand.py", versions / f"{AFTER_NEXT}_second_by_hand.py"
    first.write_text(first.read_text().replace(f'down_revision = "{HEAD}"', f'down_revision = "{AFTER_NEXT}"'))
    second.write_text(second.read_text().replace(f'down_revision = "{NEXT}"', f'down_revision = "{HEAD}"'))
    message = failing_check(project)
    assert f"revision {NEXT} was reordered" in message and str(first.relative_to(project)) in message
    restore()

    second.unlink()
    assert f"{second.relative_to(project)}: hand-written revision {AFTER_NEXT} was removed" in failing_check(project)
    restore()

    edited.write_text(edited.read_text().replace("def downgrade", "# a deliberate fix\ndef downgrade"))
    assert "was edited" in failing_check(project)
    rehashed = ok(project, "generate", "--rehash")  # accepted on purpose, as `atlas migrate hash`
    assert "updated  generated/migrations/history.sum" in rehashed.stdout
    ok(project, "check")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("recorded") / "generated"
    shutil.copytree(REPO / "generated", out, ignore=shutil.ignore_patterns("__pycache__"))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_edit_of_a_recorded_file_is_named(recorded: Path, data: st.DataObject) -> None:
    """Whatever bytes change wherever in a committed revision's file, the history check names that file."""
    # generated revisions' files, recorded by digest (a hand-written one is recorded by name: it may be edited)
    sums = parse_sum(DiskSource(recorded), (recorded / SUM_FILE).read_bytes())
    entries = [rel for _, rel, digest in sums if digest != "manual"]
    rel = data.draw(st.sampled_from(entries))
    original = (recorded / rel).read_bytes()
    start = data.draw(st.integers(0, len(original)))
    end = data.draw(st.integers(start, min(len(original), start + 40)))
    edited = original[:start] + data.draw(st.binary(max_size=20)) + original[end:]
    if edited == original:
        edited = original + b"\n"
    (recorded / rel).write_bytes(edited)
    try:
        with pytest.raises(HistoryError) as caught:
            read_history(DiskSource(recorded))
        assert str(recorded / rel) in str(caught.value) and "was edited" in str(caught.value)
    finally:
        (recorded / rel).write_bytes(original)


def test_one_optional_property_makes_a_small_commit(project: Path) -> None:
    """Adding one optional string property changes at most ~120 lines outside the schema reference doc."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=project, env=env, capture_output=True, text=True, check=True).stdout

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "base")
    add_property(project, "nickname")
    ok(project, "generate")
    git("add", "-A")
    sizes = {}
    for line in git("diff", "--cached", "--numstat").splitlines():
        added, removed, path = line.split("\t")
        sizes[path] = int(added) + int(removed)
    outside = {p: n for p, n in sizes.items() if p != "generated/docs/customer.md"}
    assert sum(outside.values()) <= 120, sizes
    assert sizes[f"generated/migrations/snapshots/{NEXT}.json"] <= 15, sizes
    doc = next((project / "generated/docs/migrations").glob(f"{NEXT}_*.md")).read_text()
    assert "Added column `customer_profiles.nickname`" in doc and "Column Reference" not in doc


def test_check_reports_name_the_edited_file_for_machines(project: Path) -> None:
    ok(project, "generate")
    edited = next((project / "generated/migrations/versions").glob("0001_*.py"))
    edited.write_text(edited.read_text() + "# later\n")
    report = run_schemarel(project, "check", "--format", "json")
    assert report.returncode == 1
    error = json.loads(report.stdout)["error"]
    assert error["file"] == str(edited.relative_to(project)) and "revision 0001 was edited" in error["message"]
    github = run_schemarel(project, "check", "--format", "github")
    assert github.returncode == 1 and f"::error file={edited.relative_to(project)}," in github.stdout
