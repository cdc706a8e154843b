"""pytest-alembic's standard checks on the committed history, on SQLite, PostgreSQL and MariaDB.

Single head, a clean upgrade from base, every revision's downgrade undoing it (with pytest-alembic's own
up/down walk), and the models matching what the migrations build (an autogenerate finds nothing). Its
plugin is disabled in pyproject.toml (its collector fails on pytest 9); its tests and fixtures are used here.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import REPO, USERS_DDL
from pathtools import DIALECTS, execute
from pytest_alembic.plugin.fixtures import alembic_runner  # noqa: F401 - a fixture the tests below use
from pytest_alembic.tests import (  # noqa: F401 - collected as this module's tests
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)


@pytest.fixture
def alembic_config() -> dict[str, str]:
    return {"file": str(REPO / "generated" / "alembic.ini")}


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def alembic_engine(request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    url = str(request.getfixturevalue(DIALECTS[request.param]))
    execute(url, USERS_DDL)  # the table another system owns, which revision 0002 references
    # env.py imports the models under one name: start each database from the committed ones
    sys.modules.pop("_schemarel_generated_models", None)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


def test_the_history_is_the_repository_one() -> None:
    assert Path(REPO / "generated" / "alembic.ini").is_file()
