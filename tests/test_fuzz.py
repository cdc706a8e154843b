"""Hostile schemas: valid ones mutated at random (keywords, types, nesting, names). `generate` must never
crash with a traceback nor hang; it succeeds (and its Python compiles), or exits 2 with one located message
and leaves `generated/` exactly as it was."""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from conftest import REPO, SHARED, deadline, tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projects import generate, write_project
from test_dialects import SCHEMA as ORDER

SEEDS: dict[str, Any] = {
    "customer": json.loads((REPO / "schemas/customer.schema.json").read_text()),
    "order": ORDER,
    **{
        name: json.loads((SHARED / "corpus" / f"{name}.schema.json").read_text())
        for name in ("problem-details", "json-feed", "stripe-product")
        if (SHARED / "corpus" / f"{name}.schema.json").exists()
    },
}
TEXT = st.sampled_from(["", "id", "ID", "x y", "_id", "+1", "-1", "名前", "a" * 80, "user", "order", "it's\n|`{{}}"])
NAMES = st.one_of(TEXT, st.text(min_size=1, max_size=12))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), TEXT)
TYPES = st.one_of(
    st.sampled_from(["object", "array", "string", "integer", "number", "boolean", "null", "any", "nope"]),
    st.lists(st.sampled_from(["string", "null", "integer", "object", "array"]), max_size=3),
)
XSQL = st.fixed_dictionaries(
    {},
    optional={
        "table": st.sampled_from(["t", "Bad Name", "docs", "a" * 70]),
        "column": st.sampled_from(["c", "id", "_present", "x" * 70]),
        "storage": st.sampled_from(["table", "flatten", "json", "other"]),
        "type": st.sampled_from(["text", "varchar(3)", "numeric(5,2)", "json", "blob"]),
        "primaryKey": st.one_of(st.sampled_from(["uuid", "identity"]), st.fixed_dictionaries({"property": NAMES})),
        "unique": st.booleans(),
        "index": st.booleans(),
        "references": st.fixed_dictionaries({"table": st.sampled_from(["users", "docs"])}),
    },
)


def schemas(depth: int = 2) -> st.SearchStrategy[Any]:
    leaf = st.one_of(
        st.booleans(),
        st.fixed_dictionaries({"type": TYPES}),
        st.fixed_dictionaries({"enum": st.lists(SCALARS, min_size=1, max_size=4)}),
        st.fixed_dictionaries({"const": SCALARS}),
        st.fixed_dictionaries(
            {"$ref": st.sampled_from(["#", "#/properties", "#/$defs/none", "other.json", "http://x.y/z"])}
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("string"),
                "format": st.sampled_from(["date", "uuid", "email", "x"]),
                "pattern": st.sampled_from(["^a$", "(", "\\p{L}", "[\\d]"]),
            }
        ),  # fmt: skip
    )
    if depth == 0:
        return leaf
    sub = schemas(depth - 1)
    return st.one_of(
        leaf,
        st.fixed_dictionaries(
            {"type": st.just("object"), "properties": st.dictionaries(NAMES, sub, max_size=3)},
            optional={"required": st.lists(NAMES, max_size=3), "x-sql": XSQL},
        ),  # fmt: skip
        st.fixed_dictionaries({"type": st.just("array"), "items": sub}, optional={"x-sql": XSQL}),
        st.sampled_from(["oneOf", "anyOf", "allOf"]).flatmap(
            lambda key: st.fixed_dictionaries({key: st.lists(sub, min_size=1, max_size=3)})
        ),
        st.fixed_dictionaries({"if": sub, "then": sub}, optional={"else": sub}),
        st.fixed_dictionaries({"type": st.just("object"), "patternProperties": st.dictionaries(TEXT, sub, max_size=2)}),
    )


MUTATION = st.one_of(
    st.tuples(
        st.just("set"),
        st.sampled_from(
            [
                "type",
                "properties",
                "items",
                "required",
                "enum",
                "const",
                "format",
                "minimum",
                "maxLength",
                "pattern",
                "default",
                "nullable",
                "additionalProperties",
                "x-sql",
                "title",
                "description",
                "$ref",
                "deprecated",
                "multipleOf",
            ]
        ),
        st.one_of(SCALARS, schemas(1), XSQL),
    ),  # fmt: skip
    st.tuples(st.just("property"), NAMES, schemas()),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("wrap"), st.sampled_from(["allOf", "oneOf", "items", "nest"])),
)


def nodes(schema: Any) -> list[dict[str, Any]]:
    """Every schema object in `schema` (properties' values, items, combinator branches, definitions)."""
    found: list[dict[str, Any]] = []
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.append(node)
            for key, value in node.items():
                if key in ("properties", "patternProperties", "$defs", "definitions") and isinstance(value, dict):
                    stack.extend(value.values())
                elif key in ("items", "not", "if", "then", "else", "additionalProperties"):
                    stack.append(value)
                elif key in ("oneOf", "anyOf", "allOf") and isinstance(value, list):
                    stack.extend(value)
    return found


def mutate(schema: dict[str, Any], where: int, mutation: tuple[Any, ...]) -> dict[str, Any]:
    schema = copy.deepcopy(schema)
    candidates = nodes(schema)
    node = candidates[where % len(candidates)]
    kind = mutation[0]
    if kind == "set":
        node[mutation[1]] = mutation[2]
    elif kind == "property":
        node.setdefault("properties", {})
        if isinstance(node["properties"], dict):
            node["properties"][mutation[1]] = mutation[2]
    elif kind == "delete" and node:
        del node[sorted(node)[mutation[1] % len(node)]]
    elif kind == "wrap":
        inner = dict(node)
        node.clear()
        node.update(
            {"allOf": [inner]} if mutation[1] == "allOf" else {"oneOf": [inner, {"type": "null"}]}
            if mutation[1] == "oneOf" else {"type": "array", "items": inner} if mutation[1] == "items"
            else {"type": "object", "required": ["n"], "properties": {"n": inner}}
        )  # fmt: skip
    return schema


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    seed=st.sampled_from(sorted(SEEDS)),
    steps=st.lists(st.tuples(st.integers(0, 10_000), MUTATION), min_size=1, max_size=4),
    existing=st.booleans(),
)
def test_generate_never_crashes_and_never_writes_half(seed: str, steps: list[Any], existing: bool) -> None:
    schema = SEEDS[seed]
    for where, mutation in steps:
        schema = mutate(schema, where, mutation)
    with tempfile.TemporaryDirectory() as tmp:
        root = write_project(Path(tmp), {seed: SEEDS[seed]})
        if existing:  # a project whose generated/ is current, then the schema changes
            assert generate(root).exit_code == 0
        (root / "schemas" / f"{seed}.schema.json").write_text(json.dumps(schema), encoding="utf-8")
        before = tree(root / "generated") if existing else None
        with deadline(60):
            result = generate(root)
        if result.exit_code == 0:
            for path in (root / "generated").rglob("*.py"):
                compile(path.read_text(encoding="utf-8"), str(path), "exec")
            return
        assert result.exit_code == 2, result.output
        # one message (the destructive-change guard's lists each change on a line of its own)
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
        assert result.stderr.count("error: ") == 1
        if existing:
            assert tree(root / "generated") == before
        else:
            assert not (root / "generated").exists()
        shutil.rmtree(root, ignore_errors=True)
