"""`patch(..., if_match=document)`, optimistic concurrency: the document as `get` returned it (numbers with a
fraction as Decimals), or as `json.loads` read the same text (floats), matches; one changed value, or `true`
in place of `1`, does not (ConcurrentUpdate, nothing written). Drawn documents of a schema with numbers, integers,
booleans, strings, a nested object and arrays, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runtime_helpers import open_store
from schemarel.errors import ConcurrentUpdate
from schemarel.runtime import exactjson
from schemarel.runtime.store import Store

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Quote",
    "type": "object",
    "properties": {
        "price": {"type": "number"},
        "count": {"type": "integer"},
        "ok": {"type": "boolean"},
        "note": {"type": "string"},
        "box": {
            "type": "object",
            "properties": {"weight": {"type": "number"}, "flag": {"type": ["boolean", "integer"]}},
        },
        "rates": {"type": "array", "items": {"type": "number"}},
        "extra": {},
    },
}
TEXT = st.text(st.characters(exclude_characters="\x00"), max_size=5)  # PostgreSQL refuses NUL (ValueRejected)
NUMBERS = st.one_of(
    st.integers(-(2**53), 2**53),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**6), max_value=10**6),
)
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=6,
)
DOCUMENTS = st.fixed_dictionaries(
    {},
    optional={
        "price": NUMBERS,
        "count": st.integers(-(2**53), 2**53),
        "ok": st.booleans(),
        "note": TEXT,
        "box": st.fixed_dictionaries(
            {}, optional={"weight": NUMBERS, "flag": st.one_of(st.booleans(), st.integers(0, 2))}
        ),
        "rates": st.lists(NUMBERS, max_size=3),
        "extra": JSON,
    },
)


@pytest.fixture
def quotes(db_url: str, tmp_path: Path) -> Store:
    (tmp_path / "quote.schema.json").write_text(json.dumps(SCHEMA))
    return open_store(db_url, "quote", schemas_dir=tmp_path)


def _changed(document: Any) -> Any:
    """The document with one value changed (a leaf, else a property added): no longer the stored one."""
    copy = exactjson.loads(exactjson.dumps(document))
    for key in ("price", "count", "ok", "note"):
        if key in copy:
            value = copy[key]
            if isinstance(value, bool):
                copy[key] = not value
            else:
                copy[key] = value + ("x" if isinstance(value, str) else 1)
            return copy
    copy["note"] = "added"
    return copy


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=DOCUMENTS)
def test_if_match_holds_for_the_document_as_read_and_only_for_it(quotes: Store, document: dict[str, Any]) -> None:
    doc_id = quotes.create(document)
    read = quotes.get(doc_id)
    with pytest.raises(ConcurrentUpdate):
        quotes.patch(doc_id, {"note": "late"}, if_match=_changed(read))
    assert quotes.get(doc_id) == read
    if isinstance(read.get("count"), int) and read["count"] in (0, 1):
        with pytest.raises(ConcurrentUpdate):  # a boolean is no number, though Python's True == 1
            quotes.patch(doc_id, {"note": "late"}, if_match={**read, "count": bool(read["count"])})
    floats = json.loads(exactjson.dumps(read))  # what a client that parsed the JSON text with floats holds
    assert quotes.patch(doc_id, {"note": "first"}, if_match=floats)["note"] == "first"
    again = quotes.get(doc_id)
    assert quotes.patch(doc_id, {"note": "second"}, if_match=again)["note"] == "second"
