"""Hostile schemas of each kind that used to crash or blow up `generate`: every number edge, nesting of any depth,
fan-outs through `$ref`/`allOf`, huge enums, text no encoding can write, undecodable file names, bad
SOURCE_DATE_EPOCH. `generate` runs as a subprocess under a time and a memory limit; it exits 0 (and then the
revision upgrades an SQLite database) or 2 with one message naming the file and a JSON pointer, and writes
nothing, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from robust_helpers import TIME_LIMIT, assert_clean, project, schemarel, upgrade
from schemarel.sql.limits import MAX_ENUM_VALUES

EXAMPLES = settings(
    max_examples=int(os.environ.get("ROBUST_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Number literals as JSON text (1e400 parses to infinity; 10**400 is an int no float holds).
NUMBER_TEXT = st.one_of(
    st.integers(-(10**40), 10**40).map(str),
    st.integers(1, 400).flatmap(lambda k: st.sampled_from([f"1{'0' * k}", f"-1{'0' * k}", f"9e{k}", f"-1e{k}"])),
    st.sampled_from([str(2**63), str(2**63 - 1), str(-(2**63) - 1), str(2**31), "32768", "-32769", "1e400",
                     "-1e400", "1E+309", "5e-324", "1e-400", "1.7976931348623157e308", "0.000001", "-0.0"]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)  # fmt: skip
NUMBER_KEYWORDS = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "default", "const"]


def generates(tmp: str, schema: Any, name: bytes | str = "doc", env: dict[str, str] | None = None) -> bool:
    """Generate `schema` in a fresh project under `tmp`; when it succeeds, the revision upgrades SQLite."""
    root = project(Path(tmp), schema, name)
    run = schemarel(root, "generate", env=env)
    if not assert_clean(run, root, pointer=isinstance(name, str)):
        return False
    assert upgrade(root, f"sqlite:///{root / 'app.db'}").returncode == 0
    return True


@EXAMPLES
@given(
    kind=st.sampled_from(["integer", "number"]),
    numbers=st.dictionaries(st.sampled_from(NUMBER_KEYWORDS), NUMBER_TEXT, min_size=1),
    enum=st.lists(NUMBER_TEXT, max_size=4),
    xsql=st.sampled_from([None, "numeric(10,2)", "numeric(65,30)", "smallint", "integer", "float", "bigint"]),
)
def test_number_edges(kind: str, numbers: dict[str, str], enum: list[str], xsql: str | None) -> None:
    prop: dict[str, Any] = {"type": kind, **{k: f"@{k}@" for k in numbers}}
    if enum:
        prop["enum"] = "@enum@"
    if xsql:
        prop["x-sql"] = {"type": xsql}
    text = json.dumps({"title": "Doc", "type": "object", "required": ["n"], "properties": {"n": prop}})
    for key, literal in numbers.items():
        text = text.replace(f'"@{key}@"', literal)
    text = text.replace('"@enum@"', f"[{', '.join(enum)}]")
    with tempfile.TemporaryDirectory() as tmp:
        generates(tmp, text)


# How each kind of nesting wraps the schema inside it: (before, after). The JSON is built as text, as deep
# as it is, since `json.dumps` itself recurses per level.
WRAPPERS = {
    "properties": ('{"type": "object", "required": ["a"], "properties": {"a": ', "}}"),
    "items": ('{"type": "array", "items": ', "}"),
    "allOf": ('{"allOf": [', "]}"),
    "not": ('{"type": "string", "not": ', "}"),
    "anyOf": ('{"anyOf": [', ', {"type": "null"}]}'),
}


def nested(depth: int, how: str) -> str:
    """A schema whose property `a` nests `depth` levels, inline or through a chain of definitions."""
    if how == "refs":  # shallow JSON, deep schema
        defs: dict[str, Any] = {"l0": {"type": "string"}}
        for i in range(1, depth):
            defs[f"l{i}"] = {"type": "object", "properties": {"a": {"$ref": f"#/$defs/l{i - 1}"}}}
        return json.dumps({"title": "Doc", "type": "object", "$defs": defs, "$ref": f"#/$defs/l{depth - 1}"})
    before, after = WRAPPERS[how]
    inner = before * depth + '{"type": "string"}' + after * depth
    return '{"title": "Doc", "type": "object", "properties": {"a": ' + inner + "}}"


@EXAMPLES
@given(depth=st.integers(1, 2500), how=st.sampled_from([*WRAPPERS, "refs"]))
def test_nesting_of_any_depth(depth: int, how: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        generates(tmp, nested(depth, how))


def fan_out(depth: int, width: int, how: str) -> dict[str, Any]:
    """Level i reaches level i-1 `width` times: `width`**`depth` paths from a few hundred bytes of JSON."""
    defs: dict[str, Any] = {"l0": {"type": "object", "properties": {"x": {"type": "string"}}}}
    for i in range(1, depth + 1):
        refs = [{"$ref": f"#/$defs/l{i - 1}"} for _ in range(width)]
        names = [f"p{j}" if how == "collide" else f"p{i}_{j}" for j in range(width)]
        defs[f"l{i}"] = {
            "allOf": {"allOf": refs},
            "anyOf": {"anyOf": [{**r, "title": str(j)} for j, r in enumerate(refs)]},
            "array": {
                "type": "object",
                "properties": {n: {"type": "array", "items": r} for n, r in zip(names, refs, strict=True)},
            },
        }.get(how) or {"type": "object", "required": names, "properties": dict(zip(names, refs, strict=True))}
    return {"title": "Doc", "$defs": defs, "$ref": f"#/$defs/l{depth}"}


@EXAMPLES
@given(
    depth=st.integers(1, 40),
    width=st.integers(2, 4),
    how=st.sampled_from(["required", "collide", "allOf", "anyOf", "array"]),
)
def test_fan_out_is_refused_in_bounded_time_and_memory(depth: int, width: int, how: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        generates(tmp, fan_out(depth, width, how))


@EXAMPLES
@given(
    size=st.integers(0, 17).flatmap(lambda k: st.integers(2**k, 2**k + 2)),
    values=st.sampled_from(["strings", "ints", "long", "duplicates", "mixed"]),
    xsql=st.sampled_from([None, "text", "varchar(5)"]),
)
@example(size=2**17, values="duplicates", xsql=None)  # 7 values repeated: once ran generate out of memory
def test_big_enums(size: int, values: str, xsql: str | None) -> None:
    enum = {
        "strings": [f"v{i}" for i in range(size)],
        "ints": list(range(size)),
        "long": [f"{i:0>60}" for i in range(size)],
        "duplicates": [f"v{i % 7}" for i in range(size)],
        "mixed": [i if i % 2 else str(i) for i in range(size)],
    }[values]
    prop: dict[str, Any] = {"enum": enum, **({"x-sql": {"type": xsql}} if xsql else {})}
    with tempfile.TemporaryDirectory() as tmp:
        done = generates(tmp, {"title": "Doc", "type": "object", "properties": {"e": prop}})
    if values in ("strings", "ints", "long") and size > MAX_ENUM_VALUES and xsql is None:
        assert done, "an enum over the budget maps to a plain column"
    if values in ("ints", "duplicates") and xsql is None and size <= MAX_ENUM_VALUES:
        assert done, "an enum within the budget generates"


# Text no encoding can write (lone surrogates), a NUL, terminal escapes and plain oddities, everywhere text goes.
HOSTILE = st.one_of(
    st.sampled_from(["\ud800", "a\udfffb", "\x00", "a\x00", "\x1b[31m", "é", "名前", "a\u2028b", "\ufeff"]),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=8),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2),
)
PLACES = ["property", "title", "description", "enum", "default", "pattern", "const", "x-sql-table"]


@EXAMPLES
@given(text=HOSTILE, place=st.sampled_from(PLACES))
def test_hostile_text_anywhere(text: str, place: str) -> None:
    prop: dict[str, Any] = {"type": "string"}
    schema: dict[str, Any] = {"title": "Doc", "type": "object", "properties": {"s": prop}}
    if place == "property":
        schema["properties"] = {text or "x": prop}
    elif place in ("title", "description", "default", "pattern", "const"):
        prop[place] = text
    elif place == "enum":
        prop["enum"] = [text, "other"]
    else:
        schema["x-sql"] = {"table": text}
    with tempfile.TemporaryDirectory() as tmp:
        generates(tmp, json.dumps(schema))  # json.dumps escapes surrogates as \\udXXX: valid JSON text


@EXAMPLES
@example(stem=b"\\")
@example(stem=b"a\\b")
@given(stem=st.binary(min_size=1, max_size=6).filter(lambda b: b"/" not in b and b"\x00" not in b and b"." not in b))
def test_file_names_of_any_bytes(stem: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = project(Path(tmp), {"title": "Doc", "type": "object", "properties": {"a": {"type": "string"}}}, stem)
        run = schemarel(root, "generate")
        assert "Traceback" not in run.stderr, run.stderr
        assert run.returncode in (0, 2), run.stderr
        if run.returncode == 2:
            assert run.stderr.startswith("error: schemas/") and not (root / "generated").exists()
        else:
            assert stem.decode("utf-8", "strict")  # only a decodable name generates


@EXAMPLES
@given(
    epoch=st.one_of(
        st.integers(-(10**20), 10**20).map(str),
        st.text(max_size=12),
        st.sampled_from(["abc", "1e9", " 0 ", "-62135596800", "253402300799", "253402300800", "99" * 20]),
    )
)
def test_source_date_epoch_of_any_value(epoch: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = project(Path(tmp), {"title": "Doc", "type": "object", "properties": {"a": {"type": "string"}}})
        run = schemarel(root, "generate", env={"SOURCE_DATE_EPOCH": epoch.replace("\x00", "")})
        assert "Traceback" not in run.stderr, run.stderr
        if run.returncode == 2:
            assert run.stderr.startswith("error: SOURCE_DATE_EPOCH=") and not (root / "generated").exists()
        else:
            assert run.returncode == 0, run.stderr


@EXAMPLES
@given(
    command=st.sampled_from([["check"], ["inspect"], ["inspect", "--format", "json"], ["check", "--format", "json"]]),
    schema=st.one_of(
        st.builds(nested, st.integers(1, 300), st.sampled_from([*WRAPPERS, "refs"])),
        st.builds(fan_out, st.integers(10, 30), st.just(2), st.sampled_from(["required", "allOf", "anyOf"])),
        HOSTILE.map(lambda t: json.dumps({"title": t, "type": "object", "properties": {t or "x": {"enum": [t]}}})),
    ),
)
def test_check_and_inspect_never_crash_either(command: list[str], schema: Any) -> None:
    """They read the same schemas: exit 0, 1 (check: stale) or 2, never a traceback, under the same limits."""
    with tempfile.TemporaryDirectory() as tmp:
        root = project(Path(tmp), schema)
        run = schemarel(root, *command)
        assert "Traceback" not in run.stderr, run.stderr[-3000:]
        assert run.returncode in (0, 1, 2), run.stderr[-3000:]
        assert not (root / "generated").exists()


def properties(count: int, per_table: int) -> dict[str, Any]:
    """Optional objects (a table each) of `per_table` boolean properties, `count` placements in all."""
    tables, rest = divmod(count, per_table + 1)
    sizes = [per_table] * tables + ([rest - 1] if rest else [])
    objects = {f"o{i}": {"type": "object", "properties": {f"b{j}": {"type": "boolean"} for j in range(n)}}
               for i, n in enumerate(sizes)}  # fmt: skip
    return {"title": "Doc", "type": "object", "additionalProperties": False, "properties": objects}


def test_the_property_budget_holds_to_the_last_one(tmp_path: Path) -> None:
    from projects import model
    from schemarel.errors import SchemaError
    from schemarel.schema.work import LIMITS

    limit = LIMITS["properties"]
    assert len(model(tmp_path / "at", properties(limit, 999)).tables) > 1
    with pytest.raises(SchemaError, match=f"more than {limit:,} properties"):
        model(tmp_path / "past", properties(limit + 1, 999))


@EXAMPLES
@given(
    pyproject=st.one_of(
        st.integers(1, 5000).map(lambda n: f"[tool.schemarel]\nx = {'[' * n}{']' * n}\n".encode()),
        st.integers(1, 3000).map(lambda n: b"[tool.schemarel]\ny = " + b"{a=" * n + b"1" + b"}" * n),
        st.sampled_from(["schemas", "out", "templates"]).map(
            lambda k: f'[tool.schemarel]\n{k} = "a\\u0000b"\n'.encode()
        ),
        st.binary(max_size=40).map(lambda b: b"[tool.schemarel]\nschemas = '" + b + b"'\n"),
    )
)
def test_start_up_on_any_pyproject(pyproject: bytes) -> None:
    """The CLI reads pyproject.toml before any command: a hostile one is an error naming it, not a traceback."""
    with tempfile.TemporaryDirectory() as tmp:
        root = project(Path(tmp), {"title": "Doc", "type": "object", "properties": {"a": {"type": "string"}}})
        (root / "pyproject.toml").write_bytes(pyproject)
        run = schemarel(root, "generate")
        assert "Traceback" not in run.stderr, run.stderr[-3000:]
        assert run.returncode in (0, 2), run.stderr[-3000:]


def test_start_up_in_a_removed_directory(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    script = f"import os, sys, runpy; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r}); "
    script += "sys.argv = ['schemarel', 'generate']; runpy.run_module('schemarel', run_name='__main__')"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=TIME_LIMIT)
    assert run.returncode == 2 and run.stderr.startswith("error: "), run.stderr
