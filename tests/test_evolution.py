"""Six successive versions of customer.schema.json (tests/evolution/) migrate databases that hold documents.

On SQLite, PostgreSQL and MariaDB, two databases go through every revision, one by `schemarel
upgrade/downgrade`, the other by plain `alembic` (subprocesses: the models are not imported), step by
step up to 0006, down to base, and up again: after each step both databases are identical (constraint
and index names included), the data reads back as the documents inserted at version 1 (under their new
names), and Alembic's compare_metadata between each database and that version's models finds nothing.
The versions add, rename and remove an enum value, rename columns and tables, flatten an object and give
it its table back, widen and narrow a varchar.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypedDict

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import _fresh_database as fresh_database
from pathtools import DIALECTS, alembic, ok, schemarel, shape

FIXTURES = Path(__file__).parent / "evolution"
VERSIONS = list(range(1, 7))


class Layout(TypedDict):
    """Where each piece of a document lives at one version (no address table: the address is flattened)."""

    root: str
    fk: str
    middle: str
    address: str | None
    emails: str
    phones: str
    kind: str


# Where each piece of a document lives at each version.
V1: Layout = {
    "root": "customer_profiles",
    "fk": "customer_profile_id",
    "middle": "middle_name",
    "address": "customer_profile_addresses",
    "emails": "customer_profile_emails",
    "phones": "customer_profile_phone_numbers",
    "kind": "type",
}
V3: Layout = {**V1, "middle": "middle_initial", "address": "customer_profile_postal_addresses", "kind": "kind"}
V4: Layout = {**V3, "root": "clients", "fk": "client_id", "address": "client_postal_addresses"}
V4 |= {"emails": "client_emails", "phones": "client_phone_numbers"}
LAYOUT: dict[int, Layout] = {1: V1, 2: V1, 3: V3, 4: V4, 5: {**V4, "address": None}, 6: V4}

ADA, BOB = uuid.UUID(int=1), uuid.UUID(int=2)
ADDRESS = ("1 Main St", None, "London", "LDN", "N1 9GU", "GB")
ADDRESS_COLUMNS = ("line1", "line2", "city", "state", "postal_code", "country")


def expected(version: int, downgraded: bool = False) -> dict[str, dict[str, Any]]:
    """The documents at `version`; `downgraded`: reached from above, where the nickname was filled in."""
    other = "misc" if version >= 4 else "other"  # renamed by x-sql.renamedValues at version 4
    docs: dict[str, dict[str, Any]] = {
        "Ada": {"middle": "M", "last": "Lovelace", "address": ADDRESS, "emails": ["ada@example.org", "a@example.org"],
                "phones": [("mobile", "+441234"), (other, "+449999")]},
        "Bob": {"middle": None, "last": "Smith", "address": None, "emails": ["bob@example.org"],
                "phones": [("home", "+15550001")]},
    }  # fmt: skip
    for doc in docs.values():
        if version >= 2:
            doc["status"] = "active"  # added with a default: existing rows get it
        if 2 <= version <= 5:
            # made NOT NULL with a default at 4: backfilled, and kept by the downgrades
            doc["nickname"] = "friend" if version >= 4 or downgraded else None
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
    docs: dict[str, dict[str, Any]] = {}
    for row in conn.execute(sa.select(root)).mappings():
        key = row["id"] if isinstance(row["id"], uuid.UUID) else uuid.UUID(str(row["id"]))
        address: tuple[Any, ...] | None
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
        doc: dict[str, Any] = {
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
    found: list[Any] = compare_metadata(ctx, models.metadata)  # alembic types its diff list as Any
    return found


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


@pytest.fixture(params=list(DIALECTS))
def two_databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two fresh databases on one server: one migrated by `schemarel`, the other by plain Alembic."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cli.db'}", f"sqlite:///{tmp_path / 'alembic.db'}"
        return
    server = request.getfixturevalue("postgres_server" if request.param == "postgresql" else "mysql_server")
    quote, drop = ('"', " WITH (FORCE)") if request.param == "postgresql" else ("`", "")
    options = "" if request.param == "postgresql" else " CHARACTER SET utf8mb4"
    with ExitStack() as stack:
        first, second = (
            stack.enter_context(contextmanager(fresh_database)(server, quote, options, drop)) for _ in range(2)
        )
        yield first, second


def step(root: Path, urls: tuple[str, str], action: str, target: str) -> list[str]:
    """`action target` on both databases, by `schemarel` and by `alembic` (subprocesses, no models loaded);
    the two databases must come out identical. Returns both commands' stderr."""
    by_cli = ok(schemarel(root, urls[0], action, target))
    by_alembic = ok(alembic(root, urls[1], action, target))
    assert shape(urls[0]) == shape(urls[1]), f"schemarel and alembic disagree after {action} {target}"
    return [by_cli.stderr, by_alembic.stderr]


def check(urls: tuple[str, str], outs: dict[int, Path], version: int, downgraded: bool = False) -> None:
    """The documents read back as `version` holds them, and the database is what its models describe."""
    models = load_models(outs[version], version)
    for url in urls:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.begin() as conn:
            assert read(conn, version) == expected(version, downgraded), f"data at {version:04d} on {url}"
            assert differences(conn, models) == [], f"schema of {version:04d} on {url}"
        engine.dispose()


def insert(urls: tuple[str, str], outs: dict[int, Path]) -> None:
    for url in urls:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.begin() as conn:
            insert_v1(conn, load_models(outs[1], 1))
        engine.dispose()


def test_six_versions_keep_the_data(evolved: tuple[Path, dict[int, Path]], two_databases: tuple[str, str]) -> None:
    root, outs = evolved
    urls = two_databases
    for version in VERSIONS:
        step(root, urls, "upgrade", f"{version:04d}")
        if version == 1:
            insert(urls, outs)
        check(urls, outs, version)
    for version in reversed(VERSIONS[:-1]):
        stderr = step(root, urls, "downgrade", f"{version:04d}")
        check(urls, outs, version, downgraded=True)
        if version == 1:  # what the downgrade drops is named, with its row count, before it goes
            for text in stderr:
                assert "`customer_profiles.status` holds data in 2 rows, dropped by this step" in text, text
    step(root, urls, "downgrade", "base")
    assert all(set(shape(url)) <= {"alembic_version", "<enum types>"} for url in urls)
    assert all(not shape(url).get("<enum types>") for url in urls), "enum types left behind"
    step(root, urls, "upgrade", "0001")
    insert(urls, outs)
    step(root, urls, "upgrade", "head")
    check(urls, outs, 6)
