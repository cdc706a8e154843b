"""Helpers for tests on real databases: apply a generated project's migrations and compare with its models."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from schemarel.support import compare_server_default

_ENV_MODULE = "_schemarel_generated_models"  # the name generated/migrations/env.py imports the models under


def load_models(out_dir: Path) -> ModuleType:
    """The generated models package of `out_dir`, imported under a name of its own."""
    name = f"_models_{abs(hash(str(out_dir.resolve())))}"
    for loaded in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
        del sys.modules[loaded]
    package = out_dir / "models"
    spec = importlib.util.spec_from_file_location(
        name, package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@contextmanager
def engine(url: str) -> Iterator[sa.Engine]:
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        yield eng
    finally:
        eng.dispose()


def schema_diff(url: str, out_dir: Path, models: Any = None) -> list[Any]:
    """What Alembic finds different between the database at `url` and the generated models."""
    models = models or load_models(out_dir)
    opts = {
        "compare_type": True,
        "compare_server_default": compare_server_default,  # MariaDB reads now() back as current_timestamp()
        "include_object": models.include_object,
    }
    with engine(url) as eng, eng.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn, opts=opts), models.metadata))


def table_names(url: str) -> set[str]:
    with engine(url) as eng:
        return set(sa.inspect(eng).get_table_names()) - {"alembic_version"}


def migrate(out_dir: Path, url: str, action: str, revision: str) -> None:
    """`alembic upgrade/downgrade` in this process, with the models of `out_dir` (env.py caches them by name)."""
    for loaded in [m for m in sys.modules if m == _ENV_MODULE or m.startswith(f"{_ENV_MODULE}.")]:
        del sys.modules[loaded]
    config = Config(str(out_dir / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["without_models"] = True  # as `schemarel upgrade` runs it
    getattr(command, action)(config, revision)


def assert_migrates(out_dir: Path, *urls: str) -> None:
    """On each database: `upgrade head` creates what the models describe; `downgrade base` removes every table."""
    models = load_models(out_dir)
    for url in urls:
        migrate(out_dir, url, "upgrade", "head")
        assert schema_diff(url, out_dir, models) == [], url
        migrate(out_dir, url, "downgrade", "base")
        assert table_names(url) == set(), url
