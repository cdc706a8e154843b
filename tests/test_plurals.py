"""Counts in messages take the number their noun needs: `1 order document`, `0 rows`, `2 invalid lines`; no
message writes `row(s)`."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from runtime_helpers import GENERATED, customer, migrated_store
from schemarel.cli.main import main
from schemarel.naming import counted

PACKAGE = Path(__file__).resolve().parent.parent / "generator" / "schemarel"
PLACEHOLDER = re.compile(r"[a-z]\((s|es)\)")


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [
        (0, "row", "0 rows"),
        (1, "row", "1 row"),
        (2, "row", "2 rows"),
        (1, "order document", "1 order document"),
        (2, "invalid line", "2 invalid lines"),
        (0, "address", "0 addresses"),
        (1, "address", "1 address"),
        (1500, "entry", "1,500 entries"),
    ],
)
def test_counted_takes_the_number_of_its_count(count: int, noun: str, expected: str) -> None:
    assert counted(count, noun) == expected


def test_no_message_of_the_package_writes_a_plural_placeholder() -> None:
    found = []
    for module in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and PLACEHOLDER.search(node.value):
                found.append(f"{module.relative_to(PACKAGE)}:{node.lineno}: {node.value!r}")
    assert found == []


@pytest.mark.parametrize("documents", [0, 1, 2])
def test_load_counts_documents_and_rejected_lines(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, documents: int
) -> None:
    migrated_store(sqlite_url, "customer")  # the data commands need a database at the generated head
    bad = ["{}"] * documents  # a customer without its required properties: rejected lines
    lines = [json.dumps(customer(i)) for i in range(documents)] + bad
    source = tmp_path / "in.ndjson"
    source.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    args = ["load", "--schema", "customer", "--out", str(GENERATED), "--db", sqlite_url, str(source)]

    result = CliRunner().invoke(main, args, catch_exceptions=False)

    noun = "document" if documents == 1 else "documents"
    assert f"loaded {documents} customer {noun} in " in result.stdout, result.output
    if documents:
        assert f"rejected {documents} {'line' if documents == 1 else 'lines'}, listed in" in result.stderr
    else:
        assert "rejected" not in result.stderr
