"""Defaults inside a part stored as JSON: the typed documents said a required property with a `default` may be
left out (`NotRequired`, "the Store fills it in"), but the Store filled defaults in only for table-mapped
columns, so such a document type-checked and was then refused (DocumentInvalid). Now the Store fills them in
wherever the value is stored, the document reads back with them, and a property inside a `oneOf` branch (where
no default is filled in: the branch is not known before the document is valid) is typed as required."""

from __future__ import annotations

import copy
import importlib.util
import os
import subprocess
import sys
import types
import typing
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import deadline
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from projects import generate, write_project
from runtime_helpers import drawn_store
from schemarel.errors import DocumentInvalid

EXAMPLES = settings(
    max_examples=10,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TYPED = settings(EXAMPLES, max_examples=3)
SCALARS = st.one_of(
    st.integers(-9, 9).map(lambda d: {"type": "integer", "default": d}),
    st.text("abc", max_size=3).map(lambda d: {"type": "string", "default": d}),
    st.booleans().map(lambda d: {"type": "boolean", "default": d}),
    st.just({"type": ["string", "null"], "default": None}),
)


@st.composite
def objects(draw: st.DrawFn, depth: int) -> dict[str, Any]:
    """An object whose required properties all have defaults (some nested objects and arrays), and optional
    properties with or without one (never filled in)."""
    props: dict[str, Any] = {}
    required = []
    for i in range(draw(st.integers(1, 4))):
        kinds = ["scalar"] + (["object", "array"] if depth else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "object":
            prop = {**draw(objects(depth - 1)), "default": {}}
        elif kind == "array":
            prop = {"type": "array", "items": draw(objects(depth - 1)), "default": [{}]}
        else:
            prop = draw(SCALARS)
        if draw(st.booleans()):
            required.append(f"k{i}")
        elif draw(st.booleans()):
            prop = {k: v for k, v in prop.items() if k != "default"}
        props[f"k{i}"] = prop
    return {"type": "object", "required": required, "properties": props}


@st.composite
def schemas(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
    """A root whose `part` is stored as JSON: an object, an array or a map of drawn objects, perhaps by a
    `$ref`; and the document that leaves every default out."""
    obj = draw(objects(2))
    shape = draw(st.sampled_from(["object", "array", "map"]))
    json = {"x-sql": {"storage": "json"}}
    part: dict[str, Any] = {"object": {**obj, **json}, "array": {"type": "array", "items": obj, **json},
                            "map": {"type": "object", "additionalProperties": obj, **json}}[shape]  # fmt: skip
    value: Any = {"object": {}, "array": [{}, {}], "map": {"a": {}, "b": {}}}[shape]
    schema: dict[str, Any] = {"title": "Doc", "type": "object", "required": ["name", "part"]}
    if draw(st.booleans()):
        schema["$defs"] = {"Part": part}
        part = {"$ref": "#/$defs/Part"}
    schema["properties"] = {"name": {"type": "string"}, "part": part}
    return schema, {"name": "n", "part": value}


def filled(schema: dict[str, Any], node: Any, value: Any) -> Any:
    """The test's own reading of JSON Schema defaults: a required property's default where it is absent."""
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    if isinstance(value, list):
        return [filled(schema, node["items"], v) for v in value]
    if not isinstance(value, dict):
        return value
    if "additionalProperties" in node:
        return {k: filled(schema, node["additionalProperties"], v) for k, v in value.items()}
    out = dict(value)
    for key, sub in node.get("properties", {}).items():
        if key not in out and key in node.get("required", ()):
            out[key] = copy.deepcopy(sub["default"])
        if key in out:
            out[key] = filled(schema, sub, out[key])
    return out


def test_defaults_inside_json_parts_are_filled_in_and_read_back(three_db_url: str, tmp_path: Path) -> None:
    @EXAMPLES
    @given(schemas())
    def round_trip(drawn: tuple[dict[str, Any], Any]) -> None:
        schema, document = drawn
        with drawn_store(tmp_path, three_db_url, "doc", schema) as store:
            doc_id = store.create(document)
            assert store.get(doc_id) == filled(schema, schema, document), schema
            merged = store.patch(doc_id, {"part": document["part"]})  # a patch's values get them too
            assert merged == filled(schema, schema, document), schema

    round_trip()


def conforms(value: Any, annotation: Any, where: str = "#") -> None:
    """`value` is of the generated type `annotation` (TypedDicts, lists, dicts, unions, Literals, scalars)."""
    origin = typing.get_origin(annotation)
    if typing.is_typeddict(annotation):
        assert isinstance(value, dict), where
        # `__required_keys__` is no help: under `from __future__ import annotations` it holds every key
        hints = typing.get_type_hints(annotation, include_extras=True)
        optional = {k for k, h in hints.items() if typing.get_origin(h) is typing.NotRequired}
        hints = {k: typing.get_args(h)[0] if k in optional else h for k, h in hints.items()}
        missing = set(hints) - optional - set(value)
        assert not missing, f"{where}: {sorted(missing)} typed as always there, read back without"
        for key, item in value.items():
            assert key in hints, f"{where}/{key}: not in {annotation.__name__}"
            conforms(item, hints[key], f"{where}/{key}")
    elif origin is list:
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            conforms(item, typing.get_args(annotation)[0], f"{where}/{i}")
    elif origin is dict:
        assert isinstance(value, dict), where
        for key, item in value.items():
            conforms(item, typing.get_args(annotation)[1], f"{where}/{key}")
    elif origin in (typing.Union, types.UnionType):
        failures = []
        for member in typing.get_args(annotation):
            try:
                conforms(value, member, where)
                return
            except AssertionError as exc:
                failures.append(str(exc))
        raise AssertionError(f"{where}: {value!r} is none of {annotation}: {failures}")
    elif origin is typing.Literal:
        assert any(value == v and type(value) is type(v) for v in typing.get_args(annotation)), where
    elif annotation is not Any:
        kinds = {int: (int,), bool: (bool,), str: (str,), float: (float, int, Decimal), Decimal: (Decimal, int)}
        expected = (type(None),) if annotation is type(None) else kinds[annotation]
        assert isinstance(value, expected) and (annotation is bool or not isinstance(value, bool)), where


def test_documents_read_back_are_what_their_generated_types_say(postgres_url: str, tmp_path: Path) -> None:
    """The typed document of a drawn schema: the document without its defaults type-checks (mypy --strict), is
    written, and reads back as a value of that type; inside a `oneOf` branch (no default filled in) leaving a
    defaulted required property out is a mypy error, and DocumentInvalid at run time."""
    runs = iter(range(10**6))

    @TYPED
    @given(schemas(), objects(1))
    def typed(drawn: tuple[dict[str, Any], Any], branch: dict[str, Any]) -> None:
        schema, document = drawn
        # one definition, in a branch (nothing filled in) and as a property of its own (filled in)
        schema.setdefault("$defs", {})["Branch"] = branch
        ref = {"$ref": "#/$defs/Branch"}
        schema["properties"]["either"] = {"oneOf": [ref, {"type": "string"}], "x-sql": {"storage": "json"}}
        schema["properties"]["same"] = ref
        whole = filled(schema, branch, {})  # every default of the branch written out
        document = {**document, "same": {}}
        root = write_project(tmp_path / f"p{next(runs)}", {"doc": schema})
        assert generate(root).exit_code == 0
        path = root / "generated" / "documents" / "doc.py"
        module = _load(path)
        with drawn_store(tmp_path, postgres_url, "doc", schema) as store:
            read = store.get(store.create({**document, "either": whole}))
        assert read == filled(schema, schema, {**document, "either": whole})
        conforms(read, module.Doc)
        app = root / "app.py"
        app.write_text(f"from generated.documents import doc\n\nd: doc.Doc = { ({**document, 'either': whole})!r}\n")
        apps = [app]
        for i, key in enumerate(k for k in branch["required"] if k in whole):
            apps.append(root / f"app_wrong_{i}.py")
            less = {k: v for k, v in whole.items() if k != key}
            apps[-1].write_text(
                f"from generated.documents import doc\n\nd: doc.Doc = { ({**document, 'either': less})!r}\n"
            )
        result = _mypy(root, tmp_path, apps)
        errors = [line for line in result.stdout.splitlines() if ": error:" in line]
        assert not [e for e in errors if e.startswith(f"{app.name}:")], result.stdout  # mypy names them from cwd
        for wrong in apps[1:]:
            assert any(e.startswith(f"{wrong.name}:") for e in errors), (schema, result.stdout)

    typed()


def _load(path: Path) -> Any:
    """The generated module, imported under a name of its own (each drawn project has one)."""
    name = f"_typed_doc_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # get_type_hints reads the module's names from here
    spec.loader.exec_module(module)
    return module


def _mypy(root: Path, tmp_path: Path, files: list[Path]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MYPYPATH": str(root)}
    command = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / ".mypy_cache"), *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, cwd=root, env=env, check=False)


@pytest.mark.parametrize("default", [{}, {"next": {}}, [{}, {}]])
def test_a_default_of_its_own_kind_is_filled_once_not_without_end(
    tmp_path: Path, sqlite_url: str, default: Any
) -> None:
    """A required property whose default is an object (or array of objects) of the same recursive kind: filling
    the default into the filled default never ends (it hung, then ran out of memory). It is filled once; the
    document is then invalid (its inner object lacks the property), refused as any invalid document."""
    node = (
        {"$ref": "#", "default": default}
        if isinstance(default, dict)
        else {"type": "array", "items": {"$ref": "#"}, "default": default}
    )
    schema = {"title": "Chain", "type": "object", "required": ["next"], "properties": {"next": node}}
    with deadline(20), drawn_store(tmp_path, sqlite_url, "chain", schema) as store:
        with pytest.raises(DocumentInvalid):
            store.create({})
        assert store.count() == 0
