"""How JSON Schema keywords map to tables, columns, types and constraints (the IR; no database needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from projects import columns, generate, model, write_project
from schemarel.errors import SchemaError
from schemarel.ir import Check
from schemarel.sql.checks import pg_sql

DRAFTS = [
    "http://json-schema.org/draft-04/schema#",
    "http://json-schema.org/draft-06/schema#",
    "http://json-schema.org/draft-07/schema#",
    "https://json-schema.org/draft/2019-09/schema",
    "https://json-schema.org/draft/2020-12/schema",
    None,
]


def obj(properties: dict[str, Any], required: tuple[str, ...] = (), /, **extra: Any) -> dict[str, Any]:
    return {"title": "Doc", "type": "object", "properties": properties, "required": list(required), **extra}


@pytest.mark.parametrize("draft", DRAFTS)
def test_every_draft_maps_alike(tmp_path: Path, draft: str | None) -> None:
    defs = "definitions" if draft and "draft-0" in draft else "$defs"
    schema = obj(
        {"name": {"$ref": f"#/{defs}/name"}, "tags": {"type": "array", "items": {"type": "string"}}},
        ("name", "tags"),
        **{defs: {"name": {"type": "string", "maxLength": 40}}},
    )
    if draft:
        schema["$schema"] = draft
    m = model(tmp_path, schema)
    assert [t.name for t in m.tables] == ["docs", "doc_tags"]
    assert columns(m.root)["name"].type.length == 40


def test_keywords_beside_a_ref_apply_from_2019_09_and_only_annotate_before(tmp_path: Path) -> None:
    prop = {"$ref": "#/definitions/s", "maxLength": 5, "description": "Beside the ref."}
    schema = obj({"s": prop}, ("s",), definitions={"s": {"type": "string"}})
    old = columns(model(tmp_path / "7", {**schema, "$schema": "http://json-schema.org/draft-07/schema#"}).root)["s"]
    new = columns(model(tmp_path / "12", schema).root)["s"]
    assert (old.type.kind, old.comment) == ("text", "Beside the ref.")
    assert (new.type.kind, new.type.length, new.comment) == ("varchar", 5, "Beside the ref.")


def test_draft_3_required_and_draft_4_exclusive_minimum(tmp_path: Path) -> None:
    draft3 = {"$schema": "http://json-schema.org/draft-03/schema#", "type": "object", "title": "Doc",
              "properties": {"n": {"type": "string", "required": True}}}  # fmt: skip
    assert not columns(model(tmp_path / "3", draft3).root)["n"].nullable
    draft4 = obj({"n": {"type": "number", "minimum": 0, "exclusiveMinimum": True}}, ("n",))
    draft4["$schema"] = "http://json-schema.org/draft-04/schema#"
    assert [c.sqltext for c in model(tmp_path / "4", draft4).root.checks] == ["n > 0"]


def test_refs_reach_other_files_and_remote_ones_are_refused(tmp_path: Path) -> None:
    address = {
        "$id": "https://example.com/schemas/address.schema.json",
        "$defs": {"zip": {"type": "string", "maxLength": 9}},
    }
    doc = obj(
        {"zip": {"$ref": "address.schema.json#/$defs/zip"}},
        ("zip",),
        **{"$id": "https://example.com/schemas/doc.schema.json"},
    )
    assert columns(model(tmp_path / "a", doc, address=address).root)["zip"].type.length == 9
    remote = obj({"x": {"$ref": "https://json.schemastore.org/x.json"}})
    with pytest.raises(SchemaError, match="remote references are never fetched") as exc:
        model(tmp_path / "b", remote)
    assert exc.value.pointer == "#/properties/x"
    with pytest.raises(SchemaError, match="cannot resolve"):
        model(tmp_path / "c", obj({"x": {"$ref": "#/$defs/missing"}}))


def test_all_of_is_merged(tmp_path: Path) -> None:
    schema = {"title": "Doc", "allOf": [
        {"$ref": "#/$defs/base"},
        {"type": "object", "required": ["b"], "properties": {"b": {"type": "integer", "minimum": 0, "maximum": 10}}},
    ], "$defs": {"base": {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}}}  # fmt: skip
    cols = columns(model(tmp_path, schema).root)
    assert not cols["a"].nullable and not cols["b"].nullable
    assert cols["b"].type.kind == "smallint"


@pytest.mark.parametrize(
    ("prop", "why"),
    [
        ({"oneOf": [{"type": "string"}, {"type": "array"}]}, "`oneOf` allows different shapes (array, string)"),
        ({"anyOf": [{"type": "object", "properties": {"a": {"type": "string"}}}, {"type": "array"}]}, "`anyOf`"),
        ({"type": "object", "patternProperties": {"^x": {"type": "string"}, "^y": {"type": "array"}}}, "a map"),
        ({"type": "object", "additionalProperties": {"description": "any"}}, "a map whose values have no type"),
        ({"description": "anything"}, "it has no type"),
        ({"type": ["string", "object"]}, "it may be any of object, string"),
        ({"type": "array", "prefixItems": [{"type": "string"}]}, "a tuple"),
    ],
)
def test_shapes_without_columns_are_json_with_a_located_warning(tmp_path: Path, prop: Any, why: str) -> None:
    m = model(tmp_path, obj({"v": prop}, ("v",)))
    assert columns(m.root)["v"].type.kind == "json"
    (warning,) = m.warnings
    assert warning.pointer.startswith("#/properties/v") and why in warning.message
    assert "docs.v" in warning.message


def test_if_then_else_branches_are_optional_columns_and_neutral_branches_change_nothing(tmp_path: Path) -> None:
    schema = obj(
        {"kind": {"type": "string"}, "detail": {"type": "object"}, "code": {"type": "string"}},
        ("kind",),
        allOf=[{"if": {"properties": {"kind": {"const": "a"}}}, "then": {"properties": {"code": {"type": "integer"},
                                                                                      "size": {"type": "number"}}}}],
        oneOf=[{"required": ["detail"]}, {"required": ["code"]}],
    )  # fmt: skip
    m = model(tmp_path, schema)
    cols = columns(m.root)
    # `code` is a string (as the object says) and, where `kind` is "a", also an integer: no value is both
    assert cols["code"].type.kind == "text" and cols["kind"].type.kind == "text"
    assert cols["size"].type.kind == "float" and cols["size"].nullable
    assert m.warnings == ()


def test_a_discriminator_makes_one_table_of_the_branches(tmp_path: Path) -> None:
    cat = {
        "type": "object",
        "required": ["kind", "meows"],
        "properties": {"kind": {"const": "cat"}, "meows": {"type": "boolean"}},
    }
    dog = {
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"const": "dog"}, "barks": {"type": "integer"}},
    }
    m = model(tmp_path, obj({"pet": {"oneOf": [cat, dog]}}, ("pet",)))
    cols = columns(m.root)
    assert m.enums[0].values == ("cat", "dog") and not cols["kind"].nullable
    assert cols["meows"].nullable and cols["barks"].type.kind == "bigint"
    assert m.warnings == ()


def test_nullable_spellings(tmp_path: Path) -> None:
    m = model(tmp_path, obj({
        "a": {"type": ["string", "null"]},
        "b": {"type": "string", "nullable": True},
        "c": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}]},
        "d": {"type": "string"},
    }, ("a", "b", "c", "d")))  # fmt: skip
    cols = columns(m.root)
    assert [cols[n].nullable for n in "abcd"] == [True, True, True, False]
    assert cols["c"].type.length == 3


@pytest.mark.parametrize(
    ("prop", "kind", "extra"),
    [
        ({"type": "string", "format": "date"}, "date", {}),
        ({"type": "string", "format": "date-time"}, "datetime", {}),
        ({"type": "string", "format": "time"}, "time", {}),
        ({"type": "string", "format": "uuid"}, "uuid", {}),
        ({"type": "string", "format": "email"}, "varchar", {"length": 320}),
        ({"type": "string", "format": "uri"}, "text", {}),
        ({"type": "string", "format": "ipv4"}, "varchar", {"length": 15}),
        ({"type": "string", "format": "ipv6"}, "varchar", {"length": 45}),
        ({"type": "integer", "minimum": 0, "maximum": 100}, "smallint", {}),
        ({"type": "integer", "minimum": 0, "maximum": 100_000}, "integer", {}),
        ({"type": "integer", "minimum": 0}, "bigint", {}),
        (
            {"type": "number", "multipleOf": 0.01, "minimum": 0, "maximum": 9999},
            "numeric",
            {"precision": 6, "scale": 2},
        ),
        ({"type": "number"}, "float", {}),
        ({"type": "boolean"}, "boolean", {}),
        ({"type": "string", "x-sql": {"type": "varchar(12)"}}, "varchar", {"length": 12}),
        ({"type": "number", "x-sql": {"type": "numeric(10,3)"}}, "numeric", {"precision": 10, "scale": 3}),
    ],
)
def test_types(tmp_path: Path, prop: Any, kind: str, extra: dict[str, int]) -> None:
    ctype = columns(model(tmp_path, obj({"v": prop}, ("v",))).root)["v"].type
    assert ctype.kind == kind
    assert {k: getattr(ctype, k) for k in extra} == extra


def test_checks_from_validation_keywords(tmp_path: Path) -> None:
    m = model(tmp_path, obj({
        "code": {"type": "string", "minLength": 2, "pattern": "^[A-Z]+$"},
        "level": {"type": "integer", "enum": [1, 2, 3]},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "kind": {"const": "fixed"},
        "odd": {"type": "string", "pattern": "\\bword\\b"},  # \b means backspace in PostgreSQL: left to validation
    }, ("code", "level", "ratio", "kind", "odd")))  # fmt: skip
    assert sorted(c.sqltext for c in m.root.checks) == [
        "char_length(code) >= 2",
        "code ~ '^[A-Z]+$'",
        "kind IN ('fixed')",
        "level IN (1, 2, 3)",
        "ratio <= 1",
        "ratio > 0",
    ]
    assert {c.name for c in m.root.checks} >= {"ck_docs__code_min_length", "ck_docs__level_enum"}


def test_defaults_comments_and_deprecation(tmp_path: Path) -> None:
    m = model(tmp_path, obj({
        "plan": {"type": "string", "enum": ["free", "pro"], "default": "free", "title": "Plan"},
        "seats": {"type": "integer", "default": 1, "description": "Paid seats.", "deprecated": True},
        "on": {"type": "boolean", "default": False},
        "day": {"type": "string", "format": "date", "default": "not a date"},
    }))  # fmt: skip
    cols = columns(m.root)
    assert (cols["plan"].default.value, cols["plan"].comment) == ("free", "Plan")
    assert cols["seats"].default.value == 1 and "Deprecated." in cols["seats"].notes
    assert cols["on"].default.value is False
    assert cols["day"].default is None  # a default the column could not hold is left to the runtime


def test_arrays_of_arrays_are_nested_child_tables(tmp_path: Path) -> None:
    grid = {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}
    m = model(tmp_path, obj({"grid": grid}, ("grid",)))
    assert [(t.name, t.parent, t.value_column) for t in m.tables] == [
        ("docs", None, None),
        ("doc_grids", "docs", None),
        ("doc_grid_items", "doc_grids", "item"),
    ]


def test_a_document_id_property_keeps_its_name_and_the_key_becomes_pk(tmp_path: Path) -> None:
    m = model(tmp_path, obj({"id": {"type": "integer"}, "lines": {"type": "array", "items": {
        "type": "object", "properties": {"id": {"type": "string"}}}}}, ("id", "lines")))  # fmt: skip
    root, lines = m.tables
    assert root.primary_key.columns == ("pk",) and columns(root)["id"].type.kind == "bigint"
    assert lines.primary_key.columns == ("pk",) and "doc_pk" in columns(lines)


def test_flattening_two_objects_with_the_same_leaf_moves_one_to_a_table_with_a_warning(tmp_path: Path) -> None:
    person = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
    m = model(tmp_path, obj({"author": person, "editor": person}, ("author", "editor")))
    assert [t.name for t in m.tables] == ["docs", "doc_editors"]
    (warning,) = m.warnings
    assert warning.pointer == "#/properties/editor" and "#/properties/author/properties/id" in warning.message


def test_names_differing_only_in_case_or_punctuation_are_renamed_or_under_strict_an_error(tmp_path: Path) -> None:
    both = obj({"minTokens": {"type": "integer"}, "min-tokens": {"type": "integer"}})
    m = model(tmp_path / "lenient", both)
    assert [(c.name, c.path) for c in m.root.columns[1:3]] == [
        ("min_tokens", ("minTokens",)),
        ("min_tokens_2", ("min-tokens",)),
    ]
    (warning,) = m.warnings
    assert warning.pointer == "#/properties/min-tokens" and "#/properties/minTokens" in warning.message
    with pytest.raises(SchemaError) as exc:
        model(tmp_path, both, strict=True)
    assert exc.value.pointer == "#/properties/min-tokens"
    assert "#/properties/minTokens" in exc.value.message and '"x-sql": {"column"' in exc.value.message


def test_long_names_are_shortened_with_a_stable_hash(tmp_path: Path) -> None:
    long = "a" * 40
    m = model(
        tmp_path, obj({long: {"type": "object", "properties": {long: {"type": "array", "items": {"type": "string"}}}}})
    )
    names = [t.name for t in m.tables] + [fk.name for t in m.tables for fk in t.foreign_keys]
    names += [i.name for t in m.tables for i in t.indexes]
    assert max(len(n.encode()) for n in names) <= 63
    assert len(set(names)) == len(names)
    assert m.tables == model(tmp_path / "again", obj({long: {"type": "object", "properties": {long: {
        "type": "array", "items": {"type": "string"}}}}})).tables  # fmt: skip


def test_x_sql_names_storage_keys_and_references(tmp_path: Path) -> None:
    owner = {"type": "string", "x-sql": {"column": "owner_name", "index": True,
                                         "references": {"table": "owners", "column": "name"}}}  # fmt: skip
    note = {"type": "string", "x-sql": {"unique": True}}
    m = model(tmp_path, {
        "title": "Doc", "type": "object", "x-sql": {"table": "documents", "primaryKey": {"property": "code"}},
        "required": ["code", "meta", "parts"],
        "properties": {
            "code": {"type": "string", "maxLength": 8},
            "meta": {"type": "object", "x-sql": {"storage": "table", "table": "document_meta"},
                     "properties": {"owner": owner}},
            "parts": {"type": "array", "x-sql": {"storage": "json"}, "items": {"type": "string"}},
            "extra": {"type": "object", "x-sql": {"storage": "flatten"}, "properties": {"note": note}},
        },
    })  # fmt: skip
    root, meta = m.tables
    assert (root.name, root.primary_key.columns, meta.name) == ("documents", ("code",), "document_meta")
    assert columns(root)["parts"].type.kind == "json" and columns(root)["note"].nullable
    assert [u.columns for u in root.uniques] == [("note",)]
    assert columns(meta)["document_code"].type.length == 8
    assert [(fk.ref_table, fk.external) for fk in meta.foreign_keys] == [("documents", False), ("owners", True)]
    assert [i.columns for i in meta.indexes] == [("owner_name",)]
    identity = model(tmp_path / "identity", obj({"a": {"type": "string"}}, **{"x-sql": {"primaryKey": "identity"}}))
    assert columns(identity.root)["id"].default.kind == "sequence"


def test_a_natural_key_must_be_a_required_scalar(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="must be a required, non-null scalar property") as exc:
        model(tmp_path, obj({"code": {"type": "string"}}, **{"x-sql": {"primaryKey": {"property": "code"}}}))
    assert exc.value.pointer == "#/x-sql/primaryKey"


def test_invalid_x_sql_is_refused_where_it_is(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"doc": obj({"a": {"type": "string", "x-sql": {"type": "varchar"}}})})
    result = generate(root)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: schemas/doc.schema.json#/properties/a/x-sql/type: invalid x-sql")
    assert not (root / "generated").exists()


def test_recursion_back_to_the_root_is_rows_of_the_root_table(tmp_path: Path) -> None:
    schema = obj({"name": {"type": "string"}, "parts": {"type": "array", "items": {"$ref": "#"}},
                  "meta": {"type": "object", "properties": {"again": {"$ref": "#/properties/meta"}}}})  # fmt: skip
    m = model(tmp_path, schema)
    (ref,) = m.root.self_refs
    assert (ref.path, ref.column, ref.position) == (("parts",), "parts_of", "parts_position")
    assert [(fk.columns, fk.ref_table) for fk in m.root.foreign_keys] == [(("parts_of",), "docs")]
    meta = m.tables[1]
    assert columns(meta)["again"].type.kind == "json"  # recursion below the root: JSON, with a warning
    assert any("recursion" in w.message for w in m.warnings)


def test_check_sql_is_what_sqlalchemy_compiles_for_postgresql() -> None:
    from schemarel.sql.checks import PG_RESERVED, expression
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.dialects.postgresql.base import RESERVED_WORDS
    from sqlalchemy.sql.expression import ClauseElement

    assert PG_RESERVED == RESERVED_WORDS
    cases = [
        Check("c", "", "order", "min_length", 3),
        Check("c", "", "Mixed", ">=", 2.5),
        Check("c", "", "x", "in", [1.0, 2.5]),
        Check("c", "", "x", "in", ["it's", "a\\b"]),
        Check("c", "", "x", "pattern", "^[a-z]'\\d$"),
        Check("c", "", "user", "<", -1),
    ]
    for check in cases:
        built = expression(check)
        assert isinstance(built, ClauseElement)  # typed Any: an expression or text
        pg = postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's psycopg dialect __init__ is unannotated
        compiled = built.compile(dialect=pg, compile_kwargs={"literal_binds": True})
        assert pg_sql(check) == str(compiled)
