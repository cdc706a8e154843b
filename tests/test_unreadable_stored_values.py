"""A stored value that SQLAlchemy's result processing or the driver refuses (a row another program wrote: SQLite
keeps 'yesterday' in a DATE column, PostgreSQL 'infinity' in a date and '24:00' in a time) is refused by every read
path naming the table, the column, the row's key and the value; exit 1 and no traceback from `schemarel export`.

Reads said `ValueError: Invalid isoformat string: 'yesterday'` (SQLite; a bare traceback from export) or "the
database cannot store a value of the document: date too large" (PostgreSQL, a read taken for a write), naming
neither where the value is nor that stored data is wrong.

So is a stored value a read would take for another value of its column's kind. Reads gave, silently: True for 7,
-1, 'yes' in a boolean column (SQLite, MariaDB: `bool()` of the integer), 1 for 1.5 and 1000 for '1_000' in an
integer column (SQLite: `int()`), 22:59:59 for MariaDB's TIME 838:59:59 and 23:00:00 for -01:00:00 (its day
dropped), Decimal('NaN') and ±Infinity for PostgreSQL's numeric and double NaN and infinities and SQLite's ±Inf
(no JSON number), bytes for a BLOB in a SQLite text column. The values schemarel writes still read back as written.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemarel import Store
from stored_values import drawn_document, plant, project_of, refused_by_every_read, upgraded_url

SCHEMA = {
    "title": "Item",
    "type": "object",
    "properties": {
        "code": {"type": "string", "x-sql": {"unique": True}},
        "day": {"type": "string", "format": "date"},
        "at": {"type": "string", "format": "date-time"},
        "clock": {"type": "string", "format": "time"},
        "ref": {"type": "string", "format": "uuid"},
        "price": {"type": "number"},
        "amount": {"type": "number", "x-sql": {"type": "numeric(12,2)"}},
        "whole": {"type": "number", "x-sql": {"type": "numeric(12,0)"}},
        "n": {"type": "integer"},
        "flag": {"type": "boolean"},
        "note": {"type": "string"},
        "label": {"type": "string", "maxLength": 20},
        "meta": {"type": "object"},
        "tags": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"on": {"type": "string", "format": "date"}, "done": {"type": "boolean"}},
            },
        },
    },
    "required": ["code"],
}
# a document of one table: read by one statement, on psycopg by the driver itself (the direct paths), and patched
# by one UPDATE … RETURNING
THING = {
    "title": "Thing",
    "type": "object",
    "properties": {k: v for k, v in SCHEMA["properties"].items() if k != "tags"},  # type: ignore[attr-defined]
    "required": ["code"],
}
# values every column gives back as written (no spelling kept beside them)
GOOD = {
    "day": "2024-01-02",
    "at": "2024-01-02T03:04:05Z",
    "clock": "03:04:05Z",
    "ref": "5f0c6a52-53f4-4bd7-9a4f-0ac5a8d6c0a1",
    "price": 1.25,
    "amount": 2.25,
    "whole": 7,
    "n": 3,
    "flag": True,
    "note": "a note",
    "label": "a label",
    "meta": {"a": 1},
    "tags": [{"on": "2024-01-01", "done": False}],
}
COLUMNS = [("items", c) for c in ("day", "at", "clock", "ref", "price", "amount", "n", "meta")] + [("item_tags", "on")]
# text no value of any column's kind is spelled as: no digits, no hex letters (a uuid), no float words
NONSENSE = st.text(
    st.characters(blacklist_categories=("Cs", "Nd"), blacklist_characters="abcdefABCDEF"), min_size=1, max_size=12
).filter(lambda t: t.strip().lower().lstrip("+-") not in {"nan", "inf", "infinity", "snan", "true", "null"})
SQLITE_CASES = st.tuples(
    st.sampled_from(COLUMNS),
    st.one_of(NONSENSE, st.sampled_from(["2024-13-45", "2024-02-30", "25:61:00", "yesterday", "1.2.3", "{bad", "NaN"])),
)
# what PostgreSQL's typed columns hold and psycopg cannot load (its text as PostgreSQL prints it back)
PG_DATES = ["infinity", "-infinity", "12345-06-07", "0044-03-15 BC", "200000-01-01"]
PG_CASES = st.one_of(
    st.tuples(st.sampled_from([("items", "day"), ("item_tags", "on")]), st.sampled_from(PG_DATES)),
    st.tuples(st.just(("items", "at")), st.sampled_from(["infinity", "-infinity"])),
    st.tuples(st.just(("items", "clock")), st.just("24:00:00")),
)
# what MariaDB's DATE and DATETIME hold where the SQL mode allows it, and PyMySQL gives as text
MYSQL_DATES = ["0000-00-00", "2024-00-10", "2024-02-00"]
MYSQL_CASES = st.one_of(
    st.tuples(st.sampled_from([("items", "day"), ("item_tags", "on")]), st.sampled_from(MYSQL_DATES)),
    st.tuples(st.just(("items", "at")), st.sampled_from([f"{d} 00:00:00" for d in MYSQL_DATES])),
)
CASES = {"sqlite": SQLITE_CASES, "postgresql": PG_CASES, "mysql": MYSQL_CASES}

# SQL literals: what each database's column holds and a read took for another value of the column's kind
TINYINTS = st.integers(-128, 127).filter(lambda n: n not in (0, 1)).map(str)  # MariaDB's BOOLEAN is a TINYINT
BOOLEANS = st.one_of(TINYINTS, st.sampled_from(["'yes'", "'true'", "'no'", "0.5", "x'01'"]))
SQLITE_MISREAD = st.one_of(
    st.tuples(
        st.sampled_from([("items", "note"), ("items", "label")]),
        st.binary(max_size=8).map(lambda b: f"x'{b.hex()}'"),  # a BLOB, even of UTF-8 text, reads as bytes
    ),
    st.tuples(st.sampled_from([("items", "flag"), ("item_tags", "done")]), BOOLEANS),
    st.tuples(
        st.just(("items", "n")),
        st.one_of(
            st.floats(-1e6, 1e6).filter(lambda x: not x.is_integer()).map(repr),
            st.sampled_from(["1e20", "-9.3e18", "'1_000'", "x'3132'"]),
        ),
    ),
    st.tuples(
        st.sampled_from([("items", "price"), ("items", "amount"), ("items", "whole")]),
        st.sampled_from(["9e999", "-9e999"]),
    ),
)
MYSQL_MISREAD = st.one_of(
    st.tuples(st.sampled_from([("items", "flag"), ("item_tags", "done")]), TINYINTS),
    st.tuples(
        st.just(("items", "clock")),
        st.one_of(st.integers(24 * 3600, 838 * 3600 + 3599), st.integers(-838 * 3600 - 3599, -1)).map(
            lambda s: f"'{'-' if s < 0 else ''}{abs(s) // 3600:02d}:{abs(s) // 60 % 60:02d}:{abs(s) % 60:02d}'"
        ),
    ),
)
PG_MISREAD = st.one_of(
    st.tuples(st.just(("items", "price")), st.sampled_from(["'NaN'", "'Infinity'", "'-Infinity'"])),
    st.tuples(st.sampled_from([("items", "amount"), ("items", "whole")]), st.just("'NaN'")),
)
MISREAD = {"sqlite": SQLITE_MISREAD, "mysql": MYSQL_MISREAD, "postgresql": PG_MISREAD}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return project_of(tmp_path_factory, {"item": SCHEMA, "thing": THING})


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def url(request: pytest.FixtureRequest, project: Path) -> str:
    return upgraded_url(request, project)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_an_unreadable_stored_value_is_named_by_every_read(project: Path, url: str, data: st.DataObject) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    dialect = engine.dialect.name
    (table, column), text = data.draw(CASES[dialect])
    name, good_doc = drawn_document(data, table, GOOD, {"item": SCHEMA, "thing": THING})
    # behind schemarel's back: the bad document's value, as another program would write it
    planted = plant(url, project, name, good_doc, table, column, ":v", {"v": text})
    table = f"{name}s" if table == "items" else table
    with engine.connect() as conn:
        # the value as the database gives it (PostgreSQL: as its text, which psycopg cannot load; SQLite's
        # column affinity may have made a number of the text)
        quoted = engine.dialect.identifier_preparer.quote(column)
        raw = f"CAST({quoted} AS TEXT)" if dialect == "postgresql" else quoted
        found = conn.execute(sa.text(f"SELECT {raw} FROM {table} WHERE id = :r"), {"r": planted.row_key})
        stored = found.scalar_one()
    refused_by_every_read(url, project, name, planted.bad, f"{planted.named}{stored!r}, which is no ")
    with Store(url, name, source=project / "generated") as store:
        assert store.get(planted.good)["code"] == "good"  # the other document is read as before
    if name == "item":  # the refused patch wrote nothing
        with engine.connect() as conn:
            code = conn.execute(sa.text("SELECT code FROM items WHERE id = :k"), {"k": planted.key}).scalar_one()
            assert code == "bad"
    engine.dispose()


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_misread_stored_value_is_named_by_every_read(project: Path, url: str, data: st.DataObject) -> None:
    (table, column), literal = data.draw(MISREAD[sa.make_url(url).get_backend_name()])
    name, good_doc = drawn_document(data, table, GOOD, {"item": SCHEMA, "thing": THING})
    with Store(url, name, source=project / "generated") as store:  # the values read back as written
        written = store.create({"code": "written", **good_doc})
        assert store.get(written) == {"code": "written", **good_doc}
    # behind schemarel's back: the bad document's value, as another program would write it
    planted = plant(url, project, name, good_doc, table, column, literal)
    # the value itself is shown as the read met it (PostgreSQL: its text or the driver's value)
    refused_by_every_read(url, project, name, planted.bad, planted.named)
    with Store(url, name, source=project / "generated") as store:
        assert store.get(planted.good) == {"code": "good", **good_doc}  # the other document reads as before


# what schemarel writes: every value of each column's kind reads back as written
TEXT = st.text(st.characters(codec="utf-8", blacklist_characters="\x00"), max_size=30)
GOOD_VALUES = st.fixed_dictionaries(
    {
        "flag": st.booleans(),
        "note": TEXT,
        "label": TEXT.filter(lambda t: len(t) <= 20),
        "n": st.integers(-(2**63), 2**63 - 1),
        "price": st.floats(allow_nan=False, allow_infinity=False),
        "amount": st.integers(-(10**12) + 1, 10**12 - 1).map(lambda c: Decimal(c).scaleb(-2)),
        "whole": st.integers(-(10**11), 10**11),
        "clock": st.times().map(lambda t: t.isoformat() + "Z"),
        "tags": st.lists(st.fixed_dictionaries({"done": st.booleans()}), max_size=3),
    }
)


def exact(value: Any) -> Any:
    """A document value with its floats as the exact numbers they are (reads give numbers as Decimals)."""
    if isinstance(value, dict):
        return {k: exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exact(v) for v in value]
    return Decimal(repr(value)) if isinstance(value, float) else value


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(values=st.lists(GOOD_VALUES, min_size=1, max_size=4))
def test_stored_values_of_each_kind_still_read_back(project: Path, url: str, values: list[dict[str, Any]]) -> None:
    written = [{"code": uuid.uuid4().hex, **v} for v in values]
    with Store(url, "item", source=project / "generated") as store:
        keys = [store.create(document) for document in written]
        read = dict(store.items())
        for key, document in zip(keys, written, strict=True):
            assert exact(store.get(key)) == exact(document)
            assert exact(read[key]) == exact(document)
