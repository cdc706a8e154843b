"""The CI recipes users copy: the README's GitHub workflow and the pre-commit hooks run a working check."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml
from conftest import REPO


def _yaml_block(marker: str) -> object:
    readme = (REPO / "README.md").read_text()
    block = readme.split(marker, 1)[1].split("```", 1)[0]
    return yaml.safe_load(block)


def _run_entry(cli: Any, project: Path, command: str) -> int:
    program, *args = shlex.split(command)
    assert program == "schemarel"
    return int(cli(project, *args).exit_code)


def test_readme_workflow_runs_the_annotating_check(project: Path, cli: Any) -> None:
    workflow = _yaml_block("# .github/workflows/schemas.yml\n")
    assert isinstance(workflow, dict)
    steps = workflow["jobs"]["generated-is-current"]["steps"]
    (check,) = [s["run"] for s in steps if "schemarel check" in s.get("run", "")]
    assert check == "schemarel check --format github"
    assert _run_entry(cli, project, check) == 0
    assert "schemarel docs --site site" in [s.get("run") for s in workflow["jobs"]["docs-site"]["steps"]]


def test_pre_commit_hooks_run_the_check(project: Path, cli: Any) -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"schemarel-check", "schemarel-generate"}
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["pass_filenames"] is False
    assert _run_entry(cli, project, hooks["schemarel-check"]["entry"]) == 0
    (project / "generated/docs/index.md").write_text("edited by hand\n")
    assert _run_entry(cli, project, hooks["schemarel-check"]["entry"]) == 1
    assert _run_entry(cli, project, hooks["schemarel-generate"]["entry"]) == 0
    assert _run_entry(cli, project, hooks["schemarel-check"]["entry"]) == 0
