"""Six successive versions of customer.schema.json (tests/evolution/) migrate a database that holds documents.

One database per dialect goes through every revision; after each step the data must read back as the
documents inserted at version 1 (under their new names), and Alembic's compare_metadata between the
database and that version's generated models must find nothing. Then down to 0001 and up again.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

FIXTURES = Path(__file__).parent / "evolution"
VERSIONS = range(1, 7)

# Where each piece of a document lives at each version.
V1 = {
    "root": "customer_profiles",
    "fk": "customer_profile_id",
    "middle": "middle_name",
    "address": "customer_profile_addresses",
    "emails": "customer_profile_emails",
    "phones": "customer_profile_phone_numbers",
    "kind": "type",
}
V3 = {**V1, "middle": "middle_initial", "address": "customer_profile_postal_addresses", "kind": "kind"}
V4 = {**V3, "root": "clients", "fk": "client_id", "address": "client_postal_addresses"}
V4 |= {"emails": "client_emails", "phones": "client_phone_numbers"}
LAYOUT = {1: V1, 2: V1, 3: V3, 4: V4, 5: {**V4, "address": None}, 6: V4}

ADA, BOB = uuid.UUID(int=1), uuid.UUID(int=2)
ADDRESS = ("1 Main St", None, "London", "LDN", "N1 9GU", "GB")
ADDRESS_COLUMNS = ("line1", "line2", "city", "state", "postal_code", "country")


def expected(version: int) -> dict[str, dict[str, Any]]:
    other = "misc" if version >= 4 else "other"  # renamed by x-sql.renamedValues at version 4
    docs = {
        "Ada": {"middle": "M", "last": "Lovelace", "address": ADDRESS, "emails": ["ada@example.org", "a@example.org"],
                "phones": [("mobile", "+441234"), (other, "+449999")]},
        "Bob": {"middle": None, "last": "Smith", "address": None, "emails": ["bob@example.org"],
                "phones": [("home", "+15550001")]},
    }  # fmt: skip
    for doc in docs.values():
        if version >= 2:
            doc["status"] = "active"  # added with a default: existing rows get it
        if 2 <= version <= 5:
            doc["nickname"] = "friend" if version >= 4 else None  # made NOT NULL with a default at 4: backfilled
    return docs


def insert_v1(conn: sa.Connection, models: Any) -> None:
    root, address, emails, phones = (models.metadata.tables[V1[k]] for k in ("root", "address", "emails", "phones"))
    conn.execute(root.insert(), [
        {"id": ADA, "first_name": "Ada", "middle_name": "M", "last_name": "Lovelace",
         "marketing_emails_enabled": True, "two_factor_enabled": False},
        {"id": BOB, "first_name": "Bob", "middle_name": None, "last_name": "Smith",
         "marketing_emails_enabled": False, "two_factor_enabled": True},
    ])  # fmt: skip
    conn.execute(address.insert(), [{"customer_profile_id": ADA, **dict(zip(ADDRESS_COLUMNS, ADDRESS, strict=True))}])
    for pid, doc in ((ADA, expected(1)["Ada"]), (BOB, expected(1)["Bob"])):
        conn.execute(emails.insert(), [{"customer_profile_id": pid, "email": e} for e in doc["emails"]])
        conn.execute(phones.insert(), [{"customer_profile_id": pid, "type": k, "number": n} for k, n in doc["phones"]])


def read(conn: sa.Connection, version: int) -> dict[str, dict[str, Any]]:
    """The documents as the tables of `version` hold them."""
    lay = LAYOUT[version]
    md = sa.MetaData()
    md.reflect(conn)
    root = md.tables[lay["root"]]
    docs = {}
    for row in conn.execute(sa.select(root)).mappings():
        key = row["id"] if isinstance(row["id"], uuid.UUID) else uuid.UUID(str(row["id"]))
        if lay["address"]:
            a = md.tables[lay["address"]]
            found = conn.execute(sa.select(*(a.c[c] for c in ADDRESS_COLUMNS)).where(a.c[lay["fk"]] == row["id"]))
            address = next((tuple(r) for r in found), None)
        else:
            address = tuple(row[c] for c in ADDRESS_COLUMNS)
            address = None if all(v is None for v in address) else address
        emails, phones = md.tables[lay["emails"]], md.tables[lay["phones"]]
        owned_emails = sa.select(emails.c.email).where(emails.c[lay["fk"]] == row["id"]).order_by(emails.c.id)
        owned_phones = (
            sa.select(phones.c[lay["kind"]], phones.c.number)
            .where(phones.c[lay["fk"]] == row["id"])
            .order_by(phones.c.id)
        )
        doc = {
            "middle": row[lay["middle"]],
            "last": row["last_name"],
            "address": address,
            "emails": list(conn.scalars(owned_emails)),
            "phones": [tuple(r) for r in conn.execute(owned_phones)],
        }
        for optional in ("status", "nickname"):
            if optional in row:
                doc[optional] = row[optional]
        docs[row["first_name"]] = doc
        assert key in (ADA, BOB)
    return docs


def load_models(out: Path, version: int) -> Any:
    """The generated models package of one version, under a module name of its own."""
    name = f"_evolution_models_v{version}_{uuid.uuid4().hex[:6]}"
    package = out / "models"
    spec = importlib.util.spec_from_file_location(
        name, package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def differences(conn: sa.Connection, models: Any) -> list[Any]:
    ctx = MigrationContext.configure(
        conn,
        opts={"compare_type": True, "compare_server_default": True, "include_object": models.include_object,
              "target_metadata": models.metadata},
    )  # fmt: skip
    return compare_metadata(ctx, models.metadata)


def use_version(root: Path, version: int) -> None:
    schemas = root / "schemas"
    shutil.rmtree(schemas, ignore_errors=True)
    schemas.mkdir(parents=True)
    shutil.copy(FIXTURES / f"v{version}.customer.schema.json", schemas / "customer.schema.json")
    if version >= 2:
        shutil.copy(FIXTURES / "order.schema.json", schemas / "order.schema.json")


@pytest.fixture
def evolved(tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[int, Path]]:
    """A project generated through the six versions; a copy of generated/ as it was after each one."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    root = tmp_path / "project"
    snapshots = {}
    for version in VERSIONS:
        use_version(root, version)
        args = ["generate", "--allow-destructive"] if version == 6 else ["generate"]
        result = cli(root, *args)
        assert result.exit_code == 0, result.output
        assert f"new revision {version:04d}" in result.output
        again = cli(root, "generate")  # a no-op regeneration writes nothing
        assert again.exit_code == 0 and "is up to date" in again.output, again.output
        snapshots[version] = tmp_path / f"generated_v{version}"
        shutil.copytree(root / "generated", snapshots[version])
    return root, snapshots


def _alembic(root: Path, url: str, action: str, target: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(root / "generated" / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    getattr(command, action)(config, target)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_six_versions_keep_the_data(evolved: tuple[Path, dict[int, Path]], dialect: str, request: Any) -> None:
    root, outs = evolved
    url = str(request.getfixturevalue("sqlite_url" if dialect == "sqlite" else "postgres_url"))
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    for version in VERSIONS:
        _alembic(root, url, "upgrade", f"{version:04d}")
        with engine.begin() as conn:
            if version == 1:
                insert_v1(conn, load_models(outs[1], 1))
            assert read(conn, version) == expected(version), f"data after upgrade to {version:04d}"
            assert differences(conn, load_models(outs[version], version)) == [], f"schema of {version:04d}"
    _alembic(root, url, "downgrade", "0001")
    with engine.begin() as conn:
        assert read(conn, 1) == expected(1)
        assert differences(conn, load_models(outs[1], 1)) == []
    _alembic(root, url, "upgrade", "head")
    with engine.begin() as conn:
        assert read(conn, 6) == expected(6)
        assert differences(conn, load_models(outs[6], 6)) == []
    engine.dispose()
