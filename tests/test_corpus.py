"""Real-world schemas (../shared/corpus, see its PROVENANCE.md): each generates output that migrates up and
down with nothing left to compare, or fails with exit 2 and a located message; never a traceback or a hang."""

from __future__ import annotations

import json
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import SHARED
from dbtools import assert_migrates

from generator.cli import main

CORPUS = sorted((SHARED / "corpus").glob("*.schema.json"))
# Schemas that must fail, and the pointer their message names. package.json defines both `minTokens` and
# `min-tokens` on one object: one column name for two properties, which only an x-sql name can settle.
EXPECTED_ERRORS = {"package-json": "#/definitions/jscpd/properties/min-tokens"}
GENERATE_SECONDS = 60

pytestmark = pytest.mark.skipif(not CORPUS, reason=f"no corpus at {SHARED / 'corpus'}")


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging (SIGALRM: pytest runs tests in the main thread)."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def generate(root: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(root)
    with deadline(GENERATE_SECONDS):
        return CliRunner().invoke(main, ["generate"], catch_exceptions=False)  # a traceback fails the test


def corpus_project(tmp_path: Path, schema: Path) -> Path:
    root = tmp_path / "project"
    (root / "schemas").mkdir(parents=True)
    shutil.copy(schema, root / "schemas" / schema.name)
    return root


@pytest.mark.parametrize("schema", CORPUS, ids=lambda p: p.name.removesuffix(".schema.json"))
def test_corpus_schema_generates_and_migrates(
    schema: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str, postgres_url: str
) -> None:
    name = schema.name.removesuffix(".schema.json")
    root = corpus_project(tmp_path, schema)
    result = generate(root, monkeypatch)
    if name in EXPECTED_ERRORS:
        assert result.exit_code == 2
        assert result.stderr.startswith(f"error: schemas/{schema.name}{EXPECTED_ERRORS[name]}: "), result.stderr
        assert not (root / "generated").exists(), "a failed generate writes nothing"
        return
    assert result.exit_code == 0, result.stderr
    for warning in (line for line in result.stderr.splitlines() if line.startswith("warning: ")):
        assert warning.startswith(f"warning: schemas/{schema.name}#"), warning  # every warning is located
    assert_migrates(root / "generated", sqlite_url, postgres_url)


def test_corpus_examples_validate_as_provenance_says() -> None:
    """The example documents the round trip uses are the ones PROVENANCE.md lists (guards the glob)."""
    examples = sorted(p.name for p in (SHARED / "corpus").glob("*.example*.json"))
    assert len(examples) == 11
    for path in examples:
        json.loads((SHARED / "corpus" / path).read_text(encoding="utf-8"))
