"""The first revision written straight from the IR (`migrate.first`) is the one Alembic renders (`migrate.plan`):
equal Plans, hence byte-equal revision files (the pipeline renders the file from the Plan alone), on the
repository's schemas, the corpus, large_models and drawn schemas; where it declines, the pipeline plans as
before."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, SHARED, require_shared
from hostile import FRAGMENTS, hostile_text
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from projects import model, write_project
from schemarel.errors import SchemarelError
from schemarel.ir import Column, ColumnType, Constraint, Database, Default, EnumType, ForeignKey, SchemaModel, Table
from schemarel.migrate import first
from schemarel.migrate.plan import plan
from schemarel.normalize.normalizer import normalize
from schemarel.project.pipeline import pointers
from schemarel.schema.loader import load_schemas
from schemarel.sql.kinds import KINDS


def both(db: Database) -> None:
    """The fast path takes `db` and writes what Alembic writes."""
    fast = first.plan(db, pointers(db))
    assert fast is not None, "the first revision of this model should not need Alembic"
    assert fast == plan(None, db, {}, pointers(db))


def database(schemas_dir: Path) -> Database:
    return Database(tuple(normalize(source) for source in load_schemas(schemas_dir)))


@pytest.mark.parametrize("where", ["schemas", "tests/data"])
def test_the_repository_schemas(where: str) -> None:
    both(database(REPO / where))


def test_large_models(tmp_path: Path) -> None:
    schema = require_shared(SHARED / "perf" / "large_models.schema.json")
    write_project(tmp_path, {"large_models": schema.read_text(encoding="utf-8")})
    db = database(tmp_path / "schemas")
    assert len(db.tables) > 100
    both(db)


CORPUS = sorted((SHARED / "corpus").glob("*.schema.json"))


@pytest.mark.parametrize("name", [p.name.removesuffix(".schema.json") for p in CORPUS] or ["corpus"])
def test_the_corpus(name: str, tmp_path: Path) -> None:
    """Each corpus schema alone (../shared: a skip saying so in a clone without it, a failure when CI is set)."""
    path = require_shared(SHARED / "corpus" / f"{name}.schema.json")
    write_project(tmp_path, {name: path.read_text(encoding="utf-8")})
    both(database(tmp_path / "schemas"))


def test_every_column_type_the_ir_has() -> None:
    """Each kind, keyed or not (MySQL's varchar(255) key, the long varchar MySQL keeps as TEXT), with each kind
    of default, a comment or none, nullable or not, in a hand-made IR."""
    columns = [Column("id", ColumnType("uuid"), False, Default("uuid"))]
    kinds = [ColumnType(k) for k in KINDS if k not in ("enum", "varchar", "numeric")] + [
        ColumnType("varchar"), ColumnType("varchar", length=40), ColumnType("varchar", length=5000),
        ColumnType("numeric", precision=12, scale=2), ColumnType("numeric", precision=5, scale=0),
        ColumnType("enum", enum="colour"),
    ]  # fmt: skip
    defaults = [None, Default("now"), Default("literal", True), Default("literal", 3), Default("literal", -1.5),
                Default("literal", "it's"), Default("literal", "a\\b"), Default("literal", "plain"),
                Default("literal", None), Default("literal", ["x"])]  # fmt: skip
    for i, kind in enumerate(kinds):
        for j, default in enumerate(defaults):
            comment = [None, "", 'it\'s "quoted"\nand é'][(i + j) % 3]
            columns.append(Column(f"c{i}_{j}", kind, (i + j) % 2 == 0, default, comment))
    keyed = [c.name for c in columns[1::7]]
    table = Table(
        "things", "root", "things", tuple(columns), Constraint("pk_things", ("id",)),
        foreign_keys=(ForeignKey("fk_things_owner", (keyed[0],), "owners", ("id",), "SET NULL", external=True),),
        uniques=(Constraint("uq_things_a", tuple(keyed[1:3])),),
        indexes=tuple(Constraint(f"ix_things_{n}", (n,)) for n in reversed(keyed[3:])),
        comment="Things, 'quoted'",
    )  # fmt: skip
    serial = Table(
        "counters", "root", "things",
        (Column("id", ColumnType("bigint"), False, Default("sequence")), Column("n", ColumnType("integer"), True)),
        Constraint("pk_counters", ("id",)),
    )  # fmt: skip
    enum = EnumType("colour", ("red", "green", "it's", "é"))
    db = Database((SchemaModel("things", "Things", "schemas/things.schema.json", (table, serial), (enum,)),))
    both(db)


def test_where_it_declines_the_pipeline_plans_with_alembic(tmp_path: Path) -> None:
    """Two indexes of one name: Alembic orders indexes by name, so the fast path declines (and `generate`
    still writes the revision, through Alembic)."""
    key = Column("id", ColumnType("uuid"), False, Default("uuid"))
    table = Table(
        "t", "root", "t", (key, Column("a", ColumnType("text"), True)), Constraint("pk_t", ("id",)),
        indexes=(Constraint("ix_t", ("a",)), Constraint("ix_t", ("id",))),
    )  # fmt: skip
    db = Database((SchemaModel("t", "T", "schemas/t.schema.json", (table,)),))
    assert first.plan(db, pointers(db)) is None
    for broken in (
        Table("t", "root", "t", (key, key), Constraint("pk_t", ("id",))),  # SQLAlchemy refuses a column twice
        Table("t", "root", "t", (key,), Constraint("pk_t", ("nope",))),
    ):
        assert first.plan(Database((SchemaModel("t", "T", "t.json", (broken,)),)), {}) is None


def test_a_first_generate_imports_neither_sqlalchemy_nor_alembic(tmp_path: Path) -> None:
    write_project(tmp_path, {"customer": (REPO / "schemas" / "customer.schema.json").read_text(encoding="utf-8")})
    probe = (
        "import sys; from schemarel.cli.main import main\n"
        "try:\n    main(['generate'])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'alembic'}))"
    )
    found = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert found.stdout.strip().splitlines()[-1] == "[]"
    assert list((tmp_path / "generated" / "migrations" / "versions").glob("0001_*.py"))


# -- drawn schemas -------------------------------------------------------------------------------------------
NAMES = st.sampled_from(["alpha", "beta", "Gamma Ray", "delta-2", "名前", "it's", "id", "user_id", "x" * 70])
TEXT = st.one_of(st.none(), st.sampled_from(["", "Plain.", 'it\'s "q"\nnew']), hostile_text)
LABELS = st.lists(
    st.one_of(st.sampled_from(["a", "b", "c", "Ab", "x" * 70, "back\\slash", "it's", "é"]), st.sampled_from(FRAGMENTS)),
    min_size=1, max_size=5, unique=True,
)  # fmt: skip
SCALARS: list[dict[str, Any]] = [
    {"type": "string"}, {"type": "string", "maxLength": 12}, {"type": "string", "minLength": 1, "maxLength": 6000},
    {"type": "string", "format": "email"}, {"type": "string", "format": "date"},
    {"type": "string", "format": "date-time"}, {"type": "string", "format": "time"},
    {"type": "string", "format": "uuid"}, {"type": "string", "format": "ipv4"}, {"type": "string", "format": "uri"},
    {"type": "string", "pattern": "^[A-Z]{2}$"}, {"type": "string", "pattern": "^\\d+(\\.\\d+)?$"},
    {"type": "integer"}, {"type": "integer", "minimum": 0, "maximum": 100},
    {"type": "integer", "exclusiveMinimum": -5, "maximum": 70000}, {"type": "integer", "format": "int32"},
    {"type": "number"}, {"type": "number", "multipleOf": 0.01, "minimum": 0, "maximum": 1000},
    {"type": "boolean"}, {"type": ["string", "null"]}, {"type": "string", "x-sql": {"type": "varchar(40)"}},
    {"type": "string", "x-sql": {"type": "text", "unique": True}}, {"type": "integer", "x-sql": {"index": True}},
    {"type": "string", "format": "uuid", "x-sql": {"references": {"table": "users"}}},
    {"type": "string", "x-sql": {"references": {"table": "accounts", "column": "code", "onDelete": "SET NULL"}}},
    {"type": "object", "additionalProperties": True}, {},
]  # fmt: skip
DEFAULTS = {"string": st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=5)), "integer": st.integers(0, 50),
            "number": st.sampled_from([0, 1.5, 250.25]), "boolean": st.booleans()}  # fmt: skip


@st.composite
def properties(draw: st.DrawFn, depth: int) -> tuple[dict[str, Any], list[str]]:
    props: dict[str, Any] = {}
    required: list[str] = []
    for name in draw(st.lists(NAMES, min_size=1, max_size=5, unique=True)):
        choice = draw(st.integers(0, 9 if depth else 6))
        if choice <= 4:
            prop = dict(draw(st.sampled_from(SCALARS)))
            kind = prop.get("type")
            if isinstance(kind, str) and kind in DEFAULTS and "format" not in prop and draw(st.booleans()):
                prop["default"] = draw(DEFAULTS[kind])
        elif choice <= 6:
            prop = {"type": "string", "enum": draw(LABELS)}
            if draw(st.booleans()):
                prop["default"] = prop["enum"][0]
        elif choice == 7:
            prop = {"type": "array", "items": dict(draw(st.sampled_from(SCALARS[:20])))}
        else:
            inner, inner_required = draw(properties(depth - 1))
            prop = {"type": "object", "properties": inner, "required": inner_required}
            if draw(st.booleans()):
                prop["x-sql"] = {"storage": draw(st.sampled_from(["table", "flatten", "json"]))}
            if choice == 9:
                prop = {"type": "array", "items": prop}
        description = draw(TEXT)
        if description is not None:
            prop["description"] = description
        props[name] = prop
        if draw(st.booleans()):
            required.append(name)
    return props, required


@st.composite
def schemas(draw: st.DrawFn) -> dict[str, Any]:
    props, required = draw(properties(2))
    schema: dict[str, Any] = {"title": draw(st.sampled_from(["Thing", "Order line", "É"])), "type": "object",
                              "properties": props, "required": required}  # fmt: skip
    xsql = draw(st.sampled_from([{}, {"primaryKey": "identity"}, {"timestamps": True}]))
    if xsql:
        schema["x-sql"] = xsql
    description = draw(TEXT)
    if description is not None:
        schema["description"] = description
    return schema


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(schema=schemas())
def test_drawn_schemas(schema: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        try:
            db = Database((model(Path(scratch), json.dumps(schema), "thing"),))
        except SchemarelError:  # a drawn combination the schema language refuses: not this test's subject
            reject()
    both(db)
