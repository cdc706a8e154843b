"""Unions and conditionals stored as columns: scalars of several JSON types as a column per type, unions of
objects as one table (per-branch CHECKs where a discriminator says which branch), `if`/`then`/`else` and
`dependentSchemas` as optional columns; generated schemas' valid documents are accepted and read back exactly."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from projects import columns, generate, model, write_project
from runtime_helpers import int64_only, open_store
from schemarel.runtime import exactjson
from test_typing import mypy
from value_strategies import by_value, exact

pytestmark = pytest.mark.filterwarnings("ignore:Overriding standard format:hypothesis.errors.HypothesisWarning")


def obj(properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    return {"title": "Doc", "type": "object", "properties": properties, "required": list(required), **extra}


def test_scalars_of_several_types_get_a_column_per_type(tmp_path: Path) -> None:
    m = model(tmp_path, obj({
        "a": {"type": ["string", "integer"]},
        "b": {"oneOf": [{"type": "string", "maxLength": 3}, {"type": "number"}, {"type": "integer"}, {"type": "null"}]},
        "c": {"enum": ["x", 1, True]},
    }, ("a",)))  # fmt: skip
    cols = columns(m.root)
    assert [(n, cols[n].type.kind, cols[n].json_types) for n in cols if n[0] in "abc" and "_" in n] == [
        ("a_string", "text", ("string",)),
        ("a_integer", "bigint", ("integer",)),
        ("b_string", "varchar", ("string",)),
        ("b_number", "float", ("integer", "number")),
        ("c_string", "enum", ("string",)) if "c_string" in cols and cols["c_string"].type.kind == "enum" else
        ("c_string", "text", ("string",)),
        ("c_integer", "bigint", ("integer",)),
        ("c_boolean", "boolean", ("boolean",)),
    ]  # fmt: skip
    assert all(cols[n].nullable for n in cols if n[0] in "abc")
    assert m.warnings == ()


def test_a_const_discriminator_gives_each_branch_a_check(tmp_path: Path) -> None:
    card = {
        "type": "object",
        "required": ["kind", "number"],
        "properties": {"kind": {"const": "card"}, "number": {"type": "string"}, "code": {"type": "integer"}},
    }
    bank = {"type": "object", "required": ["kind", "iban", "note"],
            "properties": {"kind": {"const": "bank"}, "iban": {"type": "string"}, "code": {"type": "string"},
                           "note": {"type": ["string", "null"]}}}  # fmt: skip
    m = model(tmp_path, obj({"pay": {"oneOf": [card, bank]}}, ("pay",)))
    assert sorted(c.sqltext for c in m.root.checks) == [
        "kind != 'bank' OR iban IS NOT NULL",  # `note` may be null: no check can say it is there
        "kind != 'card' OR number IS NOT NULL",
    ]
    cols = columns(m.root)
    assert cols["code_string"].nullable and cols["code_integer"].nullable and not cols["kind"].nullable
    (warning,) = m.warnings  # `code` differs between the branches: said where, and how it is stored
    assert warning.pointer == "#/properties/pay/oneOf/1/properties/code"
    assert "integer at #/properties/pay/oneOf/0/properties/code and string here" in warning.message


def test_dependent_schemas_and_else_branches_are_optional_columns(tmp_path: Path) -> None:
    m = model(tmp_path, obj(
        {"mode": {"type": "string"}},
        ("mode",),
        **{"if": {"properties": {"mode": {"const": "x"}}}, "then": {"properties": {"n": {"type": "integer"}}},
           "else": {"properties": {"n": {"type": "string"}, "m": {"type": "boolean"}}},
           "dependentSchemas": {"mode": {"properties": {"note": {"type": "string"}}}}},
    ))  # fmt: skip
    cols = columns(m.root)
    assert {n: cols[n].type.kind for n in ("n_string", "n_integer", "m", "note")} == {
        "n_string": "text", "n_integer": "bigint", "m": "boolean", "note": "text"
    }  # fmt: skip
    assert m.warnings == ()


def test_a_scalar_or_an_object_is_columns_and_a_table(tmp_path: Path) -> None:
    customer = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}
    m = model(
        tmp_path, obj({"customer": {"anyOf": [{"type": "string"}, {"type": "integer"}, customer]}}, ("customer",))
    )
    cols = columns(m.root)
    assert [n for n in cols if n.startswith("customer")] == ["customer_string", "customer_integer"]
    assert [t.name for t in m.tables] == ["docs", "doc_customers"]
    assert m.root.presence_paths == (("customer",),) and m.warnings == ()


def test_unions_wider_than_the_limit_stay_json(tmp_path: Path) -> None:
    branches = [{"type": "object", "properties": {f"p{i}_{j}": {"type": "string"} for j in range(6)}}
                for i in range(40)]  # fmt: skip
    m = model(tmp_path, obj({"any": {"anyOf": branches}}, ("any",)))
    assert columns(m.root)["any"].type.kind == "json"
    assert "more than" in m.warnings[0].message


# -- generated schemas: valid documents go in and come back exactly --------------------------------------------
SCALAR = st.sampled_from(
    [{"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"},
     {"type": "string", "format": "date"}, {"type": "integer", "minimum": 0, "maximum": 9}]
)  # fmt: skip
NAMES = st.sampled_from(["a", "b", "c", "kind", "n"])


@st.composite
def scalar_union(draw: st.DrawFn) -> dict[str, Any]:
    types = draw(st.lists(st.sampled_from(["string", "integer", "boolean"]), min_size=2, max_size=3, unique=True))
    types += draw(st.lists(st.sampled_from(["number", "null"]), unique=True))
    types = draw(st.permutations(types))
    if draw(st.booleans()):
        return {"type": types}
    return {"anyOf": [{"type": t} for t in types]}


def branch_props(draw: st.DrawFn) -> dict[str, Any]:
    return draw(st.dictionaries(st.sampled_from(["a", "b", "c", "n"]), st.one_of(SCALAR, scalar_union()), max_size=3))


@st.composite
def object_union(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(2, 3))
    discriminated = draw(st.booleans())
    branches = []
    for i in range(count):
        props = branch_props(draw)
        required = draw(st.lists(st.sampled_from(sorted(props) or ["a"]), unique=True)) if props else []
        if discriminated:
            props["kind"] = {"const": f"k{i}"}
            required = sorted({*required, "kind"})
        branches.append({"type": "object", "properties": props, "required": required})
    return {"oneOf" if discriminated else "anyOf": branches}


@st.composite
def union_schemas(draw: st.DrawFn) -> dict[str, Any]:
    props: dict[str, Any] = {"s": draw(scalar_union()), "u": draw(object_union()), "mode": {"enum": ["x", "y"]}}
    # an id or the object it names (OpenAPI's expandable fields)
    props["m"] = {"anyOf": [draw(SCALAR), {"type": "object", "properties": branch_props(draw)}]}
    schema = obj(props, tuple(draw(st.lists(st.sampled_from(["s", "u", "m"]), unique=True))))
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    if draw(st.booleans()):
        schema["if"] = {"properties": {"mode": {"const": "x"}}, "required": ["mode"]}
        schema["then"] = {"properties": branch_props(draw)}
        if draw(st.booleans()):
            schema["else"] = {"properties": branch_props(draw)}
    if draw(st.booleans()):
        schema["dependentSchemas"] = {"mode": {"properties": branch_props(draw)}}
    return schema


def integers_as_stored(back: Any, document: Any) -> Any:
    """`document` with a number that has no fraction (`1.0`, `-4.18E+16`) as the int `back` holds in its place:
    an integer column gives back integers (README: `1.0` for an integer property comes back `1`), which is where
    a conditional branch that allows any number can send one. Every other value is left for `exact` to judge."""
    if isinstance(back, dict) and isinstance(document, dict):
        return {k: integers_as_stored(back.get(k), v) for k, v in document.items()}
    if isinstance(back, list) and isinstance(document, list) and len(back) == len(document):
        return [integers_as_stored(b, d) for b, d in zip(back, document, strict=True)]
    number = isinstance(document, Decimal | float) and not isinstance(document, bool)
    if type(back) is int and number and document == back:
        return back
    return document


SETTINGS = settings(
    max_examples=12,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: minutes on a busy machine
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
)  # fmt: skip


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
@SETTINGS
@given(data=st.data())
def test_valid_documents_of_unions_round_trip_exactly(
    dialect: str, data: st.DataObject, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    schema = data.draw(union_schemas())
    root = write_project(tmp_path_factory.mktemp("unions"), {"doc": schema})
    url = request.getfixturevalue("sqlite_url" if dialect == "sqlite" else "postgres_url")
    store = open_store(url, "doc", root / "schemas")
    try:
        assert any(f.others for tm in store.mapping.tables for f in tm.fields)  # a union's columns are there
        # no NUL (PostgreSQL text refuses it), integers a bigint holds (a column's limit, not a union's)
        documents = from_schema(schema).filter(lambda d: "\\u0000" not in json.dumps(d) and int64_only(d))
        for _ in range(4):
            # through JSON text: numbers as the exact parser gives them (`1.0` is not `1`)
            document = exactjson.loads(json.dumps(data.draw(documents)))
            if store.validator.violations(document):  # hypothesis-jsonschema's if/then/else can miss a format
                continue
            key = store.create(document)  # every CHECK accepts what the validator accepts
            back = store.get(key)
            if dialect == "postgres":  # jsonb keeps a number's value, not its digits (`_extra` is jsonb)
                back, document = by_value(back), by_value(document)
            assert exact(back, integers_as_stored(back, document)), (schema, document, back)
    finally:
        store.metadata.drop_all(store.engine)  # the next example's tables have the same names
        store.engine.dispose()


def test_items_that_may_be_a_scalar_or_an_object_are_json(tmp_path: Path) -> None:
    item = {"oneOf": [{"type": "string"}, {"type": "object", "properties": {"path": {"type": "string"}}}]}
    m = model(tmp_path, obj({"include": {"type": "array", "items": item}}, ("include",)))
    assert columns(m.root)["include"].type.kind == "json"
    assert "its items may be any of string, object" in m.warnings[0].message


PAY: dict[str, Any] = obj(
    {
        "id": {"type": ["string", "integer"]},
        "flag": {"type": ["string", "number", "boolean", "null"]},
        "customer": {"anyOf": [{"type": "string"}, {"type": "object", "properties": {"id": {"type": "string"}}}]},
        "method": {"oneOf": [
            {"type": "object", "required": ["kind", "number"],
             "properties": {"kind": {"const": "card"}, "number": {"type": "string"}, "code": {"type": "integer"}}},
            {"type": "object", "required": ["kind", "iban"],
             "properties": {"kind": {"const": "bank"}, "iban": {"type": "string"}, "code": {"type": "string"}}},
        ]},
        "mode": {"type": "string"},
    },
    ("id",),
    **{"if": {"properties": {"mode": {"const": "x"}}}, "then": {"properties": {"extra": {"type": "integer"}}},
       "else": {"properties": {"extra": {"type": "string"}}}},
)  # fmt: skip


def test_generated_models_of_unions_pass_mypy_strict(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"pay": PAY})
    result = generate(root)
    assert result.exit_code == 0, result.output
    checked = mypy(root, "generated/models", "generated/documents")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "ck_docs__kind_case_0" not in (root / "generated/models/pay.py").read_text()  # a child table's check
    assert "ck_doc_methods__kind_case_0" in (root / "generated/models/pay.py").read_text()


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_a_case_that_does_not_name_a_property_may_give_it_any_value(
    dialect: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    big = {
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"const": "big"}, "n": {"type": "integer", "minimum": 5}},
    }
    other = {"type": "object", "required": ["kind"], "properties": {"kind": {"const": "other"}}}
    schema = obj({"u": {"oneOf": [big, other]}, "mode": {"type": "string"}}, (),
                 **{"if": {"properties": {"mode": {"const": "x"}}, "required": ["mode"]},
                    "then": {"properties": {"d": {"type": "string", "format": "date", "maxLength": 10}}}})  # fmt: skip
    root = write_project(tmp_path, {"doc": schema})
    store = open_store(request.getfixturevalue(f"{dialect}_url"), "doc", root / "schemas")
    assert not [c for tm in store.mapping.tables for c in tm.table.checks]  # `n` and `d` are any value elsewhere
    for text in ['{"u": {"kind": "other", "n": 2}, "mode": "y", "d": "not a date, and long"}',
                 '{"u": {"kind": "other", "n": "two"}, "d": 7}', '{"u": {"kind": "other", "n": null}, "d": null}',
                 '{"u": {"kind": "big", "n": 5}, "mode": "x", "d": "2024-02-29"}']:  # fmt: skip
        document = exactjson.loads(text)
        assert not store.validator.violations(document)
        assert exact(store.get(store.create(document)), document), text
