"""The application's API on PostgreSQL, through the sync Store and the AsyncStore alike: lookups by value,
keyset pages, merge patches with optimistic concurrency, the model read from generated/, clear errors."""

from __future__ import annotations

import datetime as dt
import json
import operator
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from api_helpers import GENERATED, TICKET, close_either, open_either
from conftest import committed_revisions, create_users_table
from dbtools import migrate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runtime_helpers import customer
from schemarel import (
    ConcurrentUpdate,
    ConstraintViolation,
    DocumentInvalid,
    DocumentNotFound,
    MigrationRequired,
)
from schemarel.runtime.query import QueryError

pytestmark = pytest.mark.postgres
KINDS = ["sync", "async"]


@pytest.fixture(scope="module")
def app_url(postgres_server: sa.Engine) -> Iterator[str]:
    """One PostgreSQL database upgraded with the repository's generated migrations (users created first)."""
    import conftest

    gen = conftest._fresh_database(postgres_server, '"')
    url = next(gen)
    create_users_table(url)
    migrate(GENERATED, url, "upgrade", "head")
    yield url
    gen.close()


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def stores(kind: str, app_url: str) -> Iterator[tuple[Any, Any]]:
    customers = open_either(kind, app_url, "customer", source=GENERATED)
    profiles = open_either(kind, app_url, "profile", source=GENERATED)
    engine = sa.create_engine(app_url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE customer_profiles, profiles, users CASCADE")
    engine.dispose()
    yield customers, profiles
    close_either(customers)
    close_either(profiles)


def test_get_by_unique_field_and_find_inside_arrays(stores: tuple[Any, Any], app_url: str) -> None:
    customers, profiles = stores
    engine = sa.create_engine(app_url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO users (id, email) VALUES ('u1', 'a@x'), ('u2', 'b@x')")
    engine.dispose()
    profiles.create({"userId": "u1", "timezone": "Europe/Paris"})
    profiles.create({"userId": "u2"})
    assert profiles.get_by(userId="u1") == {"userId": "u1", "timezone": "Europe/Paris", "currency": "USD"}
    with pytest.raises(DocumentNotFound, match="no profile document with userId 'u3'"):
        profiles.get_by(userId="u3")
    with pytest.raises(QueryError, match="not unique"):
        profiles.get_by(timezone="UTC")
    ids = customers.create_many([customer(i, emails=[f"c{i}@example.{'com' if i % 3 else 'org'}"]) for i in range(9)])
    at_org = [doc_id for doc_id, _ in customers.find({"emails": {"endswith": "@example.org"}})]
    assert at_org == sorted(ids[i] for i in (0, 3, 6))
    # filters on one array's fields hold for the same item; root columns, flattened objects, 1:1 tables
    mobile = customers.find({"phoneNumbers.type": "mobile", "phoneNumbers.number": "+4400000004"})
    assert [d["firstName"] for _, d in mobile] == ["Ada4"]
    assert list(customers.find({"phoneNumbers.type": "home", "phoneNumbers.number": "+4400000004"})) == []
    twofa = customers.find({"privacySettings.marketingEmailsEnabled": True, "address.city": {"in": ["London"]}})
    assert sorted(d["firstName"] for _, d in twofa) == [f"Ada{i}" for i in (0, 2, 4, 6, 8)]
    assert customers.count({"firstName": {"gte": "Ada5"}}) == 4
    with pytest.raises(QueryError, match="no path 'nope'"):
        customers.count({"nope": 1})


def test_find_orders_and_pages_by_keyset(stores: tuple[Any, Any]) -> None:
    customers, _ = stores
    names = ["b", "a", "c", "a", "b", "a"]
    ids = customers.create_many([customer(i, lastName=n) for i, n in enumerate(names)])
    expected = sorted(zip(names, map(str, ids), ids, strict=True), key=lambda t: (t[0], t[1]))
    wanted = [doc_id for *_, doc_id in expected]
    assert [i for i, _ in customers.find(order_by="lastName", batch_size=2)] == wanted
    pages, after = [], None
    while True:
        page = customers.page(order_by=["lastName"], limit=4, after=after)
        pages.append([i for i, _ in page.items])
        if page.next is None:
            break
        after = page.next
    assert [i for p in pages for i in p] == wanted and pages[0] == wanted[:4]
    descending = sorted(expected, key=lambda t: (t[0] == "a", t[0] == "b", t[1]))  # names down, ids up
    assert [i for i, _ in customers.find(order_by="-lastName", limit=2)] == [i for *_, i in descending][:2]
    assert [d["lastName"] for _, d in customers.find(order_by="-lastName")] == sorted(names, reverse=True)


def test_patch_writes_only_what_changed_validates_and_detects_concurrent_updates(
    stores: tuple[Any, Any], app_url: str
) -> None:
    customers, profiles = stores
    doc_id = customers.create(customer(1))
    engine = sa.create_engine(app_url, poolclass=sa.pool.NullPool)

    def keys(table: str) -> list[int]:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(f"SELECT id FROM {table} ORDER BY id")).scalars())

    phones, emails = keys("customer_profile_phone_numbers"), keys("customer_profile_emails")
    after = customers.patch(doc_id, {"middleName": "B", "address": {"line2": "Flat 2"}})
    assert after == customers.get(doc_id) and after["middleName"] == "B" and after["address"]["line2"] == "Flat 2"
    assert keys("customer_profile_phone_numbers") == phones and keys("customer_profile_emails") == emails
    after = customers.patch(doc_id, {"emails": ["new@example.com"], "address": None})
    assert "address" not in after and after["emails"] == ["new@example.com"]
    assert keys("customer_profile_phone_numbers") == phones and keys("customer_profile_emails") != emails
    with pytest.raises(DocumentInvalid) as invalid:
        customers.patch(doc_id, {"emails": [], "phoneNumbers": [{"type": "fax", "number": "1"}]})
    assert {v.pointer for v in invalid.value.violations} >= {"#/emails", "#/phoneNumbers/0/type"}
    assert customers.get(doc_id) == after
    with pytest.raises(ConcurrentUpdate):
        customers.patch(doc_id, {"firstName": "X"}, if_match={**after, "firstName": "stale"})
    assert customers.patch(doc_id, {"firstName": "X"}, if_match=after)["firstName"] == "X"
    with pytest.raises(DocumentNotFound):
        customers.patch("00000000-0000-0000-0000-000000000000", {"firstName": "X"})
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO users (id, email) VALUES ('u1', 'a@x')")
    pid = profiles.create({"userId": "u1"})
    with engine.connect() as conn:
        stamp = conn.execute(sa.text("SELECT updated_at FROM profiles")).scalar_one()
    assert profiles.patch(pid, {"settings": {"beta": True}, "currency": None}) == {
        "userId": "u1", "timezone": "UTC", "currency": "USD", "settings": {"beta": True}
    }  # fmt: skip
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT updated_at FROM profiles")).scalar_one() > stamp
    with pytest.raises(ConstraintViolation, match="fk_profiles__user_id__users"):
        profiles.patch(pid, {"userId": "nobody"})
    with pytest.raises(ConstraintViolation, match="fk_profiles__user_id__users"):
        profiles.create({"userId": "nobody"})  # one statement, straight through the driver: the same error
    engine.dispose()


def test_registration_in_one_transaction_rolls_the_user_back(stores: tuple[Any, Any], app_url: str, kind: str) -> None:
    """The README's registration: the user row and the profile commit together, or neither."""
    _, profiles = stores
    if kind == "sync":
        engine = sa.create_engine(app_url, poolclass=sa.pool.NullPool)
        with pytest.raises(DocumentInvalid), engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO users (id, email) VALUES ('u9', 'c@x')"))
            profiles.create({"userId": "u9", "currency": "euro"}, conn=conn)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM users")).scalar_one() == 0
        engine.dispose()
    else:
        store = profiles.store

        async def register() -> None:
            async with store.engine.begin() as conn:
                await conn.execute(sa.text("INSERT INTO users (id, email) VALUES ('u9', 'c@x')"))
                await store.create({"userId": "u9", "currency": "euro"}, conn=conn)

        with pytest.raises(DocumentInvalid):
            profiles.loop.run_until_complete(register())
        assert profiles.count() == 0 and profiles.find() and list(profiles.find()) == []


def test_the_database_revision_is_checked_and_missing_tables_say_what_to_run(
    kind: str, postgres_url: str, tmp_path: Path
) -> None:
    """A database never upgraded, or behind the models: MigrationRequired names the command, at start."""
    head = committed_revisions()[-1]
    with pytest.raises(MigrationRequired, match=f"never upgraded.*models are at {head}: run `schemarel upgrade`"):
        store = open_either(kind, postgres_url, "customer", source=GENERATED)
        store.count()
    create_users_table(postgres_url)
    migrate(GENERATED, postgres_url, "upgrade", "0002")
    with pytest.raises(
        MigrationRequired, match=rf"the database is at 0002, the models at {head}: run `schemarel upgrade`"
    ):
        store = open_either(kind, postgres_url, "customer", source=GENERATED)
        store.count()
    # without the check (or built from schema files), a missing table is the same kind of error
    migrate(GENERATED, postgres_url, "downgrade", "base")
    store = open_either(kind, postgres_url, "profile", source=GENERATED, check=False)
    with pytest.raises(MigrationRequired, match="no such table|does not exist.*run `schemarel upgrade` first"):
        store.create({"userId": "u1"})
    with pytest.raises(MigrationRequired, match="run `schemarel upgrade` first"):
        store.get_by(userId="u1")
    close_either(store)


# -- find holds to a reading of the filters in Python, on many documents and filters ----------------------
TAGS = st.sampled_from(["a", "b", "c%", "d_"])
TICKETS = st.lists(
    st.fixed_dictionaries(
        {
            "status": st.sampled_from(["new", "open", "closed"]),
            "opened": st.datetimes(dt.datetime(2020, 1, 1), dt.datetime(2021, 1, 1)).map(
                lambda d: d.replace(microsecond=0).isoformat() + "Z"
            ),
            "tags": st.lists(TAGS, max_size=3),
            "lines": st.lists(
                st.fixed_dictionaries({"sku": st.sampled_from(["x", "y", "z"]), "qty": st.integers(0, 5)}), max_size=3
            ),
        },
        optional={
            "score": st.integers(-3, 3).map(float),
            "urgent": st.booleans(),
            "owner": st.sampled_from(["ann", "bob"]),
        },
    ),
    max_size=8,
)
SCALAR_FILTERS = st.one_of(
    st.tuples(st.just("status"), st.sampled_from(["new", "open", {"in": ["new", "closed"]}, {"ne": "open"}])),
    st.tuples(
        st.just("score"),
        st.one_of(
            st.integers(-3, 3).map(float),
            st.builds(lambda o, v: {o: v}, st.sampled_from(["lt", "lte", "gt", "gte"]), st.integers(-3, 3)),
        ),
    ),  # fmt: skip
    st.tuples(st.just("urgent"), st.sampled_from([True, False, None])),
    st.tuples(st.just("owner"), st.sampled_from(["ann", None, {"startswith": "b"}, {"in": []}])),
    st.tuples(
        st.just("opened"), st.sampled_from([{"gte": "2020-07-01T00:00:00Z"}, {"lt": "2020-03-01T02:00:00+02:00"}])
    ),
    st.tuples(st.just("tags"), st.sampled_from(["a", {"endswith": "%"}, {"startswith": "d_"}, {"in": ["b", "c%"]}])),
    st.tuples(st.just("lines.sku"), st.sampled_from(["x", {"ne": "y"}])),
    st.tuples(st.just("lines.qty"), st.sampled_from([{"gte": 3}, 0, {"in": [1, 2]}])),
)


OPS: dict[str, Callable[[Any, Any], bool]] = {
    "ne": operator.ne,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
    "in": lambda value, operand: value in operand,
    "startswith": str.startswith,
    "endswith": str.endswith,
}


def _matches(value: Any, spec: Any) -> bool:
    """One filter read in Python: a value is equality (None: absent or null); operators skip absent values."""
    if not isinstance(spec, dict):
        return value == spec if spec is not None else value is None
    return value is not None and all(OPS[op](value, operand) for op, operand in spec.items())


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _holds(doc: dict[str, Any], where: dict[str, Any]) -> bool:
    lines_conds = {k.split(".")[1]: v for k, v in where.items() if k.startswith("lines.")}
    for path, spec in where.items():
        if path == "tags":
            if not any(_matches(t, spec) for t in doc["tags"]):
                return False
        elif path == "opened":
            spec = {op: _instant(v) for op, v in spec.items()}
            if not _matches(_instant(doc["opened"]), spec):
                return False
        elif not path.startswith("lines.") and not _matches(doc.get(path), spec):
            return False
    return not lines_conds or any(all(_matches(line[k], v) for k, v in lines_conds.items()) for line in doc["lines"])


@pytest.fixture(scope="module")
def ticket_stores(postgres_server: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import conftest

    schemas = tmp_path_factory.mktemp("tickets") / "schemas"
    schemas.mkdir()
    (schemas / "ticket.schema.json").write_text(json.dumps(TICKET))
    # a ticket without arrays: one row per document, read by statements sent straight through psycopg
    flat = {**TICKET, "title": "FlatTicket", "required": ["number", "status", "opened"]}
    flat["properties"] = {k: v for k, v in TICKET["properties"].items() if k not in ("tags", "lines")}
    (schemas / "flat.schema.json").write_text(json.dumps(flat))
    gen = conftest._fresh_database(postgres_server, '"')
    url = next(gen)
    stores = {kind: open_either(kind, url, "ticket", schemas_dir=schemas) for kind in KINDS}
    stores |= {f"flat-{kind}": open_either(kind, url, "flat", schemas_dir=schemas) for kind in KINDS}
    assert stores["flat-sync"].direct.enabled and not stores["sync"].direct.enabled
    with stores["sync"].engine.begin() as conn:
        stores["sync"].metadata.create_all(conn)
    yield stores
    for store in stores.values():
        close_either(store)
    gen.close()


def emptied_tickets(
    ticket_stores: dict[str, Any], kind: str, documents: list[dict[str, Any]], filters: list[Any]
) -> tuple[Any, list[dict[str, Any]], list[Any]]:
    """The `kind` store with its tickets deleted, and the drawn documents and filters it can hold: a flat store's
    without the array fields, each document numbered by its place (`number` is unique)."""
    sync = ticket_stores["flat-sync" if kind.startswith("flat") else "sync"]
    with sync.engine.begin() as conn:
        conn.execute(sa.delete(sync.root.sa_table))
    if kind.startswith("flat"):
        documents = [{k: v for k, v in d.items() if k not in ("tags", "lines")} for d in documents]
        filters = [f for f in filters if f[0] not in ("tags", "lines.sku", "lines.qty")]
    return ticket_stores[kind], [{**d, "number": n} for n, d in enumerate(documents)], filters


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(documents=TICKETS, filters=st.lists(SCALAR_FILTERS, max_size=3, unique_by=lambda f: f[0]), data=st.data())
def test_find_is_the_filters_read_in_python(
    ticket_stores: dict[str, Any], documents: list[dict[str, Any]], filters: list[Any], data: st.DataObject
) -> None:
    kind = data.draw(st.sampled_from([*KINDS, "flat-sync", "flat-async"]))
    store, documents, filters = emptied_tickets(ticket_stores, kind, documents, filters)
    ids = store.create_many(documents)
    where = dict(filters)
    expected = [doc_id for doc_id, doc in zip(ids, documents, strict=True) if _holds(doc, where)]
    assert [doc_id for doc_id, _ in store.find(where)] == sorted(expected)
    assert store.count(where) == len(expected)
    # NULLs last in either direction; the id breaks ties (an enum orders by its values' order on PostgreSQL)
    ordered = [d["number"] for _, d in store.find(where, order_by=["-score", "owner"], batch_size=2)]
    key = {
        d["number"]: (
            d.get("score") is None,
            -(d.get("score") or 0),
            d.get("owner") is None,
            d.get("owner", ""),
            str(i),
        )
        for i, d in zip(ids, documents, strict=True)
    }
    chosen = [d["number"] for i, d in zip(ids, documents, strict=True) if i in expected]
    assert ordered == sorted(chosen, key=key.__getitem__)


PATCH_VALUES = {
    "status": st.sampled_from(["new", "closed", "bogus", None]),
    "opened": st.sampled_from(["2021-02-03T04:05:06Z", "not a time", None]),
    "score": st.sampled_from([1.5, -2.0, "high", None]),
    "urgent": st.sampled_from([True, False, None]),
    "owner": st.sampled_from(["cy", "x" * 21, None]),
    "number": st.sampled_from([None, "seven"]),
    "tags": st.sampled_from([["q"], [], None, [1]]),
    "lines": st.sampled_from([[{"sku": "k", "qty": 2}], [{"sku": "k"}], None]),
    "nope": st.just(1),
    # RFC 7396 inside a JSON column: an object merges into the stored one (its nulls remove members)
    "meta": st.sampled_from([{"a": 1, "b": None}, {"c": {"x": None, "y": 2}}, {}, {"d": [None]}, [1], "s", None]),
}
PATCHES = st.dictionaries(st.sampled_from(sorted(PATCH_VALUES)), st.none(), max_size=4).flatmap(
    lambda keys: st.fixed_dictionaries({k: PATCH_VALUES[k] for k in keys})
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(patches=st.lists(PATCHES, min_size=1, max_size=4), data=st.data())
def test_patch_is_the_merge_patch_validated_whole(
    ticket_stores: dict[str, Any], patches: list[dict[str, Any]], data: st.DataObject
) -> None:
    """Whether the one-statement path (root columns only) or the row diff applies, a patch stores exactly the
    RFC 7396 result when that is valid, and changes nothing (DocumentInvalid) when it is not."""
    from schemarel.runtime.patch import merge_patch

    kind = data.draw(st.sampled_from([*KINDS, "flat-sync", "flat-async"]))
    store = ticket_stores[kind]
    sync = ticket_stores["flat-sync" if kind.startswith("flat") else "sync"]
    with sync.engine.begin() as conn:
        conn.execute(sa.delete(sync.root.sa_table))
    start = {"number": 7, "status": "open", "opened": "2020-01-01T00:00:00Z", "tags": ["a"], "lines": [],
             "owner": "ann", "meta": {"b": 0, "c": {"x": 1}}}  # fmt: skip
    if kind.startswith("flat"):
        start = {k: v for k, v in start.items() if k not in ("tags", "lines")}
    doc_id = store.create(start)
    current = store.get(doc_id)
    for change in patches:
        expected = merge_patch(current, change)
        if sync.validator.violations(expected):
            with pytest.raises(DocumentInvalid):
                store.patch(doc_id, change)
        else:
            assert store.patch(doc_id, change) == expected
            current = expected
        assert store.get(doc_id) == current


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    settings_value=st.one_of(
        st.just("absent"),
        st.none(),
        st.dictionaries(
            st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=5),
            st.integers() | st.booleans(),
            max_size=3,
        ),
    ),
    timezone=st.sampled_from(["UTC", "Europe/Paris"]),
)
def test_one_row_documents_read_directly_as_the_general_reader_reads_them(
    app_url: str, settings_value: Any, timezone: str
) -> None:
    """get, get_by and find of a profile (one row) go through the plain reader; the same rows through
    DocumentMap.node give the same documents, and both are the document written."""
    profiles = open_either("sync", app_url, "profile", source=GENERATED)
    engine = sa.create_engine(app_url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("TRUNCATE profiles, users CASCADE")
            conn.exec_driver_sql("INSERT INTO users (id, email) VALUES ('u1', 'a@x')")
        document = {"userId": "u1", "timezone": timezone, "currency": "USD"}
        if settings_value != "absent":
            document["settings"] = settings_value
        doc_id = profiles.create(document)
        assert profiles.direct.enabled
        with engine.connect() as conn:
            row = conn.execute(profiles.mapping.select(profiles.root)).one()
        assert profiles.read_row(row) == profiles.mapping.node(profiles.root, row) == document
        assert profiles.get(doc_id) == profiles.get_by(userId="u1") == document == next(profiles.find())[1]
    finally:
        engine.dispose()
        close_either(profiles)
