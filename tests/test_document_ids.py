"""Ids given to get, exists, delete, patch and replace: an id no document can have (another type, a value the key
column cannot hold) is DocumentNotFound (exists: False), on every database, never a driver's error (PostgreSQL
refused `'abc'` for an integer key, SQLite a dict, MariaDB a lone surrogate) nor, on SQLite, another document
(5 compared equal to '5'); an integer id also finds its document by its digits, as a path parameter gives them."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runtime_helpers import open_store
from schemarel.errors import DocumentNotFound
from schemarel.runtime.store import Store

# the kinds of key: the database's integers, a string property, an integer property, the default uuid
SCHEMAS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "serial": ({"x-sql": {"primaryKey": "identity"}, "properties": {"n": {"type": "integer"}}}, {"n": 1}),
    "coded": (
        {"x-sql": {"primaryKey": {"property": "code"}}, "required": ["code"],
         "properties": {"code": {"type": "string", "maxLength": 10}}},
        {"code": "5"},
    ),
    "numbered": (
        {"x-sql": {"primaryKey": {"property": "num"}}, "required": ["num"], "properties": {"num": {"type": "integer"}}},
        {"num": 5},
    ),
    "plain": ({"properties": {"n": {"type": "integer"}}}, {"n": 1}),
}  # fmt: skip
STRANGERS = st.one_of(
    st.sampled_from([None, True, False, 1.5, Decimal("1"), b"5", [5], {"a": 1}, (5,), dt.date(2024, 1, 2), "", "\x00",
                     "5\x00", " 5", "05", "+5", "5 ", "x1", str(2**63), 2**63, -(2**63) - 1, 2**64]),
    st.uuids(),
    st.text(max_size=6).map(lambda t: t + "\ud800"),
    st.integers(),
    st.text(max_size=12),
)  # fmt: skip


@pytest.fixture
def stores(three_db_url: str, tmp_path: Path) -> dict[str, tuple[Store, Any]]:
    found = {}
    for name, (schema, _) in SCHEMAS.items():
        (tmp_path / f"{name}.schema.json").write_text(json.dumps({"title": name.title(), "type": "object", **schema}))
    for name, (_, document) in SCHEMAS.items():
        store = open_store(three_db_url, name, schemas_dir=tmp_path)
        found[name] = (store, store.create(document))
    return found


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stranger=STRANGERS)
def test_an_id_no_document_has_is_not_found(stores: dict[str, tuple[Store, Any]], stranger: Any) -> None:
    for name, (store, doc_id) in stores.items():
        document = store.get(doc_id)
        if stranger == doc_id and type(stranger) is type(doc_id):
            continue
        if name in ("serial", "numbered") and isinstance(stranger, str) and stranger == str(doc_id):
            continue  # its digits: found (the next test)
        if name == "plain" and isinstance(stranger, str) and stranger.lower() == str(doc_id):
            continue  # a uuid's text
        assert not store.exists(stranger), (name, stranger)
        _not_found(store, stranger, document)
        assert store.get(doc_id) == document and store.count() == 1


def _not_found(store: Store, stranger: Any, document: Any) -> None:
    with pytest.raises(DocumentNotFound):
        store.get(stranger)
    with pytest.raises(DocumentNotFound):
        store.delete(stranger)
    with pytest.raises(DocumentNotFound):
        store.patch(stranger, {})
    with pytest.raises(DocumentNotFound):
        store.replace(stranger, document)


def test_an_integer_id_is_found_by_its_digits_too(stores: dict[str, tuple[Store, Any]]) -> None:
    for name in ("serial", "numbered"):
        store, doc_id = stores[name]
        assert isinstance(doc_id, int)
        assert store.get(str(doc_id)) == store.get(doc_id) and store.exists(str(doc_id))
        assert store.patch(str(doc_id), {}) == store.get(doc_id)
        store.delete(str(doc_id))
        assert not store.exists(doc_id)
    store, doc_id = stores["plain"]
    assert store.get(str(doc_id)) == store.get(uuid.UUID(str(doc_id)))
