"""The generated Alembic history and models on SQLite and PostgreSQL: up, down, up again, and no drift between them."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import committed_revisions
from dbtools import load_models
from sqlalchemy.orm import Session

HEAD = committed_revisions()[-1]  # generated or hand-written: the revision `upgrade` ends at
TABLES = {
    "customer_profiles",
    "customer_profile_addresses",
    "customer_profile_emails",
    "customer_profile_phone_numbers",
    "profiles",
}


@pytest.fixture
def models(project: Path) -> ModuleType:
    """The project copy's generated/models package, imported under a name of its own."""
    return load_models(project / "generated")


def engine_for(url: str) -> sa.Engine:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    if engine.dialect.name == "sqlite":
        # SQLite ignores ON DELETE CASCADE unless each connection asks for it; the generated code does not
        sa.event.listen(engine, "connect", lambda dbapi_conn, _: dbapi_conn.execute("PRAGMA foreign_keys=ON"))
    return engine


def state(url: str) -> tuple[set[str], list[str], list[str]]:
    """Tables (but `users`, another system's), PostgreSQL enum types, and the recorded revision of the database."""
    engine = engine_for(url)
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        enums = []
        if conn.dialect.name == "postgresql":
            enums = list(conn.scalars(sa.text("SELECT typname FROM pg_type WHERE typtype = 'e'")))
        versions = list(conn.scalars(sa.text("SELECT version_num FROM alembic_version"))) if tables else []
    engine.dispose()
    assert "users" in tables, "the migrations must never drop a table another system owns"
    return tables - {"alembic_version", "users"}, enums, versions


def drift(url: str, metadata: sa.MetaData, include_object: Any) -> list[Any]:
    """What `alembic check` would report: the database against the models, types and server defaults compared."""
    engine = engine_for(url)
    with engine.connect() as conn:
        opts = {"compare_type": True, "compare_server_default": True, "include_object": include_object}
        diffs = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
    engine.dispose()
    return list(diffs)


def test_upgrade_downgrade_upgrade_leaves_no_drift(
    project: Path, cli: Any, models: ModuleType, app_db_url: str
) -> None:
    assert cli(project, "upgrade", "--db", app_db_url).exit_code == 0
    assert state(app_db_url) == (
        TABLES,
        ["customer_profile_phone_numbers_type_enum"] * (app_db_url[:8] == "postgres"),
        [HEAD],
    )
    assert drift(app_db_url, models.metadata, models.include_object) == []

    assert cli(project, "downgrade", "base", "--db", app_db_url).exit_code == 0
    assert state(app_db_url) == (set(), [], []), "downgrade must remove every table and enum type it created"

    assert cli(project, "upgrade", "--db", app_db_url).exit_code == 0
    assert drift(app_db_url, models.metadata, models.include_object) == []


def test_stepwise_revisions_and_plain_alembic(project: Path, cli: Any, app_db_url: str) -> None:
    assert cli(project, "upgrade", "0001", "--db", app_db_url).exit_code == 0
    assert state(app_db_url)[2] == ["0001"]
    assert cli(project, "downgrade", "-1", "--db", app_db_url).exit_code == 0
    assert state(app_db_url)[:2] == (set(), [])

    plain = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", "generated/alembic.ini", "-x", f"db={app_db_url}", "upgrade", "head"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert plain.returncode == 0, plain.stderr
    assert "Running upgrade  -> 0001" in plain.stderr
    assert "Running upgrade 0001 -> 0002" in plain.stderr
    assert state(app_db_url)[0] == TABLES


def _profile(models: ModuleType, **fields: Any) -> Any:
    return models.CustomerProfile(
        first_name="Ada",
        middle_name=None,
        last_name="Lovelace",
        marketing_emails_enabled=False,
        two_factor_enabled=True,
        **fields,
    )


def test_orm_rows_round_trip_and_cascade_on_delete(
    project: Path, cli: Any, models: ModuleType, app_db_url: str
) -> None:
    assert cli(project, "upgrade", "--db", app_db_url).exit_code == 0
    engine = engine_for(app_db_url)
    m = models
    with Session(engine) as session:
        profile = _profile(
            m,
            address=m.CustomerProfileAddress(
                line1="12 St James's Square", city="London", state="LDN", postal_code="SW1Y 4JH", country="GB"
            ),
            emails=[m.CustomerProfileEmail(email="ada@example.org"), m.CustomerProfileEmail(email="a@example.com")],
            phone_numbers=[
                m.CustomerProfilePhoneNumber(type="work", number="+442071234567"),
                m.CustomerProfilePhoneNumber(type="mobile", number="+447700900123"),
            ],
        )
        session.add(profile)
        session.commit()
        profile_id = profile.id

    with Session(engine) as session:
        loaded = session.get(m.CustomerProfile, profile_id)
        assert loaded is not None and loaded.address.postal_code == "SW1Y 4JH"
        assert [e.email for e in loaded.emails] == ["ada@example.org", "a@example.com"], "item order survives"
        assert [(p.type, p.number) for p in loaded.phone_numbers] == [
            ("work", "+442071234567"),
            ("mobile", "+447700900123"),
        ]

    children = [m.CustomerProfileAddress, m.CustomerProfileEmail, m.CustomerProfilePhoneNumber]
    with Session(engine) as session:
        counts = [session.scalar(sa.select(sa.func.count()).select_from(c)) for c in children]
        assert counts == [1, 2, 2]
        # a bulk DELETE bypasses the ORM's own cascade: only the database's ON DELETE CASCADE can remove the rows
        session.execute(sa.delete(m.CustomerProfile))
        session.commit()
        counts = [session.scalar(sa.select(sa.func.count()).select_from(c)) for c in children]
        assert counts == [0, 0, 0]
    engine.dispose()


def test_the_database_enforces_the_schema(project: Path, cli: Any, models: ModuleType, app_db_url: str) -> None:
    assert cli(project, "upgrade", "--db", app_db_url).exit_code == 0
    engine = engine_for(app_db_url)
    m = models
    with engine.begin() as conn:
        # no id given: the server-side default makes one, in the form the Uuid type reads back on this dialect
        for first in ("Grace", "Alan"):
            conn.execute(
                sa.text(
                    "INSERT INTO customer_profiles"
                    " (first_name, last_name, marketing_emails_enabled, two_factor_enabled)"
                    " VALUES (:first, 'X', false, false)"
                ),
                {"first": first},
            )
    with Session(engine) as session:
        ids = session.scalars(sa.select(m.CustomerProfile.id)).all()
        assert len(ids) == 2 and all(isinstance(i, uuid.UUID) for i in ids) and ids[0] != ids[1]

        session.add(m.CustomerProfileEmail(customer_profile_id=ids[0], email="same@example.org"))
        session.commit()
        violations = {
            "uniqueItems": m.CustomerProfileEmail(customer_profile_id=ids[0], email="same@example.org"),
            "enum": m.CustomerProfilePhoneNumber(customer_profile_id=ids[0], type="fax", number="+15550100"),
            "foreign key": m.CustomerProfileEmail(customer_profile_id=uuid.uuid4(), email="x@example.org"),
            "required": m.CustomerProfileAddress(
                customer_profile_id=ids[0], line1="1", city="2", state="3", postal_code="4"
            ),
        }
        accepted = []
        for what, row in violations.items():
            session.add(row)
            try:
                session.commit()
                accepted.append(what)
            except sa.exc.DatabaseError:
                session.rollback()
        assert accepted == []
    engine.dispose()
