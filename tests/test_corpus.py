"""Real-world schemas (../shared/corpus, see its PROVENANCE.md): each generates output that migrates up and
down with nothing left to compare, or fails with exit 2 and a located message; never a traceback or a hang.
Every valid example document is accepted on SQLite, PostgreSQL and MariaDB and read back exactly; an invalid one
is refused. The run ends with the corpus table (tables, columns, share of example text stored as JSON, round
trips: `corpus_measure.table`, also printed by benchmarks/corpus.py)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import CI, SHARED, deadline, require_shared
from corpus_measure import Figures, examples_of, measure, table
from dbtools import load_models, migrate, schema_diff, table_names
from schemarel.cli.main import main

CORPUS = sorted((SHARED / "corpus").glob("*.schema.json"))
# Schemas that must fail, and the pointer their message names. package.json's ESLint rules are one object of
# 876 properties: a row MariaDB/MySQL's InnoDB cannot hold (its `minTokens` and `min-tokens` on one object no
# longer stop it: the later one gets `min_tokens_2`, with a warning).
# schemas refused, with the pointer the error names (package-json generates since JSON columns past a row's
# room go to `_extra`)
EXPECTED_ERRORS: dict[str, str] = {}
# Examples that are not valid documents (PROVENANCE.md: OCDS's examples lack `initiationType`): refused.
INVALID_EXAMPLES = {"ocds-release": 1}
WITH_EXAMPLES = [s for s in CORPUS if examples_of(s) and s.name.removesuffix(".schema.json") not in EXPECTED_ERRORS]
DIALECTS = ["sqlite", "postgresql", "mysql"]
GENERATE_SECONDS = 60

# Without ../shared (a fresh clone) the corpus tests skip saying so; with CI set they must run, and the test
# below fails instead.
NO_CORPUS = f"needs {SHARED / 'corpus'} (../shared is not beside this clone)"
pytestmark = pytest.mark.skipif(not CORPUS and not CI, reason=NO_CORPUS)


def test_corpus_is_there() -> None:
    assert list(require_shared(SHARED / "corpus").glob("*.schema.json"))


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
    # every warning is located: its pointer, or (a reason met several times) its count and first pointers
    grouped = re.compile(rf"warning: schemas/{re.escape(schema.name)}: .* \(\d+ times: #")
    for warning in (line for line in result.stderr.splitlines() if line.startswith("warning: ")):
        assert warning.startswith(f"warning: schemas/{schema.name}#") or grouped.match(warning), warning
    models = load_models(root / "generated")
    for url in (sqlite_url, postgres_url):
        migrate(root / "generated", url, "upgrade", "head")
        assert schema_diff(url, root / "generated", models) == [], url
        migrate(root / "generated", url, "downgrade", "base")
        assert table_names(url) == set(), url


@pytest.fixture(scope="module")
def report(request: pytest.FixtureRequest) -> Iterator[list[Figures]]:
    """The figures of every schema measured in this run, printed as the corpus table at the end of the module."""
    rows: list[Figures] = []
    yield rows
    plugins = request.config.pluginmanager
    terminal, capture = plugins.getplugin("terminalreporter"), plugins.getplugin("capturemanager")
    if rows and terminal is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # teardown output is captured otherwise
            terminal.write_line("\n" + table(sorted(rows, key=lambda r: r.name), DIALECTS))


@pytest.mark.parametrize("schema", WITH_EXAMPLES, ids=lambda p: p.name.removesuffix(".schema.json"))
def test_corpus_examples_round_trip_on_every_dialect(
    schema: Path, tmp_path: Path, sqlite_url: str, postgres_url: str, mysql_url: str, report: list[Figures]
) -> None:
    urls = dict(zip(DIALECTS, (sqlite_url, postgres_url, mysql_url), strict=True))
    figures = measure(schema, urls, tmp_path)
    report.append(figures)
    assert not figures.error, figures.error
    assert figures.invalid == INVALID_EXAMPLES.get(figures.name, 0)
    assert figures.failures() == []  # every valid example accepted and read back exactly, on every dialect
    assert all(len(found) == figures.documents for found in figures.outcomes.values())
