"""Commands run from a sub-folder of a project (`cd schemas && schemarel generate`) work on the project's
`schemas/`, `generated/` and SQLite file, lay the Python out with the project's ruff settings, and never
create a database or an output folder in the sub-folder; a sub-folder with a `schemas/` of its own keeps it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import run_schemarel

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = '[project]\nname = "app"\nversion = "0"\n\n[tool.ruff]\nline-length = 120\n'


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sub") / "app"
    (root / "schemas").mkdir(parents=True)
    shutil.copy(REPO / "schemas" / "customer.schema.json", root / "schemas")
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (root / "docs" / "deep").mkdir(parents=True)
    made = run_schemarel(root, "generate")
    assert made.returncode == 0, made.stderr
    return root


@pytest.mark.parametrize("where", ["schemas", "generated", "generated/migrations", "docs/deep"])
def test_check_and_generate_from_a_sub_folder_see_the_project(project: Path, where: str) -> None:
    before = {p: p.read_bytes() for p in (project / "generated").rglob("*") if p.is_file()}
    for command in ("check", "generate"):
        result = run_schemarel(project / where, command)
        if command == "generate" and where.startswith("generated"):  # it would replace the working directory
            assert result.returncode == 2 and "working directory" in result.stderr, result.stderr
            continue
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        assert "up to date" in result.stdout + result.stderr
        assert "/documents/" not in result.stdout  # a diff's header names the folder
    after = {p: p.read_bytes() for p in (project / "generated").rglob("*") if p.is_file()}
    assert after == before
    assert not (project / where / "generated").exists() and not (project / where / "schemas.db").exists()


def test_upgrade_and_export_from_a_sub_folder_use_the_project_database(project: Path) -> None:
    upgraded = run_schemarel(project / "schemas", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert (project / "schemarel.db").is_file() and not (project / "schemas" / "schemarel.db").exists()
    exported = run_schemarel(project / "docs" / "deep", "export", "--schema", "customer")
    assert exported.returncode == 0, exported.stderr
    other = project / "other.db"
    env = {"SCHEMAREL_DATABASE_URL": f"sqlite:///{other}"}
    assert run_schemarel(project / "schemas", "upgrade", env=env).returncode == 0
    assert other.is_file()  # the environment still wins over the built-in default
    assert not list((project / "docs").rglob("*.db"))


def test_a_sub_folder_with_its_own_schemas_keeps_them(project: Path) -> None:
    service = project / "services" / "billing"
    (service / "schemas").mkdir(parents=True)
    shutil.copy(REPO / "schemas" / "customer.schema.json", service / "schemas" / "invoice.schema.json")
    result = run_schemarel(service, "generate")
    assert result.returncode == 0, result.stderr
    assert (service / "generated" / "models" / "invoice.py").is_file()
    assert not (project / "generated" / "models" / "invoice.py").exists()
