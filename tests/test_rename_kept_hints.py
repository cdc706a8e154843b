"""A `renamedValues` hint kept in the schema after its revision never acts again once its old value is back.

`b ← a` renamed the `a` rows to `b`; a later version adds `a` back as a new value, and a later one still
renames `b`'s rows to `c` with the old hint kept: the new `a` rows stay `a`, as the revision's hints are judged
against the values the enum holds after it too. For an enum type and for text with a CHECK, through
`schemarel generate`, `upgrade` and `downgrade` on SQLite, PostgreSQL and MariaDB, read back by the Store.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import sqlalchemy as sa
from conftest import run_schemarel
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pathtools import ok, schemarel
from projects import write_project
from schemarel.sql.types import native_enum_ok
from test_rename_steps import LABELS, UNHELD, VALUES, _kinds, documents, enum_schema, store

SLOW = settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


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
