"""Maps (`additionalProperties`/`patternProperties` with a value schema) are child tables keyed by (parent, key):
generated map schemas store generated documents and read them back exactly, key order and `{}` included, on
every dialect; a schema that gains a map migrates up and down; its models type-check; its docs render."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from dbtools import assert_migrates
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from projects import columns, generate, model, write_project
from runtime_helpers import open_store, same_json
from schemarel.runtime.jsonshare import json_share
from schemarel.runtime.store import Store

pytestmark = pytest.mark.filterwarnings("ignore:Overriding standard format:hypothesis.errors.HypothesisWarning")

SCALARS = st.sampled_from(
    [
        {"type": "string", "maxLength": 6},
        {"type": "integer", "minimum": -50, "maximum": 50},
        {"type": "boolean"},
        {"type": ["string", "null"], "maxLength": 4},
        {"enum": ["red", "green"]},
        {"type": "number", "minimum": 0, "maximum": 10},
    ]
)
KEY_NAMES: st.SearchStrategy[dict[str, Any]] = st.sampled_from(
    [{}, {"propertyNames": {"maxLength": 5}}, {"propertyNames": {"pattern": "^[a-z]+$"}}]
)


def values(depth: int) -> st.SearchStrategy[Any]:
    """A map's value schema: a scalar, an object (fixed properties, maybe an array), an array, or a map."""
    if depth == 0:
        return SCALARS
    sub = values(depth - 1)
    return st.one_of(
        SCALARS,
        st.fixed_dictionaries(
            {"type": st.just("object"), "properties": st.fixed_dictionaries({"a": SCALARS}, optional={"b": sub})},
            optional={"required": st.sampled_from([["a"], []]), "additionalProperties": st.just(False)},
        ),
        st.fixed_dictionaries({"type": st.just("array"), "items": sub, "maxItems": st.just(2)}),
        sub.flatmap(maps),
    )


def maps(value: Any) -> st.SearchStrategy[Any]:
    """An object of `value`s: every unnamed key, keys by pattern (closed or not), maybe fixed properties."""
    return st.one_of(
        KEY_NAMES.map(lambda k: {"type": "object", "additionalProperties": value, "maxProperties": 3, **k}),
        st.just({"type": "object", "patternProperties": {"^a": value, "^b": value}, "additionalProperties": False,
                 "maxProperties": 3}),
        st.just({"type": "object", "patternProperties": {"^x_": value}, "maxProperties": 3}),  # others: extras
        st.just({"type": "object", "properties": {"fixed": {"type": "string", "maxLength": 3}},
                 "additionalProperties": value, "maxProperties": 3}),
    )  # fmt: skip


SCHEMAS: st.SearchStrategy[dict[str, Any]] = st.tuples(
    values(1).flatmap(maps), values(1).flatmap(maps), st.booleans()
).map(
    lambda t: {
        "title": "Doc",
        "type": "object",
        "required": ["m"],
        "properties": {"m": t[0], "n": {**t[1], "type": ["object", "null"]} if t[2] else t[1]},
        "additionalProperties": False,
    }
)
EXAMPLES = settings(
    max_examples=8,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def _store(tmp: Path, url: str, schema: dict[str, Any]) -> Store:
    root = write_project(tmp, {"doc": schema})
    return open_store(url, "doc", root / "schemas")


def _pure_maps(schema: dict[str, Any], document: Any) -> list[tuple[str, list[str]]]:
    """The keys of the maps of `document` that are rows of their map table, by where they are: their order
    must hold (keys no pattern matches are extras, kept after them)."""
    found = []
    for prop in ("m", "n"):
        sub = schema["properties"][prop]
        if isinstance(document.get(prop), dict) and "properties" not in sub:
            keys = list(document[prop])
            if "additionalProperties" not in sub:
                keys = [k for k in keys if any(re.search(p, k) for p in sub["patternProperties"])]
            found.append((prop, keys))
    return found


@pytest.mark.parametrize("run", range(3))
def test_generated_map_schemas_round_trip_exactly(three_db_url: str, tmp_path: Path, run: int) -> None:
    @EXAMPLES
    @given(st.data())
    def round_trip(data: st.DataObject) -> None:
        schema = data.draw(SCHEMAS)
        store = _store(tmp_path / f"s{abs(hash(json.dumps(schema, sort_keys=True)))}", three_db_url, schema)
        try:
            docs = from_schema(schema).filter(lambda d: "\\u0000" not in json.dumps(d))
            for _ in range(3):
                document = data.draw(docs)
                got = store.get(store.create(document))
                assert same_json(got, document), (schema, document, got)
                for (where, original), (_, read) in zip(
                    _pure_maps(schema, document), _pure_maps(schema, got), strict=True
                ):
                    assert read == original, where
        finally:
            store.metadata.drop_all(store.engine)
            store.close()

    round_trip()


NESTED: dict[str, Any] = {
    "title": "Config",
    "type": "object",
    "required": ["rules"],
    "additionalProperties": {"type": "boolean"},
    "properties": {
        "name": {"type": "string"},
        "rules": {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z]+$", "maxLength": 40},
            "additionalProperties": {
                "type": "object",
                "properties": {"level": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}},
            },
        },
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "matrix": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "number"}}},
        "env": {"type": "object", "properties": {"home": {"type": "string"}},
                "patternProperties": {"^X_": {"type": "integer"}}},
    },
}  # fmt: skip


def test_map_tables_keys_values_and_checks(tmp_path: Path) -> None:
    m = model(tmp_path, NESTED, "config")
    tables = {t.name: t for t in m.tables}
    assert tables["config_rules"].kind == "map" and tables["config_rule_tags"].parent == "config_rules"
    rules = columns(tables["config_rules"])
    assert rules["key"].type.kind == "varchar" and rules["key"].type.length == 40 and not rules["key"].nullable
    assert any(c.rule == "pattern" and c.column == "key" for c in tables["config_rules"].checks)
    assert ("config_id", "key") in [u.columns for u in tables["config_rules"].uniques]
    assert columns(tables["config_labels"])["label"].type.kind == "text"
    assert tables["config_matrix_items"].parent == "config_matrices"
    assert tables["config_entries"].entries is not None and tables["config_entries"].entries.known == tuple(
        NESTED["properties"]
    )
    env = tables["config_env_entries"]
    assert env.entries is not None and env.entries.patterns == ("^X_",)
    assert tables["config_envs"].extra_column  # keys the pattern does not match stay extras
    assert not any("JSON" in w.message for w in m.warnings)


def test_keys_only_patterns_allow_are_checked(tmp_path: Path) -> None:
    schema = {"type": "object", "patternProperties": {"^a": {"type": "integer"}, "^b$": {"type": "integer"}},
              "additionalProperties": False}  # fmt: skip
    m = model(tmp_path, schema)
    (check,) = [c for c in m.tables[1].checks if c.column == "key"]
    assert check.rule == "pattern" and check.value == "(?:^a)|(?:^b$)"


@pytest.mark.parametrize(
    ("prop", "why"),
    [
        ({"type": "object", "patternProperties": {"^x": {"type": "string"}, "^y": {"type": "array"}}}, "different"),
        ({"type": "object", "additionalProperties": {"description": "any"}}, "have no type"),
        ({"type": "object", "additionalProperties": {"$ref": "#/properties/v"}}, "recursion"),
        ({"type": "object", "patternProperties": {"a\\b": {"type": "string"}}}, "no exact Python equivalent"),
    ],
)
def test_maps_without_a_relational_form_are_json_with_a_located_warning(tmp_path: Path, prop: Any, why: str) -> None:
    m = model(tmp_path, {"type": "object", "required": ["v"], "properties": {"v": prop}})
    assert len(m.tables) == 1
    assert any(w.pointer.startswith("#/properties/v") and why in w.message for w in m.warnings), m.warnings


def test_empty_absent_and_null_maps_are_told_apart(db_url: str, tmp_path: Path) -> None:
    store = _store(tmp_path, db_url, NESTED)
    documents: list[dict[str, Any]] = [
        {"rules": {}}, {"rules": {}, "labels": {}, "env": {}}, {"rules": {"b": {}, "a": {"tags": []}}},
        {"rules": {"z": {"level": 1}}, "matrix": {"q": [1.5, 2], "e": []}, "env": {"X_1": 5, "y": "s"},
         "flag": True, "name": "n"},
    ]  # fmt: skip
    for document in documents:
        got = store.get(store.create(document))
        assert same_json(got, document) and list(got["rules"]) == list(document["rules"])


def test_map_values_are_not_json_text(tmp_path: Path) -> None:
    document = {"k": 1, "j": 2}
    share = json_share(model(tmp_path, {"type": "object", "additionalProperties": {"type": "integer"}}), document)
    assert share.json_bytes == 0 and share.document_bytes == len('{"k":1,"j":2}')


def test_a_schema_that_gains_a_map_migrates_up_and_down_and_type_checks(
    tmp_path: Path, postgres_url: str, sqlite_url: str
) -> None:
    before: dict[str, Any] = {"title": "Doc", "type": "object", "properties": {"name": {"type": "string"}}}
    root = write_project(tmp_path, {"doc": before})
    assert generate(root).exit_code == 0
    after = {**before, "properties": {**before["properties"], "labels": NESTED["properties"]["labels"]}}
    write_project(root, {"doc": after})
    result = generate(root)
    assert result.exit_code == 0, result.output
    revisions = sorted((root / "generated" / "migrations" / "versions").glob("0002*.py"))
    assert revisions and "doc_labels" in revisions[0].read_text()
    assert_migrates(root / "generated", sqlite_url, postgres_url)
    assert "doc_labels" in (root / "generated" / "docs" / "doc.md").read_text()
    import subprocess

    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(root / "generated" / "models")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr


def test_replace_patch_and_find_reach_map_entries(db_url: str, tmp_path: Path) -> None:
    store = _store(tmp_path, db_url, NESTED)
    doc_id = store.create({"rules": {"z": {"level": 1, "tags": ["x"]}, "a": {}}, "labels": {"b": "1"}})
    replaced = {"rules": {"a": {"level": 2}, "new": {}}, "labels": {}}
    store.replace(doc_id, replaced)
    assert store.get(doc_id) == replaced and list(store.get(doc_id)["rules"]) == ["a", "new"]
    store.patch(doc_id, {"labels": {"q": "9"}, "rules": {"new": None}})
    assert store.get(doc_id) == {"rules": {"a": {"level": 2}}, "labels": {"q": "9"}}
    assert [k for k, _ in store.find(where={"labels": "9"})] == [doc_id]
    assert [k for k, _ in store.find(where={"rules.level": 2})] == [doc_id]
    assert list(store.find(where={"rules.level": 1})) == []
