"""Properties stored as JSON past the room of a row (InnoDB's row size, every dialect's column count) are kept
in the row's `_extra` JSON column, with a warning, instead of refusing the schema: the tables create on SQLite
and MariaDB and documents come back exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from robust_helpers import project, schemarel
from runtime_helpers import open_store, same_json
from schemarel.sql import limits

UNTYPED = {"type": "array"}  # its items have no type: one JSON column each


def wide(count: int, closed: bool) -> dict[str, Any]:
    props = {f"p{i}": UNTYPED for i in range(count)} | {"name": {"type": "string"}}
    return {"title": "Wide", "type": "object", "additionalProperties": not closed, "required": ["name"],
            "properties": props}  # fmt: skip


def document(count: int, seed: int) -> dict[str, Any]:
    values: list[Any] = [[1, "a"], [], [None], [{"k": [seed]}], ["é", 1.5]]
    return {"name": f"n{seed}"} | {f"p{i}": values[(i + seed) % len(values)] for i in range(0, count, 1 + seed % 3)}


@pytest.mark.parametrize("dialect", ["sqlite", "mariadb"])
@pytest.mark.parametrize(("count", "closed"), [(300, True), (420, False), (limits.MAX_COLUMNS + 200, True)])
def test_json_properties_past_the_row_go_to_extra(
    tmp_path: Path, request: pytest.FixtureRequest, dialect: str, count: int, closed: bool
) -> None:
    url = request.getfixturevalue("sqlite_url" if dialect == "sqlite" else "mysql_url")
    root = project(tmp_path, wide(count, closed))
    run = schemarel(root, "generate", "--verbose")
    assert run.returncode == 0, run.stderr
    kept = [line for line in run.stderr.splitlines() if "kept in JSON column wides._extra" in line]
    columns = limits.row_bytes(())
    assert (len(kept) > 0) == (count * (limits.OFF_PAGE_BYTES + 1) + columns > (limits.MARIADB.row_bytes or 0))
    store = open_store(url, "doc", root / "schemas")
    table = store.metadata.tables["wides"]
    assert limits.row_bytes(tuple(store.database.schemas[0].root.columns)) <= (limits.MARIADB.row_bytes or 0)
    assert len(table.c) <= limits.MAX_COLUMNS
    documents = [document(count, seed) for seed in range(4)]
    ids = [store.create(d) for d in documents]
    for key, expected in zip(ids, documents, strict=True):
        assert same_json(store.get(key), expected), json.dumps(expected)[:200]
