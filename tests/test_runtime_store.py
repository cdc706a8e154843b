"""The Store API on SQLite and PostgreSQL: what is stored comes back, refusals leave nothing behind."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from runtime_helpers import TEST_SCHEMAS, add_users, count, counts, customer, open_store
from schemarel.errors import ConstraintViolation, DocumentInvalid, DocumentNotFound, ValueRejected
from schemarel.runtime.store import Store
from sqlalchemy.orm import Session


@pytest.fixture
def customers(db_url: str) -> Store:
    return open_store(db_url, "customer")


@pytest.fixture
def profiles(db_url: str) -> Store:
    return open_store(db_url, "profile")


def test_create_get_replace_delete(customers: Store) -> None:
    doc_id = customers.create(customer(1))
    assert customers.get(doc_id) == customer(1)
    assert customers.exists(doc_id) and doc_id in customers and customers.exists(str(doc_id))

    smaller = customer(1, emails=["only@example.org"], phoneNumbers=[], middleName="B.")
    del smaller["address"]
    customers.replace(doc_id, smaller)
    assert customers.get(str(doc_id)) == smaller
    assert counts(customers)["customer_profile_addresses"] == 0  # the address row went with the property

    customers.delete(doc_id)
    assert not customers.exists(doc_id)
    assert set(counts(customers).values()) == {0}  # every child row went too (ON DELETE CASCADE)
    with pytest.raises(DocumentNotFound):
        customers.get(doc_id)
    with pytest.raises(DocumentNotFound):
        customers.delete(doc_id)
    with pytest.raises(DocumentNotFound):
        customers.replace(doc_id, customer(1))
    assert not customers.exists("not a uuid")


def test_array_order_and_iteration(customers: Store) -> None:
    documents = [customer(i, emails=[f"z{i}@example.org", f"a{i}@example.org", f"m{i}@example.org"]) for i in range(7)]
    ids = customers.create_many(documents, batch_size=3)
    assert [customers.get(i) for i in ids] == documents  # items in document order, not sorted
    items = list(customers.items(batch_size=2))  # pages of 2, children fetched per page
    assert [i for i, _ in items] == sorted(ids)
    assert sorted(map(repr, (d for _, d in items))) == sorted(map(repr, documents))
    assert len(customers) == 7 and sum(1 for _ in customers) == 7


def test_a_savepoint_first_in_the_callers_transaction_is_undone_with_it(customers: Store) -> None:
    with customers.engine.connect() as conn, conn.begin() as transaction:
        doc_id = customers.create(customer(1), conn=conn)
        assert customers.get(doc_id, conn=conn) == customer(1)
        transaction.rollback()
    assert not customers.exists(doc_id)


def test_invalid_document_lists_every_violation_and_writes_nothing(customers: Store) -> None:
    bad = customer(1, firstName="", emails=["not-an-email", "not-an-email"])
    bad["phoneNumbers"][1]["type"] = "fax"
    del bad["lastName"]
    with pytest.raises(DocumentInvalid) as caught:
        customers.create(bad)
    pointers = [v.pointer for v in caught.value.violations]
    assert pointers == ["#", "#/emails", "#/emails/0", "#/emails/1", "#/firstName", "#/phoneNumbers/1/type"]
    assert "'lastName' is a required property" in str(caught.value)
    with pytest.raises(DocumentInvalid, match="not JSON data"):
        customers.create({1: "a key JSON cannot have"})
    assert set(counts(customers).values()) == {0}


def test_a_refused_child_row_leaves_no_partial_document(customers: Store) -> None:
    # a rule of the database the schema does not know: no two customers share a phone number
    with customers.engine.begin() as conn:
        conn.exec_driver_sql("CREATE UNIQUE INDEX one_owner_per_number ON customer_profile_phone_numbers (number)")
    first = customers.create(customer(1))
    before = counts(customers)
    with pytest.raises(ConstraintViolation) as caught:
        customers.create(customer(2))  # same home number as customer 1
    assert caught.value.constraint == "one_owner_per_number" or customers.engine.dialect.name == "sqlite"
    assert counts(customers) == before
    with pytest.raises(ConstraintViolation):  # the whole batch or nothing
        customers.create_many([customer(3, phoneNumbers=[]), customer(4)], batch_size=10)
    assert counts(customers) == before
    with pytest.raises(ConstraintViolation):
        customers.replace(first, customer(1, phoneNumbers=[{"type": "work", "number": "+12"}] * 2))
    assert customers.get(first) == customer(1)


def test_create_many_is_atomic_per_batch(customers: Store) -> None:
    documents = [customer(i) for i in range(5)]
    documents[3] = customer(3, emails=["broken"])
    with pytest.raises(DocumentInvalid) as caught:
        customers.create_many(documents, batch_size=2)
    assert caught.value.index == 3
    assert sorted(d["firstName"] for d in customers) == ["Ada0", "Ada1"]  # the first batch, not the second


def test_profile_defaults_json_null_and_duplicates(profiles: Store) -> None:
    add_users(profiles, ["u1", "u2", "u3"])
    plain = profiles.create({"userId": "u1"})
    assert profiles.get(plain) == {"userId": "u1", "timezone": "UTC", "currency": "USD"}
    null = profiles.create({"userId": "u2", "settings": None, "timezone": "Europe/Paris"})
    assert profiles.get(null) == {"userId": "u2", "settings": None, "timezone": "Europe/Paris", "currency": "USD"}
    nested = {"userId": "u3", "timezone": "UTC", "currency": "EUR", "settings": {"theme": None, "beta": [1, "x"]}}
    assert profiles.get(profiles.create(nested)) == nested

    with pytest.raises(ConstraintViolation) as caught:
        profiles.create({"userId": "u1", "currency": "GBP"})
    assert caught.value.constraint == "uq_profiles__user_id"
    with pytest.raises(ConstraintViolation) as caught:
        profiles.create({"userId": "nobody"})
    assert caught.value.constraint == "fk_profiles__user_id__users"
    assert count(profiles, "profiles") == 3


def test_replace_keeps_created_at_and_moves_updated_at(profiles: Store) -> None:
    add_users(profiles, ["u1"])
    doc_id = profiles.create({"userId": "u1"})
    table = profiles.metadata.tables["profiles"]
    stamps = sa.select(table.c.created_at, table.c.updated_at).where(table.c.id == doc_id)
    with profiles.engine.begin() as conn:  # as if it had been created a while ago
        long_ago = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
        conn.execute(table.update().values(created_at=long_ago, updated_at=long_ago))
    with profiles.engine.connect() as conn:
        created, updated = conn.execute(stamps).one()
    profiles.replace(doc_id, {"userId": "u1", "timezone": "Asia/Tokyo", "currency": "JPY"})
    with profiles.engine.connect() as conn:
        created_after, updated_after = conn.execute(stamps).one()
    assert created_after == created and updated_after > updated
    assert profiles.get(doc_id)["timezone"] == "Asia/Tokyo"


def test_registration_creates_user_and_profile_in_one_transaction(profiles: Store) -> None:
    users = profiles.metadata.tables["users"]
    with profiles.engine.begin() as conn:
        conn.execute(users.insert().values(id="alice"))
        profiles.create({"userId": "alice"}, conn=conn)
    with Session(profiles.engine) as session:  # the same through an ORM session
        session.execute(users.insert().values(id="bob"))
        profiles.create({"userId": "bob"}, conn=session)
        session.commit()
    assert sorted(d["userId"] for d in profiles) == ["alice", "bob"]

    # a refused profile rolls back to its savepoint only: the caller decides about its transaction
    with profiles.engine.begin() as conn:
        conn.execute(users.insert().values(id="carol"))
        with pytest.raises(ConstraintViolation):
            profiles.create({"userId": "alice"}, conn=conn)
        profiles.create({"userId": "carol"}, conn=conn)
    assert count(profiles, "users") == 3 and count(profiles, "profiles") == 3

    with pytest.raises(RuntimeError), profiles.engine.begin() as conn:  # the caller's rollback undoes both
        conn.execute(users.insert().values(id="dave"))
        profiles.create({"userId": "dave"}, conn=conn)
        raise RuntimeError("registration failed later on")
    assert count(profiles, "users") == 3 and count(profiles, "profiles") == 3


def test_nested_tables_formats_and_nulls(db_url: str) -> None:
    orders = open_store(db_url, "order", TEST_SCHEMAS)
    line: dict[str, Any] = {"sku": "A", "qty": 2, "options": [{"key": "size", "value": "L"}, {"key": "gift"}]}
    document = {
        "ref": "1B4E28BA-2FA1-11D2-883F-0016D3CCA427",
        "placedAt": "2024-05-01T12:00:00.5+02:00",
        "due": "2024-06-30",
        "note": None,
        "count": 3,
        "total": 12.5,
        "meta": {"tags": ["x", None, "y"]},
        "flags": [True, False, True],
        "extra": None,
        "shipping": {"city": "Oslo", "stops": [{"name": "b"}, {"name": "a"}]},
        "lines": [
            {**line, "gift": {"message": "hi", "wraps": ["red", "blue"]}},
            {"sku": "B", "qty": 1, "options": []},
            {**line, "sku": "C", "gift": {"message": "", "wraps": []}},
        ],
    }
    expected = document  # spelled as given: the upper-case uuid, the offset, one fraction digit (12.5 a Decimal)
    ids = orders.create_many([document, document], batch_size=10)  # keys of lines fetched for their children
    one = orders.create(document)
    assert [orders.get(i) for i in [*ids, one]] == [expected] * 3
    minimal = {"ref": str(uuid.UUID(int=1)), "placedAt": "2024-01-01T00:00:00Z", "note": "n", "meta": {"tags": []},
               "flags": [], "lines": []}  # fmt: skip
    assert orders.get(orders.create(minimal)) == minimal  # a required flattened object, empty, stays


def test_values_the_database_cannot_hold_are_refused_cleanly(db_url: str) -> None:
    orders = open_store(db_url, "order", TEST_SCHEMAS)
    document: dict[str, Any] = {"ref": str(uuid.UUID(int=1)), "placedAt": "0000-01-01T00:00:00Z", "note": None,
                "meta": {"tags": []}, "flags": [], "lines": []}  # fmt: skip
    with pytest.raises(ValueRejected, match="placedAt"):
        orders.create(document)
    assert count(orders, "orders") == 0
