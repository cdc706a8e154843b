"""The package's layering (pyproject `[tool.importlinter]`): no stage imports a higher one, no import cycles."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "generator" / "schemarel"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(source_root: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(source_root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )


def test_layers_contract_is_kept(tmp_path: Path) -> None:
    result = _lint_imports(ROOT / "generator", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def _copy_with(tmp_path: Path, module: str, line: str) -> Path:
    root = tmp_path / "src"
    shutil.copytree(PACKAGE, root / "schemarel", ignore=shutil.ignore_patterns("__pycache__"))
    target = root / "schemarel" / module
    target.write_text(target.read_text() + f"\n{line}\n")
    return root


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    root = _copy_with(tmp_path, "sql/types.py", "from schemarel.render import jinja  # noqa")
    result = _lint_imports(root, tmp_path)
    assert result.returncode == 1
    assert "schemarel.sql.types -> schemarel.render.jinja" in result.stdout


def test_a_cycle_between_siblings_breaks_the_contract(tmp_path: Path) -> None:
    root = _copy_with(tmp_path, "sql/checks.py", "from schemarel.sql import metadata  # noqa")
    result = _lint_imports(root, tmp_path)
    assert result.returncode == 1
    assert "No cycles are allowed in schemarel.sql" in result.stdout


def test_every_stage_says_what_it_may_import() -> None:
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = init.read_text().split('"""')[1]
        assert "May import:" in doc, f"{init.parent.name}/__init__.py: say what the stage may import"
