"""`renamedValues` renames the stored values of a string enum kept as text with a CHECK as it does for an enum
type, and a hint kept in the schema never acts again once its old value is back in the enum.

An enum gets a CHECK instead of a type when MariaDB could not hold its labels (two that differ only in case
or accents, a trailing space, a backslash: `sql.types.native_enum_ok`). Its rows are renamed along a chain in
one UPDATE, between the old CHECK's drop and the new one's creation, and back on the way down; a swap is
refused as for an enum type. A hint `b ← a` kept after its revision, with `a` added back later as a new value,
leaves the new `a` rows alone when a later chain renames `b` away. Through `schemarel generate`, `upgrade` and
`downgrade` on SQLite, PostgreSQL and MariaDB, the documents read back by the Store.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from conftest import run_schemarel
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pathtools import ok, schemarel
from projects import write_project
from schemarel.sql.types import native_enum_ok
from test_rename_steps import VALUES, _kinds, documents, enum_schema, store

SLOW = settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# labels MariaDB's enum could not keep as written or hold apart (a trailing space, a backslash, two that
# differ in case or accents only): with them the enum is a CHECK; no other drawn label holds a `k`
UNHELD = st.sampled_from([("k ",), ("k\\",), ("K", "k"), ("ǩ", "k")])
LABELS = st.text(alphabet="aAbB \\'é%", min_size=1, max_size=4)


@st.composite
def checked_chains(draw: st.DrawFn) -> tuple[list[str], list[str], str]:
    """Values of an enum kept as a CHECK before and after its renames, a chain of some of them (at least two)
    and the new value it ends in."""
    others = draw(st.lists(LABELS, min_size=2, max_size=4, unique=True))
    chain = draw(st.permutations(others).map(lambda p: p[: max(2, len(p) - 1)]))
    fresh = draw(st.text(alphabet="cC '\\", min_size=1, max_size=3).filter(lambda v: v not in others))
    values = [*others, *draw(UNHELD)]  # renamed by no hint: the enum stays a CHECK after the renames too
    return values, list(chain), fresh


@SLOW
@given(checked_chains())
@example((["a", "b", "k "], ["a", "b"], "c"))
@example((["b", "a", "ǩ", "k"], ["a", "b"], "c'"))
def test_a_chain_of_value_renames_moves_each_row_once_under_a_check(
    three_db_url: str, tmp_path: Path, drawn: tuple[list[str], list[str], str]
) -> None:
    values, chain, fresh = drawn
    moves = dict(zip(chain, [*chain[1:], fresh], strict=True))  # previous → new
    after = [moves.get(v, v) for v in values]
    assert not native_enum_ok(values) and not native_enum_ok(after)  # a CHECK, not an enum type, both times
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
        assert "rename stored value" in made.stdout + made.stderr
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


@settings(max_examples=10, deadline=None)
@given(checked_chains())
def test_a_swap_of_checked_values_is_refused_saying_how(
    tmp_path_factory: Any, drawn: tuple[list[str], list[str], str]
) -> None:
    values, cycle, _ = drawn
    renames = dict(zip(cycle, [*cycle[1:], cycle[0]], strict=True))  # previous → new, back to the start
    root = tmp_path_factory.mktemp("swap")
    write_project(root, {"thing": enum_schema(values)})
    ok(run_schemarel(root, "generate"))
    before = {p: p.read_bytes() for p in (root / "generated").rglob("*") if p.is_file()}
    write_project(root, {"thing": enum_schema(values, {new: prev for prev, new in renames.items()})})
    refused = run_schemarel(root, "generate")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "schemas/thing.schema.json#/properties/kind/x-sql/renamedValues: swaps values" in refused.stderr
    assert {p: p.read_bytes() for p in (root / "generated").rglob("*") if p.is_file()} == before


@st.composite
def revived(draw: st.DrawFn) -> tuple[list[str], str, str, str]:
    """Other values of an enum (an enum type's, or a CHECK's when `checked`), a value `a`, the value `b` it is
    renamed to, and the value `c` a later chain renames `b` to."""
    checked = draw(st.booleans())
    others = draw(VALUES if not checked else st.lists(LABELS, min_size=1, max_size=3, unique=True))
    a, b, c = draw(
        st.lists(st.text(alphabet="xyz'\" é", min_size=1, max_size=3), min_size=3, max_size=3, unique=True)
        .filter(lambda abc: all(v not in others and not v.endswith(" ") for v in abc))
    )  # fmt: skip
    if checked:  # a CHECK in every version (a change of type is another matter)
        others = [*others, *draw(UNHELD)]
    return others, a, b, c


@SLOW
@given(revived())
@example((["o", "k "], "a", "b", "c"))
@example((["o", "p"], "a", "b", "c"))
def test_a_kept_hint_leaves_its_old_value_added_back_alone(
    three_db_url: str, tmp_path: Path, drawn: tuple[list[str], str, str, str]
) -> None:
    # 1: a; 2: a renamed to b (the hint stays); 3: a added back; 4: b's rows renamed to c, the old hint kept
    others, a, b, c = drawn
    versions = ([a, *others], [b, *others], [a, b, *others], [a, b, c, *others])
    assert len({native_enum_ok(v) for v in versions}) == 1
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    out = root / "generated"
    write_project(root, {"thing": enum_schema([a, *others])})
    ok(run_schemarel(root, "generate"))
    ok(schemarel(root, three_db_url, "upgrade"))
    try:
        store(three_db_url, out, "thing", [{"ref": "1", "kind": a}])
        for version in ([b, *others], [a, b, *others]):
            write_project(root, {"thing": enum_schema(version, {b: a})})
            ok(run_schemarel(root, "generate"))
            ok(schemarel(root, three_db_url, "upgrade"))
        store(three_db_url, out, "thing", [{"ref": "2", "kind": a}])  # a new `a`, not the one renamed to b
        assert _kinds(three_db_url) == {"1": b, "2": a}
        # `b` stays a value (the kept hint names it), its rows go to `c`; the kept hint must not act again
        write_project(root, {"thing": enum_schema([a, b, c, *others], {b: a, c: b})})
        ok(run_schemarel(root, "generate"))
        ok(schemarel(root, three_db_url, "upgrade"))
        assert _kinds(three_db_url) == {"1": c, "2": a}
        assert documents(three_db_url, out, "thing") == [{"ref": "1", "kind": c}, {"ref": "2", "kind": a}]
        ok(schemarel(root, three_db_url, "downgrade", "0003"))
        assert _kinds(three_db_url) == {"1": b, "2": a}
    finally:
        clear(three_db_url)  # else reverting 0003 refuses: a row holds `a`, which 0002's enum has not
        ok(schemarel(root, three_db_url, "downgrade", "base"))


def clear(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM things"))
    finally:
        engine.dispose()
