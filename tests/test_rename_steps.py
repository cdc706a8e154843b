"""Renames that leave the relational model (nearly) as it was still make the revision they need, and it says so.

A schema file renamed (same title, same tables) gives a revision named after it, since the snapshot records
which file owns the tables and the runtime and `--schema` find them by that name; `renamedValues` renames
stored enum values along a chain (`a → b` and `b → c` in one step) exactly, up and down, on SQLite, PostgreSQL
and MariaDB, whether the enum is a type or text with a CHECK (labels MariaDB's ENUM cannot hold), and a swap,
which no revision could tell from one made, is refused with what to do instead. Each
through the `schemarel` command (generate, upgrade, downgrade, export) and the Store reading documents back.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from conftest import run_schemarel
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from pathtools import ok, schemarel
from projects import write_project
from schemarel import Store, naming
from schemarel.errors import pointer
from schemarel.sql.types import native_enum_ok
from test_rename_marks import DOCUMENT, HOSTILE, KINDS, marks

SLOW = settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# file stems: hyphens, spaces, dots, accents; their modules are snake_case of them
STEMS = st.text(alphabet="ab-_ .é", min_size=1, max_size=6).filter(lambda s: s.strip(" .") == s)
# enum values SQL and Python must quote
VALUES = st.lists(
    st.text(alphabet="ab'\" é%", min_size=1, max_size=4).filter(lambda v: v == v.rstrip(" ")),  # MariaDB strips them
    min_size=3,
    max_size=5,
    unique=True,
).filter(native_enum_ok)  # an enum type (`checked_chains` draws enums kept as a CHECK)
# labels MariaDB's enum could not keep as written or hold apart (a trailing space, a backslash, two that
# differ in case or accents only): with them the enum is text with a CHECK; no other drawn label holds a `k`
UNHELD = st.sampled_from([("k ",), ("k\\",), ("K", "k"), ("ǩ", "k")])
LABELS = st.text(alphabet="aAbB \\'é%", min_size=1, max_size=4)


def documents(url: str, out: Path, name: str) -> list[dict[str, Any]]:
    """Every document of schema `name`, by key, as the Store reads it back."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with Store(engine, name, source=out) as store:
            return sorted((dict(doc) for _, doc in store.find({})), key=lambda d: str(d.get("key", d.get("ref"))))
    finally:
        engine.dispose()


def store(url: str, out: Path, name: str, docs: list[dict[str, Any]]) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with Store(engine, name, source=out) as s:
            for doc in docs:
                s.create(doc)
    finally:
        engine.dispose()


def head_message(root: Path) -> str:
    """The message of the newest revision, as `generate` printed it into the history's index."""
    versions = sorted((root / "generated" / "migrations" / "versions").glob("*.py"))
    return versions[-1].read_text(encoding="utf-8").split('"""', 2)[1].splitlines()[0]


THING = {
    "title": "Thing",
    "type": "object",
    "required": ["key"],
    "properties": {"key": {"type": "string"}, "note": {"type": ["string", "null"]}},
}


@SLOW
@given(STEMS, STEMS)
@example("a", "b")
def test_a_renamed_schema_file_gives_a_revision_saying_so(db_url: str, tmp_path: Path, old: str, new: str) -> None:
    assume(naming.module_identifier(old) != naming.module_identifier(new))
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    out = root / "generated"
    write_project(root, {old: THING})
    ok(run_schemarel(root, "generate"))
    ok(schemarel(root, db_url, "upgrade"))
    docs: list[dict[str, Any]] = [{"key": "1", "note": None}, {"key": "2", "note": "x"}]
    store(db_url, out, old, docs)
    try:
        (root / "schemas" / f"{old}.schema.json").rename(root / "schemas" / f"{new}.schema.json")
        made = ok(run_schemarel(root, "generate"))
        assert "new revision 0002" in made.stdout + made.stderr
        assert head_message(root) == f"rename schema {old} to {new}"
        doc = next((out / "docs" / "migrations").glob("0002_*.md")).read_text(encoding="utf-8")
        assert f"Renamed schema: `{old}` → `{new}`." in doc, doc
        again = ok(run_schemarel(root, "generate"))
        assert "up to date" in again.stdout + again.stderr  # once
        ok(run_schemarel(root, "check"))
        ok(schemarel(root, db_url, "upgrade"))
        assert documents(db_url, out, new) == docs  # the runtime finds the tables by the new name
        exported = ok(schemarel(root, db_url, "export", "--schema", new))
        assert sorted((json.loads(line) for line in exported.stdout.splitlines()), key=lambda d: d["key"]) == docs
        ok(schemarel(root, db_url, "downgrade", "0001"))
        ok(schemarel(root, db_url, "upgrade"))
        assert documents(db_url, out, new) == docs
    finally:
        ok(schemarel(root, db_url, "downgrade", "base"))


def enum_schema(values: list[str], renames: dict[str, str] | None = None) -> dict[str, Any]:
    kind: dict[str, Any] = {"type": "string", "enum": values}
    if renames:
        kind["x-sql"] = {"renamedValues": renames}
    return {"title": "Thing", "type": "object", "required": ["ref", "kind"],
            "properties": {"ref": {"type": "string"}, "kind": kind}}  # fmt: skip


@st.composite
def chains(draw: st.DrawFn) -> tuple[list[str], list[str], str]:
    """Enum values, a chain of some of them (at least two) and the new value the chain ends in."""
    values = draw(VALUES)
    chain = draw(st.permutations(values).map(lambda p: p[: max(2, len(p) - 1)]))
    fresh = draw(st.text(alphabet="cd'", min_size=1, max_size=3).filter(lambda v: v not in values))
    return values, list(chain), fresh


@st.composite
def checked_chains(draw: st.DrawFn) -> tuple[list[str], list[str], str]:
    """As `chains`, for an enum kept as a CHECK before and after its renames (labels no enum type holds)."""
    others = draw(st.lists(LABELS, min_size=2, max_size=4, unique=True))
    chain = draw(st.permutations(others).map(lambda p: p[: max(2, len(p) - 1)]))
    fresh = draw(st.text(alphabet="cC '\\", min_size=1, max_size=3).filter(lambda v: v not in others))
    values = [*others, *draw(UNHELD)]  # renamed by no hint: the enum stays a CHECK after the renames too
    return values, list(chain), fresh


@SLOW
@given(st.one_of(chains(), checked_chains()))
@example((["a", "b", "z"], ["a", "b"], "c"))
@example((["a", "b", "k "], ["a", "b"], "c"))
@example((["b", "a", "ǩ", "k"], ["a", "b"], "c'"))
def test_a_chain_of_value_renames_moves_each_row_once(
    three_db_url: str, tmp_path: Path, drawn: tuple[list[str], list[str], str]
) -> None:
    # a chain v0 → v1 → … → vk → w in one step: v0's rows end up as v1, …, vk's as w (a value no row had)
    values, chain, fresh = drawn
    moves = dict(zip(chain, [*chain[1:], fresh], strict=True))  # previous → new
    after = [moves.get(v, v) for v in values]  # each value in its place, renamed
    assert native_enum_ok(values) == native_enum_ok(after)  # an enum type both times, or a CHECK both times
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    out = root / "generated"
    write_project(root, {"thing": enum_schema(values)})
    ok(run_schemarel(root, "generate"))
    ok(schemarel(root, three_db_url, "upgrade"))
    try:
        before = [{"ref": str(i), "kind": v} for i, v in enumerate(values)]
        store(three_db_url, out, "thing", before)
        write_project(root, {"thing": enum_schema(after, {new: prev for prev, new in moves.items()})})
        made = ok(run_schemarel(root, "generate"))
        assert f"rename {'enum' if native_enum_ok(values) else 'stored'} value" in made.stdout + made.stderr
        ok(schemarel(root, three_db_url, "upgrade"))
        renamed = [{"ref": d["ref"], "kind": moves.get(d["kind"], d["kind"])} for d in before]
        assert documents(three_db_url, out, "thing") == renamed
        assert _kinds(three_db_url) == {d["ref"]: d["kind"] for d in renamed}  # as stored, trailing spaces too
        assert "up to date" in ok(run_schemarel(root, "generate")).stdout  # the hint kept renames nothing more
        ok(schemarel(root, three_db_url, "downgrade", "0001"))
        assert _kinds(three_db_url) == {d["ref"]: d["kind"] for d in before}
        ok(schemarel(root, three_db_url, "upgrade"))
        assert documents(three_db_url, out, "thing") == renamed
    finally:
        ok(schemarel(root, three_db_url, "downgrade", "base"))


def _kinds(url: str) -> dict[str, str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            things = sa.table("things", sa.column("ref"), sa.column("kind"))
            return {ref: kind for ref, kind in conn.execute(sa.select(things.c.ref, things.c.kind))}
    finally:
        engine.dispose()


@settings(max_examples=10, deadline=None)
@given(st.one_of(VALUES, checked_chains().map(lambda drawn: drawn[0])), st.data())
def test_a_swap_of_values_is_refused_saying_how(tmp_path_factory: Any, values: list[str], data: st.DataObject) -> None:
    cycle = data.draw(st.permutations(values).map(lambda p: p[: max(2, len(p) - 1)]), "cycle")
    renames = dict(zip(cycle, [*cycle[1:], cycle[0]], strict=True))  # previous → new, back to the start
    root = tmp_path_factory.mktemp("swap")
    write_project(root, {"thing": enum_schema(values)})
    ok(run_schemarel(root, "generate"))
    before = {p: p.read_bytes() for p in (root / "generated").rglob("*") if p.is_file()}
    write_project(root, {"thing": enum_schema(values, {new: prev for prev, new in renames.items()})})
    refused = run_schemarel(root, "generate")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "schemas/thing.schema.json#/properties/kind/x-sql/renamedValues: swaps values" in refused.stderr
    assert "Swap in two steps" in refused.stderr
    assert {p: p.read_bytes() for p in (root / "generated").rglob("*") if p.is_file()} == before


def fixed_names(names: dict[str, str], renamed: bool, nested: bool) -> dict[str, Any]:
    """Version 1 (`names[kind]`) or 2 (`n` + each name, hinted by `renamedFrom`), every column and child table
    named by `x-sql` so that no name changes; inside a required object (flattened into the row) if `nested`."""
    properties: dict[str, Any] = {}
    for i, (kind, name) in enumerate(names.items()):
        node = dict(KINDS[kind])
        node["x-sql"] = {"table": f"fixed_{i}"} if kind == "tags" else {"column": f"c{i}"}
        if renamed:
            node["x-sql"]["renamedFrom"] = name
        properties[f"n{name}" if renamed else name] = node
    if nested:
        properties = {"box": {"type": "object", "properties": properties}}
    required = ["ref", "box"] if nested else ["ref"]
    return {"title": "Event", "type": "object", "required": required,
            "properties": {"ref": {"type": "string"}, **properties}}  # fmt: skip


@SLOW
@given(st.lists(HOSTILE, min_size=4, max_size=4, unique=True), st.booleans())
@example(["a/b", "~0x", 'it\'s "q"', "a:b\\c%"], True)
def test_a_renamed_property_keeping_its_column_moves_its_marks(
    three_db_url: str, tmp_path: Path, suffixes: list[str], nested: bool
) -> None:
    names = {kind: f"p{i}{suffix}" for i, (kind, suffix) in enumerate(zip(KINDS, suffixes, strict=True))}
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    out = root / "generated"
    write_project(root, {"event": fixed_names(names, False, nested)})
    ok(run_schemarel(root, "generate"))
    ok(schemarel(root, three_db_url, "upgrade"))

    def shaped(values: dict[str, Any]) -> dict[str, Any]:
        return {"ref": "k", **({"box": values} if nested else values)}

    try:
        store(three_db_url, out, "event", [shaped({names[k]: v for k, v in DOCUMENT.items()})])
        before = marks(three_db_url)
        write_project(root, {"event": fixed_names(names, True, nested)})
        made = ok(run_schemarel(root, "generate"))
        assert "up to date" in ok(run_schemarel(root, "generate")).stdout  # the hints kept move nothing more
        ok(schemarel(root, three_db_url, "upgrade"))
        renamed = shaped({f"n{names[k]}": v for k, v in DOCUMENT.items()})
        (found,) = documents(three_db_url, out, "event")
        assert found == renamed
        assert str((found["box"] if nested else found)[f"n{names['amount']}"]) == "1.50"  # the digits
        prefix = ("box",) if nested else ()
        assert marks(three_db_url) == {
            column: {pointer(*prefix, f"n{names[k]}")[1:] for k in kinds}
            for column, kinds in (("_present", ("note", "tags")), ("_spelling", ("at", "amount")))
        }
        assert "new revision 0002: rename property" in made.stdout + made.stderr
        ok(schemarel(root, three_db_url, "downgrade", "0001"))
        assert marks(three_db_url) == before
    finally:
        ok(schemarel(root, three_db_url, "downgrade", "base"))
