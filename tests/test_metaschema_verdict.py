"""The metaschema verdict comes from jsonschema-rs and agrees with jsonschema's on valid and broken schemas of
every draft; when a schema is invalid, jsonschema words the error (file, pointer, message)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from robust_helpers import project, schemarel
from schemarel.schema import loader

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
SCHEMAS = sorted((REPO / "schemas").glob("*.schema.json")) + sorted((SHARED / "corpus").glob("*.schema.json"))
DRAFTS = ["http://json-schema.org/draft-04/schema#", "http://json-schema.org/draft-06/schema#",
          "http://json-schema.org/draft-07/schema#", "https://json-schema.org/draft/2019-09/schema",
          "https://json-schema.org/draft/2020-12/schema"]  # fmt: skip
# values a keyword must not take in any draft
BROKEN = [("type", 5), ("type", "text"), ("required", "a"), ("minimum", "0"), ("properties", []),
          ("items", 3), ("enum", 1), ("pattern", 7), ("maxLength", -1), ("additionalProperties", "no"),
          ("allOf", {}), ("$ref", 1)]  # fmt: skip


def jsonschema_says_valid(contents: Any) -> bool:
    cls = jsonschema.validators.validator_for({"$schema": loader.dialect(contents)})
    return not list(cls(cls.META_SCHEMA).iter_errors(contents))


def fast_says_valid(contents: Any) -> bool:
    cls = jsonschema.validators.validator_for({"$schema": loader.dialect(contents)})
    return loader._fast_verdict(cls.META_SCHEMA["$schema"], contents)


def subschemas(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of the objects under `properties` and `definitions`/`$defs` (where any keyword is a schema's)."""
    found = [path]
    if isinstance(node, dict):
        for key in ("properties", "definitions", "$defs"):
            if isinstance(node.get(key), dict):
                for name, sub in node[key].items():
                    if isinstance(sub, dict):
                        found += subschemas(sub, (*path, key, name))
    return found


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_the_corpus_verdicts_agree(path: Path) -> None:
    contents = json.loads(path.read_text())
    if "draft-03" in loader.dialect(contents):
        assert not fast_says_valid(contents)  # jsonschema-rs knows no draft 3: jsonschema decides alone
        return
    assert fast_says_valid(contents) == jsonschema_says_valid(contents) is True


@settings(max_examples=60, deadline=None)
@given(st.data(), st.sampled_from(DRAFTS), st.sampled_from(BROKEN), st.booleans())
def test_broken_schemas_verdicts_agree(data: st.DataObject, draft: str, broken: tuple[str, Any], keep: bool) -> None:
    base = json.loads(SCHEMAS[data.draw(st.integers(0, len(SCHEMAS) - 1))].read_text())
    contents = copy.deepcopy(base) | {"$schema": draft}
    where = data.draw(st.sampled_from(subschemas(contents)))
    node = contents
    for step in where:
        node = node[step]
    if not keep:  # the same place, left valid: a well-formed sibling keyword
        broken = ("description", "fine")
    node[broken[0]] = broken[1]
    assert fast_says_valid(contents) == jsonschema_says_valid(contents)


def test_an_invalid_schema_is_worded_by_jsonschema(tmp_path: Path) -> None:
    schema = {"title": "Doc", "type": "object", "properties": {"a": {"type": "object", "required": "x"}}}
    run = schemarel(project(tmp_path, schema), "generate")
    assert run.returncode == 2
    assert run.stderr.startswith("error: schemas/doc.schema.json#/properties/a/required: not a valid JSON Schema: ")
    assert "'x' is not of type 'array'" in run.stderr


KEYS = ("pattern", "patternProperties", "x-sql")
_JSON = st.recursive(
    st.none() | st.integers() | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from([*KEYS, "a", "b"]), inner, max_size=4),
    max_leaves=25,
)


def one_key(node: Any, key: str, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    """The walk the loader made once per key before `find_keys` looked for all of them at once."""
    found: list[tuple[tuple[Any, ...], Any]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            found += [(path, v)] if k == key else one_key(v, key, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += one_key(v, key, (*path, i))
    return found


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_one_walk_finds_what_a_walk_per_key_finds(document: Any) -> None:
    """Patterns and x-sql annotations are found in one walk, in the order and places of one walk per key (a key
    inside another key's value found, inside its own value's not)."""
    assert loader.find_keys(document, KEYS) == {key: one_key(document, key) for key in KEYS}
