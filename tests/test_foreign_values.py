"""Python values that are no JSON data, given to the Store's filters and documents: refused with schemarel's
own error naming the path (QueryError, DocumentInvalid), on every database, never a driver's error or a bare
ValueError from the validator."""

from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from api_helpers import close_either, open_either
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runtime_helpers import SCHEMAS, customer, open_store
from schemarel.errors import DocumentInvalid
from schemarel.runtime.query import QueryError
from schemarel.runtime.store import Store


class Colour(enum.Enum):  # an Enum member is no string (psycopg would send its name, SQLite refuses it)
    RED = "mobile"


class Text(str):  # jsonschema-rs takes no subclass of str, int or float
    pass


class Number(int):
    pass


# filterable paths of each kind of place: a root text column, an object's table, an array of strings, an enum in
# an array's table, a boolean
PATHS = ["firstName", "address.city", "emails", "phoneNumbers.type", "privacySettings.twoFactorEnabled"]
FOREIGN = st.sampled_from(
    [set(), frozenset({"a"}), (1, 2), complex(1, 2), range(3), object(), Colour.RED, b"mobile", bytearray(b"x"),
     dt.time(1, 2), uuid.UUID(int=7), dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4)]
)  # fmt: skip
SURROGATE = st.builds(
    lambda before, code, after: before + chr(code) + after,
    st.text(max_size=3),
    st.integers(0xD800, 0xDFFF),
    st.text(max_size=3),
)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def customers(db_url: str) -> Store:
    store = open_store(db_url, "customer")
    store.create(customer(1))
    return store


def _filters(path: str, value: Any) -> list[dict[str, Any]]:
    ops: list[Any] = [value, {"ne": value}, {"gt": value}, {"lte": value}, {"in": ["mobile", value]}]
    if isinstance(value, str):
        ops += [{"contains": value}, {"startswith": value}]
    return [{path: op} for op in ops]


@SETTINGS
@given(path=st.sampled_from(PATHS), value=st.one_of(FOREIGN, SURROGATE))
def test_a_filter_value_no_column_holds_is_refused_naming_its_path(customers: Store, path: str, value: Any) -> None:
    for where in _filters(path, value):
        with pytest.raises(QueryError, match=f"^{path}: "):
            list(customers.find(where))
        with pytest.raises(QueryError, match=f"^{path}: "):
            customers.count(where)


# a string's formats stored in columns of their own (uuid, timestamp, date, time): the conversions to those columns
# take the document's strings, and a Python value of the column's type given to a filter is no document's either
FORMATS = {"token": "uuid", "at": "date-time", "day": "date", "clock": "time"}
STAMP = {"token": str(uuid.UUID(int=7)), "at": "2024-01-02T03:04:05Z", "day": "2024-01-02", "clock": "01:02:03Z"}


@pytest.fixture
def stamped(db_url: str, tmp_path: Path) -> Store:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Stamp",
        "type": "object",
        "properties": {name: {"type": "string", "format": f} for name, f in FORMATS.items()},
    }
    (tmp_path / "stamp.schema.json").write_text(json.dumps(schema))
    store = open_store(db_url, "stamp", schemas_dir=tmp_path)
    store.create(STAMP)
    return store


@SETTINGS
@given(
    path=st.sampled_from(sorted(FORMATS)),
    value=st.one_of(
        st.builds(uuid.UUID, st.uuids().map(str)),
        st.datetimes(timezones=st.just(dt.UTC)),
        st.dates(),
        st.times(),
    ),
)
def test_a_formatted_path_takes_the_documents_string_not_a_python_value(stamped: Store, path: str, value: Any) -> None:
    for where in _filters(path, value):
        with pytest.raises(QueryError, match=f"^{path}: "):
            list(stamped.find(where))
    assert len(list(stamped.find({path: STAMP[path]}))) == 1  # the document's own string finds it


@SETTINGS
@given(
    value=st.one_of(
        st.builds(Text, st.text(max_size=5)),
        st.builds(Number, st.integers(-5, 5)),
        st.just(Decimal("1.5")),
        st.just(Colour.RED),
    ),
    where=st.sampled_from([(), ("address",), ("phoneNumbers", 0)]),
)
def test_a_value_the_validator_cannot_read_where_the_schema_allows_none_is_invalid(
    customers: Store, value: Any, where: tuple[Any, ...]
) -> None:
    document = customer(2)
    node: Any = document
    for step in where:
        node = node[step]
    node["notInTheSchema"] = value  # additionalProperties: false there
    before = customers.count()
    with pytest.raises(DocumentInvalid):
        customers.create(document)
    with pytest.raises(DocumentInvalid):
        customers.create_many([customer(3), document])
    assert customers.count() == before


# arguments of another type or out of range: a limit or batch of 0 read nothing without a word, PostgreSQL refused
# a negative LIMIT as a document's value, a string given as `where` raised AttributeError
BAD_COUNTS = st.sampled_from([0, -1, 1.5, "10", None, True, [1], float("nan")])
BAD_WHERE = st.sampled_from(["firstName", ["firstName"], 1, b"x", {1: "a"}, {("firstName",): "a"}])
BAD_ORDER = st.sampled_from([1, b"firstName", [1], ["firstName", None], {"firstName": 1}, object()])


@SETTINGS
@given(count=BAD_COUNTS, where=BAD_WHERE, order=BAD_ORDER)
def test_arguments_of_another_kind_are_refused_naming_them(
    customers: Store, count: Any, where: Any, order: Any
) -> None:
    _refused_arguments(customers, "sync", count, where, order)


@pytest.mark.postgres
@SETTINGS
@given(count=BAD_COUNTS, where=BAD_WHERE, order=BAD_ORDER)
def test_the_async_store_refuses_them_too(postgres_url: str, count: Any, where: Any, order: Any) -> None:
    open_store(postgres_url, "customer").close()
    store = open_either("async", postgres_url, "customer", schemas_dir=SCHEMAS)
    try:
        _refused_arguments(store, "async", count, where, order)
    finally:
        close_either(store)


def _refused_arguments(store: Any, kind: str, count: Any, where: Any, order: Any) -> None:
    before = store.count()
    calls: list[tuple[str, Any]] = [
        ("batch_size", lambda: list(store.find(batch_size=count))),
        ("batch_size", lambda: list(store.pages(batch_size=count))),
        ("batch_size", lambda: store.create_many([customer(5)], batch_size=count)),
        ("where", lambda: list(store.find(where))),
        ("where", lambda: store.count(where)),
        ("where", lambda: store.page(where)),
        ("order_by", lambda: list(store.find(order_by=order))),
        ("order_by", lambda: store.page(order_by=order)),
    ]
    if count is not None:  # find's limit may be None (no limit) and 0 (nothing)
        calls.append(("limit", lambda: store.page(limit=count)))
        if count != 0:
            calls.append(("limit", lambda: list(store.find(limit=count))))
    if kind == "sync":
        calls.append(("batch_size", lambda: list(store.items(batch_size=count))))
    for name, call in calls:
        with pytest.raises(QueryError, match=f"^{name}"):
            call()
    assert store.count() == before  # nothing written
