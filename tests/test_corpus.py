"""Real-world schemas (../shared/corpus, see its PROVENANCE.md): each generates output that migrates up and
down with nothing left to compare, and whose example documents round-trip through the runtime, or fails with
exit 2 and a located message; never a traceback or a hang."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import CI, SHARED, require_shared
from dbtools import load_models, migrate, schema_diff, table_names
from schemarel.cli.main import main
from schemarel.errors import DocumentInvalid
from schemarel.runtime.store import Store

CORPUS = sorted((SHARED / "corpus").glob("*.schema.json"))
# Schemas that must fail, and the pointer their message names. package.json's ESLint rules are one object of
# 876 properties: a row MariaDB/MySQL's InnoDB cannot hold (its `minTokens` and `min-tokens` on one object no
# longer stop it: the later one gets `min_tokens_2`, with a warning).
EXPECTED_ERRORS = {"package-json": "#/definitions/eslintrc/properties/rules"}
# Examples that are not valid documents (PROVENANCE.md: OCDS's examples lack `initiationType`): refused, named.
INVALID_EXAMPLES = {"ocds-release.example.json": "initiationType"}
DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$")
GENERATE_SECONDS = 60

# Without ../shared (a fresh clone) the corpus tests skip saying so; with CI set they must run, and the test
# below fails instead.
NO_CORPUS = f"needs {SHARED / 'corpus'} (../shared is not beside this clone)"
pytestmark = pytest.mark.skipif(not CORPUS and not CI, reason=NO_CORPUS)


def test_corpus_is_there() -> None:
    assert list(require_shared(SHARED / "corpus").glob("*.schema.json"))


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
    models = load_models(root / "generated")
    examples = sorted(schema.parent.glob(f"{name}.example*.json"))
    for url in (sqlite_url, postgres_url):
        migrate(root / "generated", url, "upgrade", "head")
        assert schema_diff(url, root / "generated", models) == [], url
        for example in examples:
            round_trip(url, root, name, example)
        migrate(root / "generated", url, "downgrade", "base")
        assert table_names(url) == set(), url


def round_trip(url: str, root: Path, name: str, example: Path) -> None:
    """The runtime gives the example back as it was stored (a date-time as the same instant, in UTC)."""
    document = json.loads(example.read_text(encoding="utf-8"))
    with Store(url, name, schemas_dir=root / "schemas") as store:
        if example.name in INVALID_EXAMPLES:
            with pytest.raises(DocumentInvalid, match=INVALID_EXAMPLES[example.name]):
                store.create(document)
            assert len(store) == 0
            return
        doc_id = store.create(document)
        assert instants(store.get(doc_id)) == instants(document), f"{example.name} on {url.split(':')[0]}"
        assert len(store) == 1
        store.delete(doc_id)


def instants(value: Any) -> Any:
    """`value` with every RFC 3339 date-time as a UTC instant (timestamp with time zone keeps no offset)."""
    if isinstance(value, dict):
        return {k: instants(v) for k, v in value.items()}
    if isinstance(value, list):
        return [instants(v) for v in value]
    if isinstance(value, str) and DATE_TIME.match(value):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00")).astimezone(
            dt.timezone.utc
        )
    return value
