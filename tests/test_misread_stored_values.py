"""A stored value another program wrote that reads as some other value of its column's kind is refused by every read
path, named as the unreadable ones are (table, column, row key, value): exit 1 and no traceback from export.

Reads gave, silently: True for 7, -1, 'yes' in a boolean column (SQLite, MariaDB: `bool()` of the integer), 1 for
1.5 and 1000 for '1_000' in an integer column (SQLite: `int()`), 22:59:59 for MariaDB's TIME 838:59:59 and 23:00:00
for -01:00:00 (its day dropped), Decimal('NaN') and ±Infinity for PostgreSQL's numeric and double NaN and
infinities and SQLite's ±Inf (no JSON number). The values schemarel writes still read back as written.
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
from projects import generate, write_project
from schemarel import Store
from stored_values import plant, refused_by_every_read, upgraded_url

SCHEMA = {
    "title": "Item",
    "type": "object",
    "properties": {
        "code": {"type": "string", "x-sql": {"unique": True}},
        "flag": {"type": "boolean"},
        "n": {"type": "integer"},
        "price": {"type": "number"},
        "amount": {"type": "number", "multipleOf": 0.01},
        "whole": {"type": "number", "x-sql": {"type": "numeric(12,0)"}},
        "clock": {"type": "string", "format": "time"},
        "tags": {"type": "array", "items": {"type": "object", "properties": {"on": {"type": "boolean"}}}},
    },
    "required": ["code"],
}
THING = {  # one table: read by one statement, on psycopg by the driver itself (the direct paths)
    "title": "Thing",
    "type": "object",
    "properties": {k: v for k, v in SCHEMA["properties"].items() if k != "tags"},  # type: ignore[attr-defined]
    "required": ["code"],
}
# values every column gives back as written (no spelling kept beside them)
GOOD = {"flag": True, "n": 3, "price": 1.25, "amount": 2.25, "whole": 7, "clock": "03:04:05Z", "tags": [{"on": False}]}

# SQL literals: what each database's column holds and a read took for another value of the column's kind
TINYINTS = st.integers(-128, 127).filter(lambda n: n not in (0, 1)).map(str)  # MariaDB's BOOLEAN is a TINYINT
BOOLEANS = st.one_of(TINYINTS, st.sampled_from(["'yes'", "'true'", "'no'", "0.5", "x'01'"]))
SQLITE = st.one_of(
    st.tuples(st.sampled_from([("items", "flag"), ("item_tags", "on")]), BOOLEANS),
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
MYSQL = st.one_of(
    st.tuples(st.sampled_from([("items", "flag"), ("item_tags", "on")]), TINYINTS),
    st.tuples(
        st.just(("items", "clock")),
        st.one_of(st.integers(24 * 3600, 838 * 3600 + 3599), st.integers(-838 * 3600 - 3599, -1)).map(
            lambda s: f"'{'-' if s < 0 else ''}{abs(s) // 3600:02d}:{abs(s) // 60 % 60:02d}:{abs(s) % 60:02d}'"
        ),
    ),
)
POSTGRESQL = st.one_of(
    st.tuples(st.just(("items", "price")), st.sampled_from(["'NaN'", "'Infinity'", "'-Infinity'"])),
    st.tuples(st.sampled_from([("items", "amount"), ("items", "whole")]), st.just("'NaN'")),
)
CASES = {"sqlite": SQLITE, "mysql": MYSQL, "postgresql": POSTGRESQL}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_project(tmp_path_factory.mktemp("misread_stored"), {"item": SCHEMA, "thing": THING})
    assert generate(root).exit_code == 0
    return root


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def url(request: pytest.FixtureRequest, project: Path) -> str:
    return upgraded_url(request, project)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_misread_stored_value_is_named_by_every_read(project: Path, url: str, data: st.DataObject) -> None:
    (table, column), literal = data.draw(CASES[sa.make_url(url).get_backend_name()])
    name = data.draw(st.sampled_from(["item", "thing"] if table == "items" else ["item"]))
    good_doc = {k: v for k, v in GOOD.items() if k in (SCHEMA if name == "item" else THING)["properties"]}
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
GOOD_VALUES = st.fixed_dictionaries(
    {
        "flag": st.booleans(),
        "n": st.integers(-(2**63), 2**63 - 1),
        "price": st.floats(allow_nan=False, allow_infinity=False),
        "amount": st.integers(-(10**15), 10**15).map(lambda c: Decimal(c).scaleb(-2)),
        "whole": st.integers(-(10**11), 10**11),
        "clock": st.times().map(lambda t: t.isoformat() + "Z"),
        "tags": st.lists(st.fixed_dictionaries({"on": st.booleans()}), max_size=3),
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
