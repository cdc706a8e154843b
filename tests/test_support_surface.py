"""`schemarel.support` is all of schemarel that generated code imports, and its names and signatures are frozen:
committed revisions import them forever. A project with its own `generator` package migrates with plain Alembic."""

from __future__ import annotations

import ast
import inspect
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import schemarel.support as support
import sqlalchemy as sa
from conftest import REPO, committed_revisions, create_users_table

GENERATED = REPO / "generated"

# The frozen surface: name → signature (a class: its bases and its own __init__). Adding a name means adding it
# here; changing or removing one breaks every revision that imports it.
SURFACE: dict[str, Any] = {
    "DataLoss": ("class", ("SchemarelError",), None),
    "MigrationFailed": ("class", ("SchemarelError",), None),
    "MissingExternalTable": ("class", ("SchemarelError",), None),
    "backfill": "(bind: 'sa.Connection', table: 'str', column: 'str', value: 'Any') -> 'None'",
    "boolean_default": ("class", ("FunctionElement",), "(self, value: 'bool') -> 'None'"),
    "compare_server_default": "(context: 'Any', inspected_column: 'Any', metadata_column: 'Any', "
    "inspected: 'str | None', metadata: 'Any', rendered: 'str | None') -> 'bool | None'",
    "copy_to_child": "(bind: 'sa.Connection', parent: 'str', parent_key: 'str', child: 'str', child_key: 'str', "
    "columns: 'Sequence[str]') -> 'None'",
    "copy_to_parent": "(bind: 'sa.Connection', child: 'str', child_key: 'str', parent: 'str', parent_key: 'str', "
    "columns: 'Sequence[str]') -> 'None'",
    "migrate": "(context: 'Any', connection: 'sa.Connection', **options: 'Any') -> 'None'",
    "migration_engine": "(url: 'str') -> 'sa.Engine'",
    "offline_options": "(url: 'str') -> 'dict[str, Any]'",
    # the typed stores of generated/documents open their Store through it
    "open_store": "(db: 'Any', schema: 'str', generated: 'Any', *, asynchronous: 'bool' = False, check: 'bool' = True) "
    "-> 'Any'",
    "protect_data": "(op: 'Any', revision: 'str', step: 'str', checks: 'Iterable[Sequence[Any]]') -> 'None'",
    "rehearse": "(context: 'Any', external: 'sa.MetaData | None' = None, **options: 'Any') -> 'None'",
    "rename_pointers": "(bind: 'sa.Connection', table: 'str', columns: 'Sequence[str]', "
    "renames: 'Sequence[Sequence[str]]') -> 'None'",
    "rename_values": "(bind: 'sa.Connection', table: 'str', column: 'str', renames: 'Mapping[str, str]') -> 'None'",
    "require_tables": "(bind: 'Any', tables: 'Iterable[str]', revision: 'str') -> 'None'",
    "uuid_default": ("class", ("FunctionElement",), None),
}


def _describe(obj: Any) -> Any:
    if inspect.isclass(obj):
        init = obj.__dict__.get("__init__")
        return ("class", tuple(b.__name__ for b in obj.__bases__), str(inspect.signature(init)) if init else None)
    return str(inspect.signature(obj))


def test_support_names_and_signatures_are_frozen() -> None:
    public = {name: _describe(getattr(support, name)) for name in support.__all__}  # re-exports count too
    for name, expected in SURFACE.items():
        assert name in public, f"schemarel.support.{name} was removed: committed revisions import it"
        assert public[name] == expected, f"schemarel.support.{name} changed its signature: revisions call it"
    added = sorted(public.keys() - SURFACE.keys())
    assert not added, f"new public names in schemarel.support {added}: declare them in SURFACE (they are frozen)"


def generated_modules() -> list[Path]:
    return sorted([*(GENERATED / "models").glob("*.py"), *(GENERATED / "migrations" / "versions").glob("*.py")])


def test_generated_code_imports_only_schemarel_support() -> None:
    """Read every model and revision module: its schemarel imports name `schemarel.support` and nothing else."""
    found: dict[str, set[str]] = {}
    for path in generated_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in ("schemarel", "generator"):
                    found.setdefault(name, set()).add(path.name)
    assert set(found) == {"schemarel.support"}, found
    text = "".join(p.read_text(encoding="utf-8") for p in GENERATED.rglob("*.py"))
    assert "generator." not in text


# Imports the models and every revision in a fresh interpreter; prints the schemarel modules loaded.
PROBE = """
import importlib.util, json, sys
before = set(sys.modules)
import generated.models
for path in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location("revision_" + str(len(sys.modules)), path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(sorted(m for m in set(sys.modules) - before if m.split(".")[0] == "schemarel")))
"""
SUPPORT_ONLY = (
    "import sys, json, schemarel.support; print(json.dumps(sorted(m for m in sys.modules if 'schemarel' in m)))"
)


def _loaded(code: str, *args: str) -> set[str]:
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout))


def test_importing_generated_code_loads_nothing_of_schemarel_beyond_support() -> None:
    """What `import schemarel.support` loads (the package and what support itself needs) is the limit."""
    revisions = [str(p) for p in (GENERATED / "migrations" / "versions").glob("*.py")]
    loaded = _loaded(PROBE, *revisions)
    assert "schemarel.support" in loaded
    assert loaded <= _loaded(SUPPORT_ONLY), loaded - _loaded(SUPPORT_ONLY)
    assert not any(m.startswith(("schemarel.runtime", "schemarel.render", "schemarel.cli")) for m in loaded)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_project_with_its_own_generator_package_upgrades_with_plain_alembic(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = str(request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url"))
    project = tmp_path / "app"
    shutil.copytree(GENERATED, project / "generated", ignore=shutil.ignore_patterns("__pycache__"))
    (project / "generator").mkdir()  # the project's own code generator, first on the path
    (project / "generator" / "__init__.py").write_text('"""This project\'s own code generator."""\n')
    create_users_table(url)
    env = {**os.environ, "PYTHONPATH": str(project)}
    alembic = Path(sys.executable).with_name("alembic")
    command = [str(alembic), "-c", "generated/alembic.ini", "-x", f"db={url}", "upgrade", "head"]
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    *_, before_head, head = committed_revisions()
    assert f"Running upgrade {before_head} -> {head}" in result.stderr
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    finally:
        engine.dispose()
    assert {"customer_profiles", "customer_profile_phone_numbers", "profiles"} <= tables
    assert version == head
