"""An `enum` of more than 1,000 values (SchemaStore's GitHub issue forms: `render`, 1,772 languages) maps to a
plain column of its type, a string one as long as its longest value, with no enum type or CHECK, and a warning
that only validation keeps documents to its values (it was refused). Drawn enums around the limit store their
documents exactly and refuse other values on SQLite, PostgreSQL and MariaDB, and an enum crossing the limit in a
later revision migrates both ways with its rows kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import run_schemarel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projects import generate, model, write_project
from runtime_helpers import open_store
from schemarel.errors import DocumentInvalid
from schemarel.sql.limits import MAX_ENUM_VALUES

COUNTER = iter(range(10**6))
WARNING = f"an enum of more than {MAX_ENUM_VALUES:,} values gets no enum type or CHECK"


def enum_schema(title: str, values: list[Any]) -> dict[str, Any]:
    return {"title": title, "type": "object", "properties": {"e": {"enum": values}, "n": {"type": "integer"}}}


@st.composite
def enums(draw: st.DrawFn) -> list[Any]:
    """An enum of a size near the limit (or the issue forms' 1,772): strings of a drawn width, one longer, or
    integers."""
    size = draw(st.one_of(st.integers(MAX_ENUM_VALUES - 2, MAX_ENUM_VALUES + 3), st.just(1772)))
    if draw(st.booleans()):
        return [i * 7 - 3000 for i in range(size)]
    width = draw(st.integers(1, 12))
    longest = draw(st.text("abcé-+#", min_size=width + 1, max_size=width + 20))
    return [f"{i:0>{width}}" for i in range(size - 1)] + [longest]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=enums())
def test_enums_around_the_limit_map_and_round_trip(tmp_path: Path, three_db_url: str, values: list[Any]) -> None:
    title = f"E{next(COUNTER)}"  # a table per example: the examples share one database
    schema = enum_schema(title, values)
    root = tmp_path / title
    found = model(root, schema)
    column = next(c for t in found.tables for c in t.columns if c.name == "e")
    warned = [w for w in found.warnings if w.message.startswith(WARNING)]
    strings = isinstance(values[0], str)
    if len(values) > MAX_ENUM_VALUES:
        assert [w.pointer for w in warned] == ["#/properties/e/enum"]
        expected = ("varchar", max(len(v) for v in values)) if strings else ("bigint", None)
        assert (column.type.kind, column.type.length) == expected
        assert not [c for t in found.tables for c in t.checks if c.column == "e"], "no CHECK lists the values"
    else:
        assert warned == []
        assert column.type.kind == ("enum" if strings else "bigint")
    name = title.lower()
    write_project(root, {name: schema})
    result = generate(root)
    assert result.exit_code == 0, result.output
    assert (WARNING in result.output) == (len(values) > MAX_ENUM_VALUES)
    store = open_store(three_db_url, name, root / "schemas")
    try:
        for value in (values[0], values[-1], values[len(values) // 2]):
            document = {"e": value, "n": 1}
            assert store.get(store.create(document)) == document
        with pytest.raises(DocumentInvalid):  # a value the enum lacks: validation refuses it
            store.create({"e": "x" * 40 if strings else 10**9})
    finally:
        store.close()


LIMIT_VALUES = [f"v{i}" for i in range(MAX_ENUM_VALUES)]  # an enum type still
LONGER = "a value longer than the others, past the limit"
KEPT = [{"e": "v0", "n": 1}, {"e": "v1", "n": 2}, {"e": "v500", "n": 3}]


def _stored(url: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT n, e FROM es ORDER BY n")).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def _step(root: Path, values: list[Any], *flags: str) -> None:
    write_project(root, {"e": enum_schema("E", values)})
    written = run_schemarel(root, "generate", *flags)
    assert written.returncode == 0, written.stderr


def _load(root: Path, url: str, documents: list[dict[str, Any]]) -> None:
    (root / "docs.ndjson").write_text("".join(json.dumps(d) + "\n" for d in documents), encoding="utf-8")
    loaded = run_schemarel(root, "load", "docs.ndjson", "--schema", "e", "--db", url)
    assert loaded.returncode == 0, loaded.stderr


def test_an_enum_crossing_the_limit_migrates_both_ways(tmp_path: Path, three_db_url: str) -> None:
    root = tmp_path / "project"
    url = three_db_url
    _step(root, LIMIT_VALUES)  # 0001: an enum type (a CHECK on SQLite)
    assert run_schemarel(root, "upgrade", "--db", url).returncode == 0
    _load(root, url, KEPT)
    _step(root, [*LIMIT_VALUES, LONGER])  # 0002: past the limit, a plain column: no value is lost, not destructive
    assert run_schemarel(root, "upgrade", "--db", url).returncode == 0
    _load(root, url, [{"e": LONGER, "n": 4}])
    rows = [(1, "v0"), (2, "v1"), (3, "v500"), (4, LONGER)]
    assert _stored(url) == rows
    # 0003: under the limit again (v999 is gone), an enum type holding every stored value
    write_project(root, {"e": enum_schema("E", [*LIMIT_VALUES[:-1], LONGER])})
    assert run_schemarel(root, "generate").returncode == 2, "removing an enum value is destructive"
    _step(root, [*LIMIT_VALUES[:-1], LONGER], "--allow-destructive")
    assert run_schemarel(root, "upgrade", "--db", url).returncode == 0
    assert _stored(url) == rows
    exported = run_schemarel(root, "export", "--schema", "e", "--db", url)
    assert exported.returncode == 0, exported.stderr
    assert sorted((json.loads(line) for line in exported.stdout.splitlines()), key=lambda d: d["n"]) == [
        {"e": e, "n": n} for n, e in rows
    ]
    down = run_schemarel(root, "downgrade", "0002", "--db", url)  # the enum type back to a plain column
    assert down.returncode == 0, down.stderr
    assert _stored(url) == rows
    refused_down = run_schemarel(root, "downgrade", "0001", "--db", url)  # 0001's enum lacks LONGER
    assert refused_down.returncode != 0
    assert "Traceback" not in refused_down.stderr
    assert _stored(url) == rows
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM es WHERE n = 4"))
    engine.dispose()
    down = run_schemarel(root, "downgrade", "0001", "--db", url)
    assert down.returncode == 0, down.stderr
    assert _stored(url) == rows[:3]
