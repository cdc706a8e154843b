"""Renaming a flattened object (`renamedFrom` on an object stored as columns of its parent's row) keeps what the
row holds under every pointer below it, not only the columns.

The leaf columns keep their names, but the row's marks (`_present`: a `null`, an empty array, the optional object
itself), spellings (`_spelling`: a date-time's offset, a number's digits) and extras (`_extra`: properties the
schema does not name) are keyed by relative JSON pointer: the revision moves every one of them from under the
object's old name to under its new one, through nested flattened objects and the child tables below it, and
its downgrade moves them back; a hint kept after its revision moves nothing again. On SQLite, PostgreSQL and
MariaDB, for names holding what a pointer escapes.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from conftest import run_schemarel
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pathtools import ok, schemarel
from projects import write_project
from schemarel.errors import pointer
from test_rename_marks import DOCUMENT, HOSTILE, KINDS
from test_rename_steps import documents, store

SLOW = settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SYSTEM = ("_present", "_spelling", "_extra")


def ptr(*path: str) -> str:
    """The relative JSON pointer the system columns key a value by."""
    return pointer(*path)[1:]


def event(names: list[str], depth: int, arrays: bool = True) -> dict[str, Any]:
    """A root whose `names[0]` object (flattened, optional) holds the four kinds of `KINDS` (`tags`, a child
    table, if `arrays`) and, `depth` deep, objects `names[1]`, … (flattened, optional) holding them too; a
    `renamedFrom` on each name given as `new<-old`."""

    def level(i: int) -> dict[str, Any]:
        kinds = {k: v for k, v in KINDS.items() if arrays or k != "tags"}
        properties: dict[str, Any] = {f"{kind}{i}": node for kind, node in kinds.items()}  # one column each
        if i + 1 < depth:
            new, _, old = names[i + 1].partition("<-")
            properties[new] = level(i + 1) | ({"x-sql": {"storage": "flatten", "renamedFrom": old}} if old else {})
        return {"type": "object", "x-sql": {"storage": "flatten"}, "properties": properties}

    new, _, old = names[0].partition("<-")
    top = level(0)
    if old:
        top["x-sql"] = {"storage": "flatten", "renamedFrom": old}
    return {"title": "Event", "type": "object", "required": ["ref"],
            "properties": {"ref": {"type": "string"}, new: top}}  # fmt: skip


def document(names: list[str], arrays: bool = True) -> dict[str, Any]:
    """Every level holding the values a row keeps beside its columns, and a property the schema does not name."""
    inner: dict[str, Any] = {}
    values = {k: v for k, v in DOCUMENT.items() if arrays or k != "tags"}
    for i, name in reversed(list(enumerate(names))):
        inner = {name: {**{f"{k}{i}": v for k, v in values.items()}, "unnamed": {"x": [1, None]}, **inner}}
    return {"ref": "k", **inner}


def kept(url: str) -> dict[str, set[str]]:
    """The pointers each system column of the one row keys (extras' keys included)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text(f"SELECT {', '.join(SYSTEM)} FROM events")).one()
    finally:
        engine.dispose()
    return {c: set(v if isinstance(v, dict) else json.loads(v or "{}")) for c, v in zip(SYSTEM, row, strict=True)}


def renamed_keys(keys: dict[str, set[str]], old: list[str], new: list[str]) -> dict[str, set[str]]:
    """`keys` with each pointer under the old names put under the new ones."""

    def moved(key: str) -> str:
        for depth in range(len(old), 0, -1):
            below = ptr(*old[:depth])
            if key == below or key.startswith(f"{below}/"):
                return ptr(*new[:depth]) + key[len(below) :]
        return key

    return {column: {moved(k) for k in found} for column, found in keys.items()}


@SLOW
@given(
    st.lists(HOSTILE, min_size=2, max_size=4, unique=True).map(lambda s: [f"o{x}" for x in s]),
    st.integers(min_value=1, max_value=2),
    st.booleans(),
    st.booleans(),
)
@example(["obox", "ocrate"], 1, True, False)
@example(["oa/b", "o~0x", 'oit\'s "q"', "oa:b\\c%"], 2, False, True)
def test_a_renamed_flattened_object_moves_what_its_rows_keep_below_it(
    three_db_url: str, tmp_path: Path, names: list[str], depth: int, inner_renamed: bool, arrays: bool
) -> None:
    # with `arrays`, a child table below each object too: its name follows the object's (a table rename)
    old = names[:depth]
    renamed = [True] + [inner_renamed] * (depth - 1)  # the outer object always; an inner one may keep its name
    new = [f"n{n}" if r else n for n, r in zip(old, renamed, strict=True)]
    hints = [f"{n}<-{o}" if n != o else n for n, o in zip(new, old, strict=True)]
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    out = root / "generated"
    write_project(root, {"event": event(old, depth, arrays)})
    ok(run_schemarel(root, "generate"))
    ok(schemarel(root, three_db_url, "upgrade"))
    try:
        written = document(old, arrays)
        store(three_db_url, out, "event", [written])
        before = kept(three_db_url)
        assert ptr(old[0]) in before["_present"]  # the optional object's own mark, moved with it
        assert ptr(*old) in before["_extra"]  # its extras, keyed by its pointer
        write_project(root, {"event": event(hints, depth, arrays)})
        made = ok(run_schemarel(root, "generate"))
        assert "new revision 0002" in made.stdout + made.stderr
        assert "up to date" in ok(run_schemarel(root, "generate")).stdout  # the hints kept move nothing more
        ok(schemarel(root, three_db_url, "upgrade"))
        (found,) = documents(three_db_url, out, "event")
        assert found == document(new, arrays)
        at = found
        for i, name in enumerate(new):
            at = at[name]
            assert str(at[f"amount{i}"]) == "1.50"  # the digits, which == on Decimals would not tell
        assert kept(three_db_url) == renamed_keys(before, old, new)
        # the innermost object renamed again, every earlier hint kept: only what is below it moves
        again = [*new[:-1], f"m{new[-1]}"]
        write_project(root, {"event": event([*hints[:-1], f"{again[-1]}<-{new[-1]}"], depth, arrays)})
        made = ok(run_schemarel(root, "generate"))
        assert f"new revision 0003: rename property {ptr(*new)} to {ptr(*again)}" in made.stdout + made.stderr
        ok(schemarel(root, three_db_url, "upgrade"))
        assert documents(three_db_url, out, "event") == [document(again, arrays)]
        assert kept(three_db_url) == renamed_keys(before, old, again)
        ok(schemarel(root, three_db_url, "downgrade", "0001"))
        assert kept(three_db_url) == before
    finally:
        ok(schemarel(root, three_db_url, "downgrade", "base"))
