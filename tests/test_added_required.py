"""A revision written with --allow-destructive that adds a required property without a default to a table
holding rows is refused by its upgrade before anything changes, naming the column and the rows, on every
dialect: MariaDB/MySQL would otherwise fill `''`, 0 or false into the stored documents in silence (seen with
IPTC's ninjs 1.4 → 2.0, whose renditions gained a required `name`), PostgreSQL and SQLite fail halfway."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import run_schemarel
from projects import write_project

BEFORE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Item",
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "renditions": {"type": "array", "items": {"type": "object", "properties": {"href": {"type": "string"}}}},
    },
}
DOCS: list[dict[str, Any]] = [
    {"title": "a", "renditions": [{"href": "x"}, {"href": "y"}]},
    {"title": "b", "renditions": [{"href": "z"}]},
]


def _export(root: Path, url: str) -> list[Any]:
    exported = run_schemarel(root, "export", "--schema", "item", "--db", url)
    assert exported.returncode == 0, exported.stderr
    return sorted((json.loads(line) for line in exported.stdout.splitlines()), key=lambda d: d["title"])


@pytest.mark.parametrize(
    ("where", "kind", "table", "rows"),
    [("root", "string", "items", "2 rows"), ("items", "integer", "item_renditions", "3 rows"),
     ("items", "boolean", "item_renditions", "3 rows")],
)  # fmt: skip
def test_a_required_column_without_default_is_refused_where_rows_would_lack_it(
    tmp_path: Path, three_db_url: str, where: str, kind: str, table: str, rows: str
) -> None:
    root = write_project(tmp_path / "project", {"item": BEFORE})
    assert run_schemarel(root, "generate").returncode == 0
    assert run_schemarel(root, "upgrade", "--db", three_db_url).returncode == 0
    (root / "docs.ndjson").write_text("".join(json.dumps(d) + "\n" for d in DOCS), encoding="utf-8")
    assert run_schemarel(root, "load", "docs.ndjson", "--schema", "item", "--db", three_db_url).returncode == 0

    after = json.loads(json.dumps(BEFORE))
    target = after if where == "root" else after["properties"]["renditions"]["items"]
    target["properties"]["code"] = {"type": kind}
    target["required"] = ["code"]
    write_project(root, {"item": after})
    written = run_schemarel(root, "generate", "--allow-destructive")
    assert written.returncode == 0, written.stderr
    upgraded = run_schemarel(root, "upgrade", "--db", three_db_url)
    assert upgraded.returncode == 1, upgraded.stderr
    assert "Traceback" not in upgraded.stderr
    assert f"`{table}.code` is added NOT NULL without a default, and its table holds {rows}" in upgraded.stderr
    # nothing changed: the documents read back as they were (with the older models: the database is at 0001)
    assert _export_at_first(root, three_db_url) == sorted(DOCS, key=lambda d: d["title"])


def _export_at_first(root: Path, url: str) -> list[Any]:
    """The stored documents read with the first revision's models (a copy of the project at 0001)."""
    first = root.parent / "first"
    shutil.rmtree(first, ignore_errors=True)
    write_project(first, {"item": BEFORE})
    assert run_schemarel(first, "generate").returncode == 0
    return _export(first, url)
