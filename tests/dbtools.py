"""Helpers for tests on real databases: apply a generated project's migrations and compare with its models."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import run_schemarel


def load_models(out_dir: Path) -> Any:
    """The generated models package of `out_dir`, imported under a name of its own."""
    name = f"_models_{abs(hash(out_dir.resolve()))}"
    sys.modules.pop(name, None)
    package = out_dir / "models"
    spec = importlib.util.spec_from_file_location(
        name, package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def schema_diff(url: str, out_dir: Path) -> list[Any]:
    """What Alembic finds different between the database at `url` and the generated models."""
    models = load_models(out_dir)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "compare_server_default": True,
                    "include_object": models.include_object,
                },
            )
            return list(compare_metadata(context, models.metadata))
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def assert_migrates(root: Path, url: str) -> None:
    """`upgrade head` creates what the models describe; `downgrade base` removes every table again."""
    up = run_schemarel(root, "upgrade", "--db", url)
    assert up.returncode == 0, up.stderr
    assert schema_diff(url, root / "generated") == []
    down = run_schemarel(root, "downgrade", "base", "--db", url)
    assert down.returncode == 0, down.stderr
    assert table_names(url) == set()
