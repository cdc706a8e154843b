"""Helpers of the runtime tests: a database with a schema's tables (and the `users` table of "another system")."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import simplejson
import sqlalchemy as sa
from projects import write_project
from schemarel.runtime.store import Store
from schemarel.sql.spelling import external_tables

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = REPO / "schemas"
TEST_SCHEMAS = Path(__file__).resolve().parent / "data"
GENERATED = REPO / "generated"


def open_store(url: str, schema: str, schemas_dir: Path = SCHEMAS) -> Store:
    """A Store on a database holding its tables; tables of other systems (`users`) are created here, as
    the system that owns them would, with the key type the references expect."""
    store = Store(url, schema, schemas_dir=schemas_dir)
    external = {name for name, _, _ in external_tables(store.database)}
    with store.engine.begin() as conn:
        for name, column, _ in external_tables(store.database):
            store.metadata.tables[name].create(conn, checkfirst=True)
            assert column in store.metadata.tables[name].c
        owned = [t for name, t in store.metadata.tables.items() if name not in external]
        store.metadata.create_all(conn, tables=owned)
    return store


def migrated_store(url: str, schema: str) -> Store:
    """A Store on a database built as `schemarel upgrade` builds it, by the repository's generated migrations (at
    their head revision, which the CLI's data commands require); the tables of other systems (`users`) are
    created first, as in `open_store`, unless there already."""
    from dbtools import migrate

    unchecked = Store(url, schema, source=GENERATED, check=False)
    with unchecked.engine.begin() as conn:
        for name, _, _ in external_tables(unchecked.database):
            unchecked.metadata.tables[name].create(conn, checkfirst=True)
    unchecked.close()
    migrate(GENERATED, url, "upgrade", "head")
    return Store(url, schema, source=GENERATED)


def stored_as_given(url: str, schema: str, document: Any, source: Path) -> None:
    """`document` stored through a Store of the generated package at `source` reads back as it was given."""
    store = Store(url, schema, source=source)
    try:
        doc_id = store.create(document)
        assert store.get(doc_id) == document
    finally:
        store.close()


def add_users(store: Store, ids: list[str], conn: sa.Connection | None = None) -> None:
    users = store.metadata.tables["users"]
    if conn is None:
        with store.engine.begin() as own:
            own.execute(users.insert(), [{"id": i} for i in ids])
    else:
        conn.execute(users.insert(), [{"id": i} for i in ids])


def count(store: Store, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(store.metadata.tables[table])).scalar_one())


def counts(store: Store) -> dict[str, int]:
    """Rows per table of the store's schema."""
    return {tm.table.name: count(store, tm.table.name) for tm in store.mapping.tables}


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: numbers by value (jsonb prints 1.5e300 as an integer), keys in any order."""

    def canonical(value: Any) -> Any:
        return json.loads(simplejson.dumps(value, use_decimal=True), parse_float=Decimal, parse_int=Decimal)

    return bool(canonical(a) == canonical(b))


def customer(i: int = 0, **changes: Any) -> dict[str, Any]:
    """A CustomerProfile document: an address, 2 emails, 2 phone numbers."""
    document: dict[str, Any] = {
        "firstName": f"Ada{i}",
        "lastName": "Lovelace",
        "privacySettings": {"marketingEmailsEnabled": i % 2 == 0, "twoFactorEnabled": True},
        "address": {"line1": f"{i} Main St", "city": "London", "state": "LDN", "postalCode": "N1", "country": "GB"},
        "emails": [f"ada{i}@example.org", f"lovelace{i}@example.com"],
        "phoneNumbers": [{"type": "mobile", "number": f"+44{i:08d}"}, {"type": "home", "number": "+4420000000"}],
    }
    document.update(changes)
    return document


@contextmanager
def cyclic_collector_off() -> Iterator[None]:
    """Only reference counting frees objects meanwhile: what a test then sees freed was in no cycle."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def customers_with_one_owner_per(url: str, number: str, migrated: bool = False) -> Store:
    """A CustomerProfile store on PostgreSQL whose database also holds a rule the schema does not know: the
    phone number `number` belongs to one customer at most (a partial unique index, `one_owner_per_number`);
    `migrated`: the database built by the generated migrations (at the head revision the CLI requires)."""
    store = migrated_store(url, "customer") if migrated else open_store(url, "customer")
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE UNIQUE INDEX one_owner_per_number ON customer_profile_phone_numbers (number) "
            f"WHERE number = '{number}'"
        )
    return store


def empty_customers(store: Store) -> None:
    """Every CustomerProfile document deleted (its rows in every table, by cascade)."""
    with store.engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE customer_profiles CASCADE")


@contextmanager
def drawn_store(tmp: Path, url: str, name: str, schema: dict[str, Any]) -> Iterator[Store]:
    """A Store of a drawn `schema` in a project of its own under `tmp`; its tables dropped afterwards."""
    root = write_project(tmp / f"s{abs(hash(json.dumps(schema, sort_keys=True)))}", {name: schema})
    store = open_store(url, name, root / "schemas")
    try:
        yield store
    finally:
        store.metadata.drop_all(store.engine)
        store.close()


def int64_only(value: Any) -> bool:
    """Whether every integral number of a drawn document fits a bigint (a float with no fraction counts: an
    `integer` column takes it); past that range the Store refuses the document by design (ValueRejected)."""
    if isinstance(value, dict):
        return all(int64_only(v) for v in value.values())
    if isinstance(value, list):
        return all(int64_only(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return -(2.0**63) <= value < 2.0**63
    return not isinstance(value, int) or -(2**63) <= value < 2**63
