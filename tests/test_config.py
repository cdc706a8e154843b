"""`[tool.schemarel]` settings, their precedence, and templates overridden by file name (documented context)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
import sqlalchemy as sa
from conftest import REPO, run_schemarel
from schemarel.render.jinja import environment, shipped_templates

DOC_OVERRIDE = "# {{ schema.title }} (house style)\n\n{% for t in tables %}- {{ t.name }}\n{% endfor %}"


def _configured_project(tmp_path: Path, extra: str = "") -> Path:
    root = tmp_path / "app"
    (root / "contracts").mkdir(parents=True)
    shutil.copy(REPO / "schemas/customer.schema.json", root / "contracts")
    (root / "house").mkdir()
    (root / "house/schema_doc.md.j2").write_text(DOC_OVERRIDE)
    settings = 'schemas = "contracts"\nout = "src/db"\ntemplates = "house"\n'
    (root / "pyproject.toml").write_text(f'[project]\nname = "app"\n\n[tool.schemarel]\n{settings}{extra}')
    (root / "src/pkg").mkdir(parents=True)
    return root


def test_settings_apply_from_a_subdirectory_and_options_win(tmp_path: Path, cli: Any) -> None:
    root = _configured_project(tmp_path)
    result = cli(root / "src/pkg", "generate")
    assert result.exit_code == 0, result.output
    assert "wrote    ../db/models/customer.py" in result.output  # paths are relative to pyproject.toml
    assert (root / "src/db/docs/customer.md").read_text() == (
        "# CustomerProfile (house style)\n\n- customer_profiles\n- customer_profile_addresses\n"
        "- customer_profile_emails\n- customer_profile_phone_numbers\n"
    )
    assert cli(root, "check").exit_code == 0
    overridden = cli(root, "check", "--templates", str(root / "contracts"))  # no templates in there
    assert overridden.exit_code == 1 and "docs/customer.md (on disk)" in overridden.output
    assert cli(root, "generate", "--out", "elsewhere").exit_code == 0
    assert (root / "elsewhere/docs/customer.md").read_text().startswith("# CustomerProfile (house style)")


def test_database_url_setting_and_environment_precedence(tmp_path: Path, cli: Any, monkeypatch: Any) -> None:
    root = _configured_project(tmp_path, 'database-url = "sqlite:///from-config.db"\n')
    assert cli(root, "generate").exit_code == 0
    monkeypatch.delenv("SCHEMAREL_DATABASE_URL", raising=False)
    assert cli(root, "upgrade").exit_code == 0
    assert "customer_profiles" in sa.inspect(sa.create_engine(f"sqlite:///{root / 'from-config.db'}")).get_table_names()
    monkeypatch.setenv("SCHEMAREL_DATABASE_URL", "sqlite:///from-env.db")
    assert cli(root, "upgrade").exit_code == 0
    assert (root / "from-env.db").is_file()


def test_a_bad_setting_names_the_file(tmp_path: Path) -> None:
    root = _configured_project(tmp_path, 'dialekt = "postgresql"\n')
    result = run_schemarel(root / "src", "check")
    assert result.returncode == 2
    assert "../pyproject.toml: [tool.schemarel]: Additional properties are not allowed ('dialekt'" in result.stderr
    assert "Traceback" not in result.stderr


def _documented_context() -> dict[str, set[str]]:
    """README's table: template → the top-level names of its context."""
    readme = (REPO / "README.md").read_text()
    table = readme.split("| template | writes | context |")[1].split("\n\n")[0]
    documented = {}
    for row in table.strip().splitlines()[1:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        top_level = cells[2]
        while "(" in top_level:  # attributes in parentheses are not context names
            top_level = re.sub(r"\([^()]*\)", "", top_level)
        documented[cells[0].strip("`")] = set(re.findall(r"`(\w+)`", top_level))
    return documented


def test_the_readme_documents_every_template_and_every_name_it_uses() -> None:
    env = environment()
    documented = _documented_context()
    assert set(documented) == set(env.list_templates())
    loader = env.loader
    assert loader is not None
    for name in env.list_templates():
        if name == "_macros.md.j2":
            continue
        used = jinja2.meta.find_undeclared_variables(env.parse(loader.get_source(env, name)[0]))
        assert used <= documented[name], f"{name} uses undocumented {used - documented[name]}"


def test_every_documented_name_is_passed(project: Path) -> None:
    """Override every template with one that touches every documented name (StrictUndefined would fail)."""
    overrides = project / "overrides"
    overrides.mkdir()
    for name, names in _documented_context().items():
        if name != "_macros.md.j2":
            body = "".join(f"{n}={{{{ {n} is defined and ({n} | string | length >= 0) }}}}\n" for n in sorted(names))
            (overrides / name).write_text(body)
    path = project / "schemas/profile.schema.json"
    schema = json.loads(path.read_text())
    schema["properties"]["nickname"] = {"type": "string"}  # a new revision: the revision templates render too
    path.write_text(json.dumps(schema))
    result = run_schemarel(project, "generate", "--templates", str(overrides), env={"SOURCE_DATE_EPOCH": "0"})
    assert result.returncode == 0, result.stderr
    revision_doc = sorted((project / "generated/docs/migrations").glob("*.md"))[-1].read_text()
    assert "tables=True\n" in revision_doc and "change=True\n" in revision_doc
    assert (project / "generated/docs/customer.md").read_text().count("=True\n") == 10


def test_templates_ship_inside_the_package() -> None:
    assert {p.name for p in shipped_templates().glob("*.j2")} >= {"schema_doc.md.j2", "docs_index.md.j2"}
    assert isinstance(environment().get_template("schema_doc.md.j2"), jinja2.Template)
