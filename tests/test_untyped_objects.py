"""A property whose keywords describe an object or an array but that says no `type` (`properties`, `items`
alone: ESLint's `rules`, common in draft-04 schemas) validates every other JSON value too. It keeps its columns
and tables, and a string, number, boolean or array there (an object for `items`) reads back exactly, kept
with the row's extras, on every dialect: it was dropped without a word. An array's items (a map's values)
whose keywords describe an array are JSON (a scalar item read back as `[]`); ones describing an object keep
their table, and another value there is refused, worded (FHIR's items are such objects)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from projects import write_project
from runtime_helpers import drawn_store, int64_only, open_store, same_json
from schemarel.errors import ValueRejected

pytestmark = pytest.mark.filterwarnings("ignore:Overriding standard format:hypothesis.errors.HypothesisWarning")

EXAMPLES = settings(
    max_examples=8,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SCALAR = st.sampled_from([{"type": "integer"}, {"type": "string", "maxLength": 5}, {"type": "boolean"}])


def untyped(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    """Object or array keywords without `type`, perhaps nested in each other or behind `allOf`."""
    inner = SCALAR if depth == 0 else st.one_of(SCALAR, untyped(depth - 1))
    objects = st.fixed_dictionaries({"properties": st.fixed_dictionaries({"a": SCALAR}, optional={"b": inner})})
    return st.one_of(
        objects,
        objects.map(lambda o: {"allOf": [o, {"properties": {"c": {"type": "string"}}}]}),
        st.fixed_dictionaries({"items": inner}),
    )


@st.composite
def schemas(draw: st.DrawFn) -> dict[str, Any]:
    """A root holding the untyped property `u`, required or not, in an object open or closed to others."""
    schema: dict[str, Any] = {"type": "object", "properties": {"u": draw(untyped(2)), "n": {"type": "string"}}}
    if draw(st.booleans()):
        schema["required"] = ["u"]
    if draw(st.booleans()):
        schema["additionalProperties"] = False
    return schema


ANY_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(st.characters(codec="utf-8",
    exclude_characters="\x00"), max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abcz"), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip


@pytest.mark.parametrize("run", range(2))
def test_untyped_property_keeps_every_value(three_db_url: str, tmp_path: Path, run: int) -> None:
    @EXAMPLES
    @given(st.data())
    def round_trip(data: st.DataObject) -> None:
        schema = data.draw(schemas())
        with drawn_store(tmp_path, three_db_url, "doc", schema) as store:
            drawn = from_schema(schema).filter(lambda d: "\\u0000" not in json.dumps(d) and int64_only(d))
            # a value of any type at `u` (what the keywords describe, or anything else), and drawn documents
            documents = [{"u": data.draw(ANY_VALUE)}] + [data.draw(drawn) for _ in range(2)]
            for document in documents:
                if store.validator.violations(document):
                    continue
                try:
                    doc_id = store.create(document)
                except ValueRejected as exc:  # an item of an untyped object that is no object: refused, worded
                    assert "where the tables hold an object" in str(exc), exc
                    continue
                got = store.get(doc_id)
                assert same_json(got, document), (schema, document, got)

    round_trip()


ESLINT_RULES = {
    "type": "object",
    "definitions": {
        "rule": {"oneOf": [{"type": "integer", "minimum": 0, "maximum": 2}, {"enum": ["off", "warn", "error"]}]},
        "possibleErrors": {"properties": {"no-console": {"$ref": "#/definitions/rule"}}},
        "stylisticIssues": {"properties": {"semi": {"$ref": "#/definitions/rule"}}},
    },
    "properties": {
        "rules": {"allOf": [{"$ref": "#/definitions/possibleErrors"}, {"$ref": "#/definitions/stylisticIssues"}]}
    },
}


@pytest.mark.parametrize(
    "rules", [{"semi": "error", "no-console": 1}, ["semi"], "error", 2, True, None, {}], ids=lambda r: json.dumps(r)
)
def test_eslint_rules_of_any_type_read_back(sqlite_url: str, tmp_path: Path, rules: Any) -> None:
    root = write_project(tmp_path, {"eslintrc": ESLINT_RULES})
    store = open_store(sqlite_url, "eslintrc", root / "schemas")
    try:
        document = {"rules": rules, "root": True}
        assert store.validator.violations(document) == []
        assert store.get(store.create(document)) == document
        assert [doc for _, doc in store.items()] == [document]
    finally:
        store.close()
