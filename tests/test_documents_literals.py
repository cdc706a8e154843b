"""Enum and const values of any text in typed documents written with the functional TypedDict syntax (a key that
is no identifier): `generate` lays the module out (ruff once crashed on a string annotation holding escapes),
and the annotation, evaluated as typing does, is a `Literal` of exactly the schema's values."""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
import typing
from collections.abc import Mapping
from pathlib import Path

import pytest
from hostile import hostile_name, hostile_schema
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from schemarel.project.pipeline import Settings, build

PIPELINE = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
# found by hypothesis through test_docs_escaping: quotes, `"""` and backslashes in an enum value
VALUE = hostile_name.filter(lambda s: "\x00" not in s)  # NUL: refused at generate (no database keeps it)
CRASHED_RUFF = '\'"""&#58;0\x08\x08\\\x1f\x1f00\x1f\x1f'


def generated_documents(root: Path, schema: Mapping[str, object]) -> typing.Any:
    """The typed documents module `generate` writes for `schema`, imported from its file."""
    (root / "schemas").mkdir(parents=True)
    (root / "schemas" / "thing.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    gen = build(Settings(root / "schemas", root / "generated"))
    path = root / "documents.py"
    path.write_bytes(gen.files["documents/thing.py"])
    spec = importlib.util.spec_from_file_location(f"_documents_{root.name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # typing resolves string annotations in the module's namespace
    spec.loader.exec_module(module)
    return module


def literal_values(annotation: typing.Any) -> set[object]:
    """The values of the `Literal`s in `NotRequired[Literal[…] | None]` and the like."""
    found: set[object] = set()
    for arg in typing.get_args(annotation):
        found |= literal_values(arg) if typing.get_origin(arg) is not typing.Literal else set(typing.get_args(arg))
    if typing.get_origin(annotation) is typing.Literal:
        found |= set(typing.get_args(annotation))
    return found


@PIPELINE
@given(values=st.lists(VALUE, min_size=1, max_size=4, unique=True), const=VALUE, title=VALUE, key=VALUE)
@example(values=[CRASHED_RUFF, "other"], const='"', key='"', title='"\x1f¡\U0001bc89\U00015205\U0002ebe1¡')
def test_any_enum_value_types_a_functional_typed_dict(
    tmp_path_factory: pytest.TempPathFactory, values: list[str], const: str, title: str, key: str
) -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Thing",
        "description": title,  # the module's docstring: multi-byte text before the annotations
        "type": "object",
        "properties": {
            "first-name": {"type": "string"},  # no identifier: the functional syntax
            f"{key}_": {"type": "string", "enum": values},
            "tag": {"const": const},
            "kinds": {"type": "array", "items": {"type": "string", "enum": values}},
        },
        "required": [f"{key}_"],
    }
    module = generated_documents(tmp_path_factory.mktemp("t"), schema)
    hints = typing.get_type_hints(module.Thing, include_extras=True)
    assert literal_values(hints[f"{key}_"]) == set(values)
    assert literal_values(hints["tag"]) == {const}
    assert literal_values(typing.get_args(typing.get_args(hints["kinds"])[0])[0]) == set(values)


def test_the_schema_ruff_crashed_on_generates(tmp_path: Path) -> None:
    """test_docs_escaping's hostile schema with the values hypothesis found: `generate` succeeds."""
    title = '"\x1f¡\U0001bc89\U00015205\U0002ebe1¡'
    module = generated_documents(tmp_path, hostile_schema(title, "", '"', CRASHED_RUFF))
    hints = typing.get_type_hints(getattr(module, module.__all__[0]))  # the document's own class
    assert literal_values(hints['"']) == {CRASHED_RUFF, "other"}


def literal_members(source: str) -> list[list[str]]:
    """The members of every `Literal[…]` written in `source`, as source text, in order."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "Literal":
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            found.append([ast.unparse(item) for item in items])
    return found


REPEATABLE = st.one_of(st.sampled_from(["a", "b", "é", 'q"']), st.integers(-2, 2), st.booleans(), st.none())


@PIPELINE
@given(values=st.lists(REPEATABLE, min_size=1, max_size=6), repeats=st.integers(1, 40))
def test_repeated_enum_values_are_written_once(
    tmp_path_factory: pytest.TempPathFactory, values: list[object], repeats: int
) -> None:
    """JSON Schema allows an enum to repeat values; the typed documents and the docs list each value once (a
    131,072-value enum of 7 values once wrote a 2 MB module whose ruff report exhausted generate's memory)."""
    enum = values * repeats
    root = tmp_path_factory.mktemp("t")
    schema = {"title": "Thing", "type": "object", "properties": {
        "e": {"enum": enum}, "kinds": {"type": "array", "items": {"enum": enum}}}}  # fmt: skip
    module = generated_documents(root, schema)
    source = (root / "documents.py").read_text(encoding="utf-8")
    distinct = {json.dumps(v) for v in values if v is not None}
    for members in literal_members(source):  # the enum's and every other Literal (the order keys', say)
        assert len(members) == len(set(members)), members
    assert literal_values(typing.get_type_hints(module.Thing)["e"]) == {v for v in values if v is not None}
    docs = build(Settings(root / "schemas", root / "generated")).files["docs/thing.md"].decode()
    for line in docs.splitlines():
        if "Enum: " in line:
            listed = line.split("Enum: ", 1)[1].split(".", 1)[0]
            assert len(listed) < 60 * len(distinct | {"null"}), line  # each value once, not `repeats` times
