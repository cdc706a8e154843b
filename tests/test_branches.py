"""Two git branches that each generated a revision, merged (or rebased) for real; `generate --rebase` untangles them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import REPO, USERS_DDL, committed_revisions, revision_after, run_schemarel

# the revisions the branches write after the committed head (whatever it is)
R1, R2, R3 = (revision_after(committed_revisions()[-1], n) for n in (1, 2, 3))
ENV = {"SOURCE_DATE_EPOCH": "1709985600"}
GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "GIT_EDITOR": "true"}  # fmt: skip


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, env=GIT_ENV, capture_output=True, text=True, check=check)


def schemarel(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_schemarel(root, *args, env=ENV)


def add_property(root: Path, schema: str, name: str) -> None:
    path = root / "schemas" / f"{schema}.schema.json"
    text = path.read_text()
    path.write_text(text.replace('"properties": {', f'"properties": {{\n    "{name}": {{"type": "string"}},', 1))


def commit_generated(root: Path, message: str) -> None:
    result = schemarel(root, "generate")
    assert result.returncode == 0, result.stderr
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


@pytest.fixture
def diverged(tmp_path: Path) -> Path:
    """main and feature each generated revision R1 after the committed head."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(REPO / "generated", root / "generated", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root)  # its ruff settings lay out the generated Python
    git(root, "init", "-q", "-b", "main")
    assert schemarel(root, "generate").returncode == 0
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-q", "-b", "feature")
    add_property(root, "customer", "nickname")
    commit_generated(root, "nickname")
    git(root, "checkout", "-q", "main")
    add_property(root, "profile", "bio")
    commit_generated(root, "bio")
    return root


def upgraded(root: Path) -> sa.Engine:
    """An SQLite database with the users table, upgraded to head with `schemarel upgrade`."""
    url = f"sqlite:///{root / 'app.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(USERS_DDL)
    assert schemarel(root, "upgrade", "--db", url).returncode == 0
    return engine


def main_history(root: Path) -> dict[str, str]:
    listing = git(root, "ls-tree", "-r", "--name-only", "main", "generated/migrations", "generated/docs/migrations")
    return {p: git(root, "show", f"main:{p}").stdout for p in listing.stdout.split() if R1 in p}


@pytest.mark.parametrize("how", ["merge", "rebase"])
def test_rebase_moves_this_branchs_revision_after_the_other(diverged: Path, how: str) -> None:
    root = diverged
    theirs = main_history(root)
    git(root, "checkout", "-q", "feature")
    joined = git(root, "merge", "main", check=False) if how == "merge" else git(root, "rebase", "main", check=False)
    assert joined.returncode != 0  # both wrote snapshots/R1.json and appended to history.sum
    conflicted = git(root, "diff", "--name-only", "--diff-filter=U").stdout.split()
    assert {f"generated/migrations/snapshots/{R1}.json", "generated/migrations/history.sum"} <= set(conflicted)

    for command in ("check", "generate"):
        refused = schemarel(root, command)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        assert f"{R1}_add_column_bio.py" in refused.stderr and f"{R1}_add_column_nickname.py" in refused.stderr
        assert "schemarel generate --rebase" in refused.stderr

    moved = schemarel(root, "generate", "--rebase")
    assert moved.returncode == 0, moved.stderr
    assert f"this branch's revision {R1} (add column nickname) after the other branch's {R1}" in moved.stdout
    assert f"new revision {R2}: add column nickname" in moved.stdout
    for path, text in theirs.items():  # the other branch's files, byte for byte
        assert (root / path).read_text() == text, path
    versions = root / "generated/migrations/versions"
    assert not list(versions.glob(f"{R1}_add_column_nickname.py"))
    script = (versions / f"{R2}_add_column_nickname.py").read_text()
    assert f'down_revision = "{R1}"' in script and '"nickname"' in script and "bio" not in script
    doc = (root / f"generated/docs/migrations/{R2}_add_column_nickname.md").read_text()
    assert f"after `{R1}`" in doc and f"schemarel downgrade {R1}" in doc

    git(root, "add", "-A")
    finished = git(root, "commit", "-qm", "merge main") if how == "merge" else git(root, "rebase", "--continue")
    assert finished.returncode == 0, finished.stderr
    assert schemarel(root, "check").returncode == 0

    engine = upgraded(root)
    inspector = sa.inspect(engine)
    assert "nickname" in {c["name"] for c in inspector.get_columns("customer_profiles")}
    assert "bio" in {c["name"] for c in inspector.get_columns("profiles")}
    engine.dispose()


def test_rebase_outside_a_merge_says_what_to_do(diverged: Path) -> None:
    nothing = schemarel(diverged, "generate", "--rebase")
    assert nothing.returncode == 2 and "nothing to rebase" in nothing.stderr
    for path in git(diverged, "ls-tree", "-r", "--name-only", "feature", "generated").stdout.split():
        if R1 in path and not path.endswith(".json"):  # copied over by hand, not merged
            (diverged / path).write_text(git(diverged, "show", f"feature:{path}").stdout)
    result = schemarel(diverged, "generate", "--rebase")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "git merge" in result.stderr


def test_rebase_moves_hand_written_revisions_after_the_new_one(diverged: Path) -> None:
    root = diverged
    git(root, "checkout", "-q", "feature")
    assert schemarel(root, "revision", "-m", "fill nicknames").returncode == 0
    script = root / f"generated/migrations/versions/{R2}_fill_nicknames.py"
    text = script.read_text()
    body = 'def upgrade() -> None:\n    op.execute("UPDATE customer_profiles SET nickname = first_name")\n'
    script.write_text(text[: text.index("def upgrade()")] + body + text[text.index("\n\ndef downgrade()") :])
    git(root, "add", "-A")
    git(root, "commit", "-qm", "fill nicknames")
    assert git(root, "merge", "main", check=False).returncode != 0

    moved = schemarel(root, "generate", "--rebase")
    assert moved.returncode == 0, moved.stderr
    versions = root / "generated/migrations/versions"
    assert not script.exists()
    rechained = (versions / f"{R3}_fill_nicknames.py").read_text()
    assert f'revision = "{R3}"\ndown_revision = "{R2}"\n' in rechained and f"Revises: {R2}" in rechained
    assert body in rechained  # the body, as written
    assert f'down_revision = "{R1}"' in (versions / f"{R2}_add_column_nickname.py").read_text()
    git(root, "add", "-A")
    git(root, "commit", "-qm", "merge main")
    assert schemarel(root, "check").returncode == 0
    upgraded(root).dispose()
