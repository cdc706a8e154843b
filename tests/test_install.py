"""A non-editable `pip install .` into a fresh virtual environment works on its own, templates included."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, create_users_table


def _run(cmd: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    # nothing of this checkout may leak in through the environment
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.slow
def test_pip_install_gives_a_working_schemarel(tmp_path: Path, project: Path) -> None:
    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    assert made.returncode == 0, made.stderr
    bin_dir = venv / "bin"
    installed = _run([str(bin_dir / "pip"), "install", "--quiet", str(REPO)], tmp_path, timeout=600)
    assert installed.returncode == 0, installed.stderr

    probe = "import schemarel.render.jinja as r; print(r.__file__); print(r.shipped_templates())"
    where = _run([str(bin_dir / "python"), "-c", probe], tmp_path)
    module_file, templates = where.stdout.split()
    site_packages = str(venv / "lib")
    assert module_file.startswith(site_packages) and templates.startswith(site_packages), where.stdout
    assert (Path(templates) / "models.py.j2").is_file()

    check = _run([str(bin_dir / "schemarel"), "check"], project)
    assert (check.returncode, check.stderr) == (0, ""), check.stdout
    # the migrations and models import the installed package too
    create_users_table(f"sqlite:///{tmp_path / 'app.db'}")  # profile.schema.json references it
    upgrade = _run([str(bin_dir / "schemarel"), "upgrade", "--db", f"sqlite:///{tmp_path / 'app.db'}"], project)
    assert upgrade.returncode == 0, upgrade.stderr
    assert "Running upgrade  -> 0001" in upgrade.stderr
