"""The generated tree in the repository is what the schemas produce."""

from pathlib import Path

from conftest import run_schemarel


def test_committed_generated_is_current(project: Path) -> None:
    result = run_schemarel(project, "check")
    assert result.returncode == 0, result.stdout + result.stderr
