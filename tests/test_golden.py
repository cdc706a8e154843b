"""The committed generated/ is the golden record: regenerating it through the real CLI gives it back byte for byte."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

from conftest import REPO, run_schemarel, tree

HISTORY = ("migrations/versions/", "migrations/snapshots/", "docs/migrations/")
# 2024-03-09 12:00 UTC: a date no committed revision carries, so a date taken from elsewhere shows
EPOCH = {"SOURCE_DATE_EPOCH": "1709985600"}
EPOCH_DATE = "2024-03-09"


def is_history(path: str) -> bool:
    return path.startswith(HISTORY)


def tree_differences(expected: dict[str, bytes], actual: dict[str, bytes]) -> str:
    """Missing, extra and changed files (with a diff), or "" when the trees are equal."""
    report = [f"missing: {p}" for p in sorted(expected.keys() - actual.keys())]
    report += [f"extra: {p}" for p in sorted(actual.keys() - expected.keys())]
    for path in sorted(expected.keys() & actual.keys()):
        if expected[path] != actual[path]:
            diff = difflib.unified_diff(
                expected[path].decode().splitlines(), actual[path].decode().splitlines(), "committed", "regenerated"
            )
            report.append(f"changed: {path}\n" + "\n".join(diff))
    return "\n".join(report)


def test_regenerating_everything_but_history_gives_the_committed_tree(project: Path) -> None:
    out = project / "generated"
    removed = 0
    for path in sorted(out.rglob("*"), reverse=True):
        rel = path.relative_to(out).as_posix()
        if path.is_file() and not is_history(rel):
            path.unlink()
            removed += 1
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    assert removed >= 6, "the copy should have lost its models, docs, env.py and alembic.ini"

    result = run_schemarel(project, "generate", env=EPOCH)

    assert result.returncode == 0, result.stderr
    assert "new revision" not in result.stdout
    assert tree_differences(tree(REPO / "generated"), tree(out)) == ""


def _without(text: bytes, prefixes: tuple[str, ...]) -> list[str]:
    return [line for line in text.decode().splitlines() if not line.startswith(prefixes)]


def test_from_empty_output_generate_is_idempotent(tmp_path: Path) -> None:
    shutil.copytree(REPO / "schemas", tmp_path / "schemas")
    shutil.copy(REPO / "pyproject.toml", tmp_path)  # its ruff settings lay out the generated Python
    out = tmp_path / "generated"

    first = run_schemarel(tmp_path, "generate", env=EPOCH)
    assert first.returncode == 0, first.stderr
    assert "new revision 0001" in first.stdout
    after_first = tree(out)
    second = run_schemarel(tmp_path, "generate", env=EPOCH)
    assert second.returncode == 0, second.stderr
    assert "new revision" not in second.stdout
    assert tree(out) == after_first
    left = sorted(tmp_path.iterdir())
    assert left == [out, tmp_path / "pyproject.toml", tmp_path / "schemas"], "no staging directory may be left behind"

    revision = next(v for k, v in after_first.items() if k.startswith("migrations/versions/0001_")).decode()
    assert f"Create Date: {EPOCH_DATE}" in revision
    doc = next(v for k, v in after_first.items() if k.startswith("docs/migrations/0001_")).decode()
    assert f"- _{EPOCH_DATE}_: Initial migration" in doc
    # the copy is not a git checkout, so no commit can be named
    assert "- **Generated from commit**: none" in doc
    # everything that does not depend on the history is what the repository holds
    committed = tree(REPO / "generated")
    for path in ("models/customer.py", "models/profile.py", "models/base.py", "migrations/env.py", "alembic.ini"):
        assert after_first[path] == committed[path], path


def test_schema_added_later_becomes_the_next_revision(tmp_path: Path) -> None:
    """The repository's own history: customer first (0001), profile added afterwards (0002)."""
    (tmp_path / "schemas").mkdir()
    shutil.copy(REPO / "schemas" / "customer.schema.json", tmp_path / "schemas")
    assert "new revision 0001" in run_schemarel(tmp_path, "generate", env=EPOCH).stdout
    shutil.copy(REPO / "schemas" / "profile.schema.json", tmp_path / "schemas")
    result = run_schemarel(tmp_path, "generate", env=EPOCH)
    assert "new revision 0002: add table profiles" in result.stdout, result.stdout + result.stderr
    revision = next((tmp_path / "generated/migrations/versions").glob("0002_*.py")).read_text(encoding="utf-8")
    assert 'down_revision = "0001"' in revision
    assert 'op.create_table(\n        "profiles",' in revision
    assert "customer_profiles" not in revision, "the new revision holds only the difference"


def test_output_depends_on_no_hash_seed_locale_timezone_or_directory(tmp_path: Path) -> None:
    runs = {
        # PYTHONUTF8=0 keeps Python from switching the C locale to UTF-8: any locale-encoded write would show
        "a": {"PYTHONHASHSEED": "0", "LC_ALL": "C", "PYTHONUTF8": "0", "TZ": "UTC"},
        "deeper/b": {"PYTHONHASHSEED": "12345", "LC_ALL": "C.UTF-8", "TZ": "Pacific/Kiritimati"},
    }
    trees = []
    for where, env in runs.items():
        root = tmp_path / where
        shutil.copytree(REPO / "schemas", root / "schemas")
        result = run_schemarel(root, "generate", env={**EPOCH, **env})
        assert result.returncode == 0, result.stderr
        trees.append(tree(root / "generated"))

    assert len(trees[0]) > 10
    assert tree_differences(trees[0], trees[1]) == ""
