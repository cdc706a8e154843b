"""A `renamedFrom` rename keeps what a row holds under the property's JSON pointer, not only its column.

A row keeps some values beside its columns, keyed by the property's relative JSON pointer: a `null` that a
NULL column cannot tell from absent, an empty optional array (`_present`), a date-time offset or a number's
digits its column would respell (`_spelling`). The revision that renames the property (a column, or a child
table whose presence the parent row marks) moves those keys with it, and its downgrade moves them back: the
documents read back as written after the rename and the keys are back below it, on SQLite, PostgreSQL and
MariaDB, online and by the `--sql` script, for property names holding what a pointer escapes (`/`, `~`) and
what SQL or a JSON path quotes.
"""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dbtools import migrate
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pathtools import ok, schemarel
from projects import generate, write_project
from schemarel import Store
from schemarel.errors import pointer
from test_offline_sql import apply

# characters a JSON pointer escapes, SQL and JSON paths quote, SQLAlchemy's text() takes for a parameter
HOSTILE = st.text(alphabet="ab/~'\":\\.$[]% é🚀", max_size=6)
KINDS: dict[str, dict[str, Any]] = {
    "at": {"type": "string", "format": "date-time"},  # spelled: the offset
    "amount": {"type": "number"},  # spelled: the digits
    "note": {"type": ["string", "null"]},  # marked: null apart from absent
    "tags": {"type": "array", "items": {"type": "string"}},  # marked: [] apart from absent (a child table)
}
DOCUMENT = {"at": "2024-05-01T10:00:00+02:00", "amount": Decimal("1.50"), "note": None, "tags": []}
SPELLED = {"at", "amount"}  # kept in `_spelling`; the others in `_present`


def schema(names: dict[str, str], renamed: bool) -> dict[str, Any]:
    """Version 1 (`names[kind]` = the property names) or 2 (`n` + each name, hinted by `renamedFrom`)."""
    properties: dict[str, Any] = {"key": {"type": "string"}}
    for kind, name in names.items():
        node = dict(KINDS[kind])
        if renamed:
            node["x-sql"] = {"renamedFrom": name}
        properties[f"n{name}" if renamed else name] = node
    return {"title": "Event", "type": "object", "required": ["key"], "properties": properties}


def read(url: str, out: Path) -> dict[str, Any]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with Store(engine, "event", source=out) as store:
            ((_, found),) = list(store.find({}))
            return dict(found)
    finally:
        engine.dispose()


def marks(url: str) -> dict[str, set[str]]:
    """The pointers each bookkeeping column of the one row holds."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT _present, _spelling FROM events")).one()
    finally:
        engine.dispose()
    return {
        column: set(value if isinstance(value, dict) else json.loads(value))
        for column, value in zip(KEPT, row, strict=True)
    }


KEPT = ("_present", "_spelling")


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(HOSTILE, min_size=4, max_size=4, unique=True))
@example(["", "x", "y", "z"])
@example(["a/b", "~0x", 'it\'s "q"', "a:b\\c%"])
def test_a_rename_keeps_marks_and_spellings(three_db_url: str, tmp_path: Path, suffixes: list[str]) -> None:
    names = {kind: f"p{i}{suffix}" for i, (kind, suffix) in enumerate(zip(KINDS, suffixes, strict=True))}
    root = Path(tempfile.mkdtemp(dir=tmp_path))  # one project per example
    out = root / "generated"
    write_project(root, {"event": schema(names, False)})
    assert generate(root).exit_code == 0
    migrate(out, three_db_url, "upgrade", "head")
    engine = sa.create_engine(three_db_url, poolclass=sa.pool.NullPool)
    try:
        with Store(engine, "event", source=out) as store:
            store.create({"key": "k", **{names[k]: v for k, v in DOCUMENT.items()}})
    finally:
        engine.dispose()
    before = marks(three_db_url)
    write_project(root, {"event": schema(names, True)})
    result = generate(root)
    assert result.exit_code == 0, result.output
    try:
        migrate(out, three_db_url, "upgrade", "head")
        found = read(three_db_url, out)
        assert found == {"key": "k", **{f"n{names[k]}": v for k, v in DOCUMENT.items()}}
        assert str(found[f"n{names['amount']}"]) == "1.50"  # the digits, which == on Decimals would not tell
        after = {c: {pointer(*path)[1:] for path in paths} for c, paths in expected(names, True).items()}
        assert marks(three_db_url) == after
        migrate(out, three_db_url, "downgrade", "0001")
        assert (
            marks(three_db_url)
            == before
            == {c: {pointer(*path)[1:] for path in paths} for c, paths in expected(names, False).items()}
        )
        # the same statements in a `--sql` script, as a DBA applies it (MariaDB's script asks for its dialect)
        offline = three_db_url.replace("mysql+pymysql:", "mariadb+pymysql:")
        apply(three_db_url, ok(schemarel(root, offline, "upgrade", "0001:0002", "--sql")).stdout)
        assert marks(three_db_url) == after
        assert read(three_db_url, out) == found
        apply(three_db_url, ok(schemarel(root, offline, "downgrade", "0002:0001", "--sql")).stdout)
        assert marks(three_db_url) == before
    finally:
        migrate(out, three_db_url, "downgrade", "base")


def expected(names: dict[str, str], renamed: bool) -> dict[str, set[tuple[str]]]:
    """The pointers each bookkeeping column holds: the property names of one version."""
    named = {k: (f"n{n}" if renamed else n,) for k, n in names.items()}
    return {
        "_present": {path for k, path in named.items() if k not in SPELLED},
        "_spelling": {path for k, path in named.items() if k in SPELLED},
    }
