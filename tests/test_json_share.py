"""`json_share`: the bytes of a document that land in JSON columns, checked against the definition computed here
independently (canonical JSON of the JSON-stored values, of `"name":value` for unnamed properties)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemarel.ir import SchemaModel
from schemarel.runtime.jsonshare import JsonShare, json_share
from schemarel.runtime.source import from_schemas

TYPED = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "count": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "address": {"type": "object", "properties": {"city": {"type": "string"}}, "additionalProperties": False},
    },
    "additionalProperties": False,
}
WITH_JSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "meta": {}},  # `meta`: any JSON value, a JSON column
    "additionalProperties": True,  # unnamed properties: the row's extra column
}

scalars = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=8)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=4), inner, max_size=3), max_leaves=8)  # fmt: skip


def model(tmp_path: Path, schema: dict[str, Any]) -> SchemaModel:
    schemas = tmp_path / "schemas"
    schemas.mkdir(exist_ok=True)
    (schemas / "thing.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    return from_schemas(schemas).database.schema("thing")


def canonical(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


typed_documents = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=10),
        "count": st.integers(-(2**31), 2**31 - 1),
        "tags": st.lists(st.text(max_size=5), max_size=3),
        "address": st.fixed_dictionaries({}, optional={"city": st.text(max_size=6)}),
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=typed_documents)
def test_a_fully_typed_document_has_nothing_in_json(tmp_path: Path, document: dict[str, Any]) -> None:
    assert json_share(model(tmp_path, TYPED), document) == JsonShare(0, canonical(document))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.none() | st.text(max_size=10),
    meta=st.none() | json_values,
    extras=st.dictionaries(st.text(min_size=1, max_size=5).filter(lambda k: k not in ("name", "meta")), json_values),
)
def test_json_columns_and_unnamed_properties_count_as_their_text(
    tmp_path: Path, name: str | None, meta: Any, extras: dict[str, Any]
) -> None:
    document: dict[str, Any] = {**({"name": name} if name is not None else {}), **extras}
    if meta is not None:
        document["meta"] = meta
    expected = (canonical(meta) if meta is not None else 0) + sum(canonical({k: v}) - 2 for k, v in extras.items())

    found = json_share(model(tmp_path, WITH_JSON), document)

    assert found == JsonShare(expected, canonical(document))
    assert 0 <= found.share <= 1


def test_a_document_stored_whole_as_json_is_all_json(tmp_path: Path) -> None:
    document = {"anything": [1, {"b": None}], "é": "ü"}  # non-ASCII counted in UTF-8 bytes on both sides
    found = json_share(model(tmp_path, {"title": "anything"}), document)
    assert found == JsonShare(canonical(document), canonical(document))
    assert found.share == 1.0
    assert (found + found).share == 1.0
