"""No code from a schema runs, and every generated module parses and imports (issue 9, first class).

Schema text reaches Python only through `schemarel.text` (literal, docstring, comment) and names only through
`schemarel.naming`; `render/pycheck.py` parses every module before anything is written. These tests generate
hostile text for every place schema text goes and check the escaping functions, the whole pipeline, the
AST check, and (as a user runs it) `generate`, `import generated.models` and `upgrade`.
"""

from __future__ import annotations

import ast
import json
import keyword
import re
import subprocess
import sys
import tokenize
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import run_schemarel
from hostile import hostile_name, hostile_schema, hostile_text
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from schemarel import naming
from schemarel.errors import SchemaError
from schemarel.project.config import output_owner
from schemarel.project.pipeline import Settings, build
from schemarel.render import pycheck
from schemarel.text import docstring, docstring_text, py_comment, py_literal

MANY = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
PIPELINE = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


# -- the escaping functions ---------------------------------------------------------------------------------
@MANY
@given(hostile_text)
def test_docstring_round_trips_in_module_class_and_function(text: str) -> None:
    source = f"{docstring(text)}\n\nclass C:\n    {docstring(text)}\n\n    def f(self):\n        {docstring(text)}\n"
    tree = ast.parse(source)
    cls = tree.body[1]
    assert isinstance(cls, ast.ClassDef)
    method = cls.body[1]
    assert isinstance(method, ast.FunctionDef)
    for node in (tree, cls, method):
        assert ast.get_docstring(node, clean=False) == text.strip()


@MANY
@given(hostile_text, hostile_text)
def test_docstring_text_round_trips_between_other_lines(first: str, second: str) -> None:
    # revision.py.j2 writes the message, then more lines, in one docstring
    source = f'"""{docstring_text(first)}\n\nRevision ID: 0001\nfrom {docstring_text(second)}. End.\n"""\nx = 1\n'
    tree = ast.parse(source)
    assert (
        ast.get_docstring(tree, clean=False) == f"{first.strip()}\n\nRevision ID: 0001\nfrom {second.strip()}. End.\n"
    )
    assert len(tree.body) == 2


@MANY
@given(st.one_of(hostile_text, st.lists(hostile_text, max_size=3), st.integers(), st.floats(allow_nan=False,
       allow_infinity=False), st.booleans(), st.none()))  # fmt: skip
def test_literal_round_trips(value: Any) -> None:
    assert ast.literal_eval(py_literal(value)) == value


@MANY
@given(hostile_text)
def test_comment_stays_one_comment(text: str) -> None:
    source = f"x = 1  # {py_comment(text)}\ny = 2\n"
    tokens = list(tokenize.generate_tokens(StringIO(source).readline))
    assert [t.type for t in tokens].count(tokenize.COMMENT) == 1
    assert len(ast.parse(source).body) == 2


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_a_value_without_a_literal_is_refused(value: float) -> None:
    with pytest.raises(ValueError):
        py_literal(value)


# -- Python names -------------------------------------------------------------------------------------------
RESERVED_POOL = ["_sa_class_manager", "_sa_registry", "_sa_instance_state", "metadata", "registry", "__init__",
                 "__tablename__", "__table_args__", "__mapper__", "__class__", "class", "class_", "class__", "None",
                 "def", "import", "sa", "Mapped", "relationship", "mapped_column", "Base", "_is_protocol", "id",
                 "_links", "match", "type", "lambda_", "metadata_", "col_sa_registry", "col__init__"]  # fmt: skip
IDENTIFIERS = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
column_names = st.lists(st.one_of(st.sampled_from(RESERVED_POOL), IDENTIFIERS), unique=True, max_size=12)


def _safe_attribute(name: str) -> bool:
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and name not in naming.RESERVED_ATTRIBUTES
        and not name.startswith(("_sa_", "__"))
    )


@MANY
@given(column_names)
def test_attribute_names_are_distinct_safe_and_stable(columns: list[str]) -> None:
    attrs = naming.attribute_names(columns)
    assert set(attrs) == set(columns)
    assert len(set(attrs.values())) == len(columns)  # `class` and `class_` stay two attributes
    assert all(_safe_attribute(a) for a in attrs.values())
    assert all(attrs[c] == c for c in columns if _safe_attribute(c))  # a free name is never moved
    assert naming.attribute_names(sorted(columns, reverse=True)) == attrs  # order does not decide


@MANY
@given(hostile_name.filter(bool))
def test_module_and_class_names_are_plain_identifiers(text: str) -> None:
    module = naming.module_identifier(text)
    assert module.isidentifier() and module.isascii() and not keyword.iskeyword(module)
    assert module not in naming.RESERVED_MODULES and not module.startswith("__")
    cls = naming.class_identifier(naming.class_name(naming.snake(text)))
    assert cls.isidentifier() and cls.isascii() and not keyword.iskeyword(cls)
    assert cls not in naming.RESERVED_CLASSES


# -- the whole pipeline -------------------------------------------------------------------------------------
def _write(root: Path, stem: str, schema: dict[str, Any]) -> None:
    (root / "schemas").mkdir(parents=True, exist_ok=True)
    # ASCII JSON: a lone surrogate is written as `\\udfff`, so that the file is valid UTF-8 holding one
    (root / "schemas" / f"{stem}.schema.json").write_text(json.dumps(schema, indent=2), encoding="utf-8")


def _docstrings(tree: ast.Module) -> dict[str, str | None]:
    return {n.name: ast.get_docstring(n, clean=False) for n in tree.body if isinstance(n, ast.ClassDef)}


@PIPELINE
@given(hostile_text, hostile_text, hostile_name.filter(bool), hostile_name, st.sampled_from(["s", "schema"]))
# a paragraph separator in an enum value reached the typed documents raw: ruff could not lay the module out
@example("", "", '""""""[a]: javascript:alert(1)', "\u2029", "s")
@example("\x85", "\u2028", "a\x0cb", "\x0b\x1c\udfff", "s")
def test_hostile_text_anywhere_gives_modules_that_mean_it(
    tmp_path_factory: pytest.TempPathFactory, title: str, text: str, name: str, value: str, stem: str
) -> None:
    root = tmp_path_factory.mktemp("p")
    _write(root, stem, hostile_schema(title, text, name, value))
    try:
        gen = build(Settings(root / "schemas", root / "generated"))
    except SchemaError as exc:  # refused with a pointer (e.g. two properties → one column): fine, never pycheck
        assert "would not be the module" not in exc.message, exc
        event("refused")
        return
    event("generated")
    (model,) = gen.database.schemas
    for path, content in gen.files.items():
        if path.endswith(".py"):
            pycheck.check_module(path, content.decode(), {"base", "__init__", naming.module_identifier(stem)})
    tree = ast.parse(gen.files[f"models/{naming.module_identifier(stem)}.py"])
    # the module docstring is wrapped at spaces to ruff's line length: the same text, maybe other line breaks
    expected = f"Models of `{model.title}` ({model.path}). Generated by schemarel; do not edit."
    assert (ast.get_docstring(tree, clean=False) or "").split() == expected.split()
    classes = {c.name: c for c in tree.body if isinstance(c, ast.ClassDef)}
    assert len(classes) == len(model.tables)
    comments = {}
    for cls in classes.values():
        for item in cls.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.value, ast.Call):
                for kw in item.value.keywords:
                    if kw.arg == "comment":
                        comments[ast.literal_eval(kw.value)] = True
    expected_comments = {c.comment for t in model.tables for c in t.columns if c.comment}
    assert set(comments) == expected_comments
    docs = set(_docstrings(tree).values())
    assert {(t.comment or t.purpose or f"Rows of `{t.name}`.").strip() for t in model.tables} == docs
    enum_values = {v for e in model.enums for v in e.values}
    literals = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert enum_values <= literals


@PIPELINE
@example(stem="a\\b")
@example(stem='""""AA-AA\x1f\x1f\x1f\x08')  # the revision docstring wrapped the path at its hyphen
@given(hostile_name.filter(lambda s: s.strip() and "/" not in s and "\x00" not in s and not s.startswith(".")))
def test_hostile_file_names_give_modules_that_parse(tmp_path_factory: pytest.TempPathFactory, stem: str) -> None:
    root = tmp_path_factory.mktemp("f")
    try:
        _write(root, stem, hostile_schema("T", "d", "p", "v"))
    except OSError:  # a name this file system refuses (too long)
        return
    if "\\" in stem:  # no output path may hold one (the copy under generated/schemas/): refused, naming the file
        with pytest.raises(SchemaError, match="the file name holds a backslash") as refused:
            build(Settings(root / "schemas", root / "generated"))
        assert refused.value.file.endswith(".schema.json")
        return
    gen = build(Settings(root / "schemas", root / "generated"))
    module = naming.module_identifier(stem)
    for path, content in gen.files.items():
        if path.endswith(".py"):
            ast.parse(content.decode(), filename=path)
    revision = next(p for p in gen.files if p.startswith("migrations/versions/"))
    docstring = ast.get_docstring(ast.parse(gen.files[revision]), clean=False) or ""
    # the revision's docstring is wrapped at spaces (ruff's line length): the same words, maybe other breaks
    assert " ".join(f"schemas/{stem}.schema.json".split()) in " ".join(docstring.split())
    assert f"models/{module}.py" in gen.files


# -- the AST check: what a module may hold ------------------------------------------------------------------
BAD_MODULES = {
    "import os\n": "an import of 'os'",
    "from subprocess import run\n": "an import of 'subprocess'",
    "__import__('os').system('id')\n": "unexpected name '__import__'",
    "open('x', 'w').write('pwned')\n": "unexpected name 'open'",
    "import sqlalchemy as sa\nx = sa.__class__.__bases__\n": "unexpected attribute '__",
    "x = lambda: 1\n": "Lambda",
    "from .base import Base\nclass C(Base):\n    x = print\n": "unexpected name 'print'",
    "from .base import Base\nclass C(Base):\n    def f(self):\n        pass\n": "other than a table attribute",
    "from .base import Base\nprint_it = 1\n": "other than an import or a model class",
    "from .base import Base\nclass C(Base, object):\n    pass\n": "not a plain subclass",
    "from .base import *\n": "star import",
    '"""x""" """\n': "does not parse",
}


@pytest.mark.parametrize("source", list(BAD_MODULES))
def test_a_module_the_generator_does_not_write_is_refused_before_writing(source: str) -> None:
    with pytest.raises(SchemaError) as caught:
        files = {"models/base.py": b"", "models/s.py": source.encode()}
        pycheck.verify(files, {"models/s.py": "schemas/s.schema.json"}, "schemas")
    assert caught.value.file == "schemas/s.schema.json" and caught.value.pointer == "#"
    assert BAD_MODULES[source] in caught.value.message


def test_a_module_that_parses_but_does_not_compile_is_refused() -> None:
    """A signature with a parameter twice parses but is a SyntaxError at import: typed documents whose `get_by`
    took a unique property named `conn` were written so, and generate said nothing."""
    source = "from typing import Any, Protocol\n\n\nclass S(Protocol):\n"
    source += "    def f(self, *, conn: Any, conn: str) -> None: ...\n"
    with pytest.raises(SchemaError) as caught:
        pycheck.verify({"documents/s.py": source.encode()}, {"documents/s.py": "schemas/s.schema.json"}, "schemas")
    assert "does not parse" in caught.value.message and "duplicate argument 'conn'" in caught.value.message


# Statements the node check lets through, some of which compiling refuses (a parameter twice, a `__future__`
# import after other statements): the check compiles only the statements that can hold such faults.
STATEMENTS = (
    "from __future__ import annotations",
    '"""A docstring, or a string statement."""',
    "Y = 1",
    "X = [y for y in (1, 2)]",
    "Z = list(y for y in (1, 2) if y)",
    "def f(a, b):\n    return a",
    "def f(a, a):\n    return a",
    "def f(*, k, k):\n    return k",
    "async def f(p, p):\n    return p",
    "class C:\n    def m(self, x):\n        return x",
    "class C:\n    def m(self, x, x):\n        return x",
    "class C:\n    X = [y for y in (1, 2)]\n    def m(self):\n        return self",
)


@MANY
@given(st.lists(st.sampled_from(STATEMENTS), min_size=1, max_size=7))
def test_the_check_refuses_what_compiling_the_whole_module_refuses(statements: list[str]) -> None:
    """Compiling part of a module refuses exactly what compiling all of it refuses, in any order of statements."""
    source = "\n".join(statements) + "\n"
    try:
        compile(source, "documents/s.py", "exec", dont_inherit=True)
        compiles = True
    except SyntaxError:
        compiles = False
    try:
        pycheck.check_module("documents/s.py", source, set())
        passed = True
    except SyntaxError:
        passed = False
    event(f"compiles: {compiles}")
    assert passed == compiles, source


def test_a_template_that_writes_code_is_exit_2_and_generated_stays(tmp_path: Path) -> None:
    """The net under the templates, through the CLI: a models template that runs code never reaches disk."""
    _write(tmp_path, "s", hostile_schema("T", "d", "p", "v"))
    assert run_schemarel(tmp_path, "generate").returncode == 0
    before = {p: p.read_bytes() for p in (tmp_path / "generated").rglob("*") if p.is_file()}
    custom = tmp_path / "tpl"
    custom.mkdir()
    shipped = (Path(__file__).parent.parent / "templates" / "models.py.j2").read_text()
    (custom / "models.py.j2").write_text(shipped + "\nimport os\nos.system('touch pwned')\n")
    result = run_schemarel(tmp_path, "generate", "--templates", str(custom), "-m", "x")
    assert result.returncode == 2, result.stderr
    assert "schemas/s.schema.json#: the generated models/s.py" in result.stderr and "import of 'os'" in result.stderr
    assert "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in (tmp_path / "generated").rglob("*") if p.is_file()} == before


# templates rendered in the forked child (models, documents, env) and in the parent (revision, docs)
FAILING_TEMPLATES = ["models.py.j2", "documents.py.j2", "env.py.j2", "revision.py.j2", "schema_doc.md.j2"]
TEMPLATE_FAULTS = {
    "undefined": ("{{ no_such_name.attr }}", "'no_such_name' is undefined"),
    "syntax": ("{% if %}", ""),
    "missing include": ("{% include 'nope.j2' %}", "'nope.j2' not found in search path"),
}


@pytest.mark.parametrize("fault", sorted(TEMPLATE_FAULTS))
@pytest.mark.parametrize("template", FAILING_TEMPLATES)
def test_a_failing_template_is_exit_2_naming_its_file_and_line(tmp_path: Path, template: str, fault: str) -> None:
    """A user's template that does not compile or fails as it renders, wherever it is rendered: one message with
    the template's file and line (no traceback), exit 2, and nothing written."""
    _write(tmp_path, "s", hostile_schema("T", "d", "p", "v"))
    custom = tmp_path / "tpl"
    custom.mkdir()
    shipped = (Path(__file__).parent.parent / "templates" / template).read_text()
    line, why = TEMPLATE_FAULTS[fault]
    (custom / template).write_text(shipped + line + "\n")
    result = run_schemarel(tmp_path, "generate", "--templates", "tpl")
    assert result.returncode == 2, result.stderr
    errors = [e for e in result.stderr.splitlines() if e.startswith("error:")]
    assert errors == [errors[0]] and errors[0].startswith(f"error: template tpl/{template}, line "), result.stderr
    assert errors[0].split(", line ")[1].split(":")[0] == str(len(shipped.splitlines()) + 1) and why in errors[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "generated").exists()


# -- as users run it: generate, import, upgrade --------------------------------------------------------------
ATTACK_TITLE = "x\"\"\" '''"
ATTACK_DESCRIPTION = "'''\nimport pathlib; pathlib.Path('PWNED').write_text('ran')\n'''"
EXAMPLES = [
    (ATTACK_TITLE, ATTACK_DESCRIPTION, "s"),
    ('ends in a quote"', 'ends in three quotes"""', 'x"""y'),
    ("\\N{BULLET} and \\x4", "a \\ trailing backslash\\", "foo-bar"),
    ("\r\n\u2028CR LF", "\x1b[31mred\u202e", "class"),
]


def _import_and_upgrade(root: Path, url: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys, sqlalchemy as sa; sys.path.insert(0, '.'); import generated.models as m; "
        "print(sorted(m.metadata.tables)); sa.orm.configure_mappers()"
    )
    imported = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0, imported.stderr
    return run_schemarel(root, "upgrade", "--db", url)


@pytest.mark.parametrize(("title", "description", "stem"), EXAMPLES)
def test_generated_modules_import_without_running_schema_text(
    tmp_path: Path, title: str, description: str, stem: str
) -> None:
    _write(tmp_path, stem, hostile_schema(title, description, "class", 'v"""'))
    result = run_schemarel(tmp_path, "generate")
    assert result.returncode == 0, result.stderr
    upgraded = _import_and_upgrade(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    assert upgraded.returncode == 0, upgraded.stderr
    assert not (tmp_path / "PWNED").exists()
    assert run_schemarel(tmp_path, "check").returncode == 0


def _comments(url: str) -> dict[str, str | None]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        inspector = sa.inspect(engine)
        found = {}
        for table in inspector.get_table_names():
            found[table] = inspector.get_table_comment(table)["text"]
            found |= {f"{table}.{c['name']}": c.get("comment") for c in inspector.get_columns(table)}
        return found
    finally:
        engine.dispose()


@pytest.mark.parametrize("server", ["postgres_url", "mysql_url"])
def test_comments_reach_postgresql_and_mariadb_as_written(
    tmp_path: Path, server: str, request: pytest.FixtureRequest
) -> None:
    """Quotes, backslashes, line breaks, `%` and braces arrive in the comments as written; NUL (refused by
    PostgreSQL, corrupting a MariaDB table comment) is refused at load with its pointer."""
    url = request.getfixturevalue(server)
    description = "Quotes ' \" ''' \"\"\" \\ back\\slash, tab\tCR\r\n%s %% {x} \u00e9"
    _write(tmp_path, "s", hostile_schema("Thing", description, "class", "v"))
    result = run_schemarel(tmp_path, "generate")
    assert result.returncode == 0, result.stderr
    upgraded = _import_and_upgrade(tmp_path, url)
    assert upgraded.returncode == 0, upgraded.stderr
    kept = description
    comments = _comments(url)
    assert comments["things.plain"] == kept
    assert comments["things"] == kept
    _write(tmp_path, "s", hostile_schema("Thing", "NUL \x00 here", "class", "v"))
    refused = run_schemarel(tmp_path, "generate")
    assert refused.returncode == 2 and "NUL" in refused.stderr and "Traceback" not in refused.stderr


# -- names: SQLAlchemy's, Python's, and two sources becoming one -------------------------------------------
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(RESERVED_POOL), min_size=1, max_size=10, unique=True))
def test_reserved_property_names_each_get_a_mapped_column(
    tmp_path_factory: pytest.TempPathFactory, props: list[str]
) -> None:
    """`_sa_registry`, `metadata`, `__init__`, `class` + `class_`...: the model maps every column the migration
    creates, under distinct attributes (checked by importing the models in a subprocess, as a user would)."""
    root = tmp_path_factory.mktemp("n")
    # named through x-sql where it allows the name (`class` and `class_` as columns), else as the property
    properties = {
        f"p{i}" if re.fullmatch(r"[a-z_][a-z0-9_]*", p) else p: {"type": "string", "x-sql": {"column": p}}
        if re.fullmatch(r"[a-z_][a-z0-9_]*", p)
        else {"type": "string"}
        for i, p in enumerate(props)
    }
    schema = {"title": "Thing", "type": "object", "properties": properties}
    _write(root, "s", schema)
    gen = build(Settings(root / "schemas", root / "generated"))
    columns = sorted(c.name for c in gen.database.schemas[0].root.columns)
    (root / "generated").mkdir()
    from schemarel.render.output import write_tree

    write_tree(root / "generated", gen.files, output_owner("generate", root / "schemas"))
    code = (
        "import sys, json, sqlalchemy as sa; sys.path.insert(0, '.'); from generated.models import Thing; "
        "sa.orm.configure_mappers(); m = sa.inspect(Thing); "
        "print(json.dumps([sorted(c.name for c in Thing.__table__.columns), sorted(m.column_attrs.keys())]))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    mapped, attributes = json.loads(done.stdout)
    assert mapped == columns
    assert len(set(attributes)) == len(columns)


def test_two_files_that_would_share_a_module_are_refused_naming_both(tmp_path: Path) -> None:
    _write(tmp_path, "foo-bar", hostile_schema("One", "d", "p", "v"))
    _write(tmp_path, "foo_bar", hostile_schema("Two", "d", "p", "v"))
    result = run_schemarel(tmp_path, "generate")
    assert result.returncode == 2
    assert (
        "schemas/foo_bar.schema.json#: its models module models/foo_bar.py would also be the one of " in result.stderr
    )
    assert "schemas/foo-bar.schema.json" in result.stderr and not (tmp_path / "generated").exists()


def test_two_tables_that_would_share_a_class_are_refused_naming_both(tmp_path: Path) -> None:
    _write(tmp_path, "a", {"title": "Thing", "type": "object", "properties": {"x": {"type": "string"}}})
    _write(tmp_path, "b", {"type": "object", "x-sql": {"table": "thing"}, "properties": {"y": {"type": "string"}}})
    result = run_schemarel(tmp_path, "generate")
    assert result.returncode == 2
    assert (
        "schemas/b.schema.json#: table 'thing' would have model class Thing, as a table of schemas/a.schema.json#"
        in (result.stderr)
    )


@pytest.mark.parametrize("stem", ["base", "class", "include_object", "metadata", "__init__", "None"])
def test_a_schema_named_like_a_module_of_the_package_keeps_both(tmp_path: Path, stem: str) -> None:
    _write(tmp_path, stem, {"title": "Thing", "type": "object", "properties": {"x": {"type": "string"}}})
    assert run_schemarel(tmp_path, "generate").returncode == 0
    upgraded = _import_and_upgrade(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    assert upgraded.returncode == 0, upgraded.stderr
    assert (tmp_path / "generated" / "models" / "base.py").read_text().count("class Base(DeclarativeBase)") == 1


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(hostile_text, hostile_name.filter(lambda v: v not in ("v", "other")), st.text(max_size=30))
def test_a_later_revision_from_hostile_changes_parses(
    tmp_path_factory: pytest.TempPathFactory, text: str, value: str, message: str
) -> None:
    """Comment changes, an added enum value and a hostile `-m` message, written as the second revision."""
    from schemarel.render.output import write_tree

    root = tmp_path_factory.mktemp("r")
    _write(root, "s", hostile_schema("Thing", "plain", "kind", "v"))
    owner = output_owner("generate", root / "schemas")
    write_tree(root / "generated", build(Settings(root / "schemas", root / "generated")).files, owner)
    schema = hostile_schema("Thing", text, "kind", "v")
    schema["properties"]["kind"]["enum"] = ["other", "v", value]
    _write(root, "s", schema)
    try:
        gen = build(Settings(root / "schemas", root / "generated", message=message or None))
    except SchemaError as exc:
        assert "would not be the module" not in exc.message, exc
        return
    assert gen.new_revision is not None
    revision = gen.files[gen.new_revision.files[1]].decode()
    tree = ast.parse(revision)
    revision_doc = ast.get_docstring(tree, clean=False)
    assert revision_doc is not None and revision_doc.startswith(gen.new_revision.message.strip())
    constants = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert any(value in c for c in constants)  # the added value, intact inside a string constant


def test_renamed_python_names_are_warned_with_their_pointer(tmp_path: Path) -> None:
    columns = {
        "a": {"type": "string", "x-sql": {"column": "class"}},
        "b": {"type": "string", "x-sql": {"column": "class_"}},
    }
    _write(tmp_path, "base", {"title": "None", "type": "object", "properties": columns})
    result = run_schemarel(tmp_path, "generate")
    assert result.returncode == 0, result.stderr
    assert "warning: schemas/base.schema.json#: its models module is models/base_.py" in result.stderr
    assert "warning: schemas/base.schema.json#: the model class of table 'nones' is NoneRow" in result.stderr
    assert (
        "warning: schemas/base.schema.json#/properties/a: column nones.class is attribute class__ of its model: "
        "class_ is another column's" in result.stderr
    )
    assert _import_and_upgrade(tmp_path, f"sqlite:///{tmp_path / 'app.db'}").returncode == 0


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(hostile_text, st.text(max_size=30)))
def test_docstring_fast_paths_give_what_the_escaping_computes(text: str) -> None:
    """`docstring_text` and `docstring_line` return printable text without quotes or backslashes as it is: what
    the character-by-character escaping gives it too."""
    from schemarel import text as escaping

    body = "".join(escaping._py_char(c) for c in text.strip())
    body = "".join('\\"' if c == '"' and body[i + 1 : i + 2] in ('"', "") else c for i, c in enumerate(body))
    assert docstring_text(text) == body
    line = "".join(ch.encode("unicode_escape").decode() if escaping._breaks(ch) else ch for ch in body)
    line = "\\" + line if line.startswith('"') else line
    assert escaping.docstring_line(text) == '"""' + line + '"""'
