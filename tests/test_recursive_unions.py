"""A union of objects one of whose properties holds the union again (OpenAPI's `Schema | Reference`, whose
`items` is `Schema | Reference`) maps to tables: classifying a branch's property only to say what it is must
not walk the recursion without end (it raised RecursionError, refused as "the schema nests too deeply").
Drawn schemas of that class generate and store a nested document; the official OpenAPI 3.0 schema and the
documents its own test accepts (tests/data/realworld, see PROVENANCE.md) load and export unchanged on SQLite,
PostgreSQL and MariaDB."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from projects import generate, user_path, write_project
from runtime_helpers import open_store

DATA = Path(__file__).parent / "data" / "realworld"
SETTINGS = settings(
    deadline=None,
    database=None,
    max_examples=15,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
NAMES = st.from_regex(r"[a-z]{1,8}", fullmatch=True)


@st.composite
def recursive_union(draw: st.DrawFn) -> tuple[dict[str, Any], str, str]:
    """A schema whose root property `node` is a union of 2-4 object definitions, some of which hold the union
    again in a property (directly, or through an array or another definition); the name of one recursive
    property and the definition holding it."""
    count = draw(st.integers(2, 4))
    tagged = draw(st.booleans())  # a `kind` const per branch: a discriminator, whose cases are worked out too
    keyword = draw(st.sampled_from(["oneOf", "anyOf"])) if tagged else "anyOf"  # untagged objects match many
    union = {keyword: [{"$ref": f"#/definitions/D{i}"} for i in range(count)]}
    recursive = draw(st.lists(st.integers(0, count - 1), min_size=1, unique=True))
    prop = draw(NAMES.filter(lambda n: n != "kind"))
    via = draw(st.sampled_from(["direct", "array", "definition"]))
    wrapper = {"type": "object", "properties": {"inner": {"$ref": "#/definitions/U"}}}
    definitions: dict[str, Any] = {"U": union, "W": wrapper}
    for i in range(count):
        props: dict[str, Any] = {f"s{i}": {"type": draw(st.sampled_from(["string", "integer", "boolean"]))}}
        if tagged:
            props["kind"] = {"const": f"k{i}"}
        if i in recursive:
            ref = {"$ref": "#/definitions/W" if via == "definition" else "#/definitions/U"}
            props[prop] = {"type": "array", "items": ref} if via == "array" else ref
        definitions[f"D{i}"] = {"type": "object", "properties": props, "required": ["kind"] if tagged else []}
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Doc",
        "type": "object",
        "properties": {"node": {"$ref": "#/definitions/U"}},
        "definitions": definitions,
    }
    return schema, prop, f"D{recursive[0]}"


def _nested(schema: dict[str, Any], prop: str, holder: str, levels: int) -> dict[str, Any]:
    """A `node` value `levels` deep through `prop` of definition `holder`."""
    index = int(holder[1:])
    tagged = "kind" in schema["definitions"][holder]["properties"]
    via = schema["definitions"][holder]["properties"][prop]
    value: dict[str, Any] = {"kind": f"k{index}"} if tagged else {}
    for _ in range(levels):
        outer: dict[str, Any] = {"kind": f"k{index}"} if tagged else {}
        if via.get("type") == "array":
            outer[prop] = [value]
        elif via["$ref"].endswith("/W"):
            outer[prop] = {"inner": value}
        else:
            outer[prop] = value
        value = outer
    return value


def test_a_union_holding_itself_maps_to_tables_and_stores_documents(tmp_path: Path) -> None:
    @settings(SETTINGS)
    @given(recursive_union())
    def check(case: tuple[dict[str, Any], str, str]) -> None:
        schema, prop, holder = case
        root = tmp_path / f"p{next(COUNTER)}"
        write_project(root, {"doc": schema})
        result = generate(root)
        assert result.exit_code == 0, result.output
        store = open_store(f"sqlite:///{root / 'db.sqlite'}", "doc", root / "schemas")
        try:
            document = {"node": _nested(schema, prop, holder, 3)}
            assert store.get(store.create(document)) == document
        finally:
            store.close()

    check()


COUNTER = iter(range(10**6))


def test_openapi_3_0_and_its_examples_round_trip(tmp_path: Path, three_db_url: str) -> None:
    root = write_project(tmp_path / "project", {"openapi": (DATA / "openapi-3.0.schema.json").read_text()})
    source = DATA / "openapi-3.0.examples.ndjson"
    exported = user_path(root, "openapi", source, three_db_url)
    back = sorted(json.dumps(document, sort_keys=True) for document in exported)
    sent = sorted(json.dumps(json.loads(line), sort_keys=True) for line in source.read_text().splitlines())
    assert back == sent
