"""A bad line never ends a load: each one is rejected by its number with what was wrong, the others load, on
SQLite, PostgreSQL and MariaDB; and no document the databases cannot hold is ever written."""

from __future__ import annotations

import itertools
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import run_schemarel
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from projects import generate, write_project
from schemarel.errors import DocumentInvalid, ValueRejected
from schemarel.runtime import exactjson
from schemarel.runtime.store import Store
from value_strategies import SCHEMA, reading_store

SEQ = itertools.count(1)
SETTINGS = settings(
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


# kind of line → (its text for sequence number n, the dialects that refuse it, words of the rejection)
ALL = {"sqlite", "postgresql", "mysql"}
LINES: dict[str, tuple[Any, set[str], str]] = {
    "good": (lambda n: f'{{"seq": {n}, "ratio": 0.1, "text": "ok"}}', set(), ""),
    "nan": (lambda n: f'{{"seq": {n}, "ratio": NaN}}', ALL, "NaN is not a JSON number"),
    "infinity": (lambda n: f'{{"seq": {n}, "free": {{"x": [-Infinity]}}}}', ALL, "-Infinity is not a JSON number"),
    "1e400": (lambda n: f'{{"seq": {n}, "ratio": 1e400}}', ALL, "1E+400 is out of the range of a double column"),
    "surrogate": (lambda n: f'{{"seq": {n}, "text": "a\\ud800b"}}', ALL, "lone surrogate (U+D800"),
    "surrogate in JSON": (lambda n: f'{{"seq": {n}, "free": {{"k": ["\\udfff"]}}}}', ALL, "#/free/k/0: holds a lone"),
    "surrogate key": (lambda n: f'{{"seq": {n}, "free": {{"\\udbff": 1}}}}', ALL, "the key holds a lone surrogate"),
    "duplicate key": (lambda n: f'{{"seq": {n}, "text": "a", "text": "b"}}', ALL, "#/text: key 'text' is given twice"),
    "5000 levels": (lambda n: f'{{"seq": {n}, "free": {{"d": {_deep(5000)}}}}}', ALL, "nested deeper than 128"),
    "200 levels": (lambda n: f'{{"seq": {n}, "free": {{"d": {_deep(200)}}}}}', ALL, "nested deeper than 128 levels"),
    "not UTF-8": (lambda n: f'{{"seq": {n}, "text": "\xff"}}'.encode("latin-1"), ALL, "not UTF-8"),
    "NUL": (lambda n: f'{{"seq": {n}, "text": "a\\u0000b"}}', {"postgresql"}, "NUL character"),
    "40 levels": (lambda n: f'{{"seq": {n}, "free": {{"d": {_deep(40)}}}}}', {"mysql"}, "nested 41 levels deep"),
    "numeric overflow": (lambda n: f'{{"seq": {n}, "price": 1e30}}', ALL, "out of the range of numeric(20, 2)"),
    "bigint overflow": (lambda n: f'{{"seq": {n}, "count": {2**63}}}', ALL, "out of the range of a bigint column"),
    # a byte order mark: ignored at the start of the file (RFC 8259 lets parsers), refused on any later line
    "BOM": (lambda n: f'\ufeff{{"seq": {n}}}', ALL, "a byte order mark (U+FEFF) starts the line"),
    # an integer spelled with a fraction or an exponent is an integer; a huge exponent is never expanded
    "integral": (lambda n: f'{{"seq": {n}.0, "count": 1e2}}', set(), ""),
    "huge exponent": (lambda n: f'{{"seq": {n}, "text": 1e999999999}}', ALL, "is not of type 'string'"),
    "huge integer": (lambda n: f'{{"seq": {n}, "count": 1e999999999}}', ALL, "out of the range of a bigint"),
}


def _refused(index: int, kind: str, dialect: str) -> bool:
    """Whether the `index`th line (0-based) of this kind is rejected on the dialect."""
    return dialect in LINES[kind][1] and not (index == 0 and kind == "BOM")


@pytest.fixture
def project(tmp_path: Path, three_db_url: str) -> Path:
    root = write_project(tmp_path / "project", {"reading": SCHEMA})
    assert generate(root).exit_code == 0
    upgraded = run_schemarel(root, "upgrade", "--db", three_db_url)
    assert upgraded.returncode == 0, upgraded.stderr
    return root


def _dialect(url: str) -> str:
    return url.split(":")[0].split("+")[0]


def _export(root: Path, url: str) -> dict[int, Any]:
    exported = run_schemarel(root, "export", "--schema", "reading", "--db", url)
    assert exported.returncode == 0, exported.stderr
    return {d["seq"]: d for d in map(exactjson.loads, filter(None, exported.stdout.split("\n")))}


def test_every_bad_line_is_rejected_by_number_and_the_rest_loads(project: Path, three_db_url: str) -> None:
    dialect = _dialect(three_db_url)

    @settings(SETTINGS, max_examples=5)
    @given(st.lists(st.sampled_from(sorted(LINES)), min_size=1, max_size=25), st.integers(1, 6))
    @example(["BOM", "good", "BOM"], 2)
    def load(kinds: list[str], batch_size: int) -> None:
        seqs = [next(SEQ) for _ in kinds]
        texts = [LINES[k][0](n) for k, n in zip(kinds, seqs, strict=True)]
        source = project / "in.ndjson"
        source.write_bytes(b"".join((t if isinstance(t, bytes) else t.encode()) + b"\n" for t in texts))
        rejects = project / "rejects.ndjson"
        rejects.unlink(missing_ok=True)
        result = run_schemarel(project, "load", str(source), "--schema", "reading", "--db", three_db_url,
                               "--batch-size", str(batch_size), "--rejects", str(rejects))  # fmt: skip
        bad = {i + 1: k for i, k in enumerate(kinds) if _refused(i, k, dialect)}
        assert result.returncode == (1 if bad else 0), result.stderr
        assert "Traceback" not in result.stderr
        reported = {r["line"]: r["errors"] for r in map(json.loads, rejects.read_text().splitlines())} if bad else {}
        assert sorted(reported) == sorted(bad), result.stderr
        for line, kind in bad.items():
            assert any(LINES[kind][2] in reason for reason in reported[line]), (kind, reported[line])
        stored = _export(project, three_db_url)
        loaded = {n for i, (n, k) in enumerate(zip(seqs, kinds, strict=True)) if not _refused(i, k, dialect)}
        assert {n for n in stored if n in set(seqs)} == loaded

    load()


def test_a_line_over_the_packet_limit_is_rejected_and_the_load_goes_on(project: Path, three_db_url: str) -> None:
    """20 MB in one line: MariaDB (max_allowed_packet 16 MB here) refuses it by number; the others store it."""
    dialect = _dialect(three_db_url)
    big = "x" * 20_000_000
    source = project / "big.ndjson"
    lines = ['{"seq": 1}', json.dumps({"seq": 2, "text": big}), '{"seq": 3, "ratio": 1.5}']
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_schemarel(project, "load", str(source), "--schema", "reading", "--db", three_db_url)
    stored = _export(project, three_db_url)
    if dialect == "mysql":
        assert result.returncode == 1 and "big.ndjson:2: " in result.stderr and "max_allowed_packet" in result.stderr
        assert sorted(stored) == [1, 3]
    else:
        assert result.returncode == 0, result.stderr
        assert sorted(stored) == [1, 2, 3] and stored[2]["text"] == big


@pytest.fixture
def readings(tmp_path: Path, three_db_url: str) -> Store:
    return reading_store(tmp_path / "store", three_db_url)


SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)


@st.composite
def with_surrogate(draw: st.DrawFn) -> tuple[dict[str, Any], str | None]:
    """A valid document but for one lone surrogate, in a string or a key, anywhere; and the pointer to it."""
    plain = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=6)
    text = draw(plain)
    at = draw(st.integers(0, len(text)))
    bad = text[:at] + draw(SURROGATES) + text[at:]
    where = draw(st.sampled_from(["text", "value", "key", "item"]))
    if where == "text":
        return {"seq": 1, "text": bad}, "#/text"
    if where == "value":
        return {"seq": 1, "free": {"a": {"b": bad}}}, "#/free/a/b"
    if where == "key":
        return {"seq": 1, "free": {bad: 1}}, None
    return {"seq": 1, "free": {"list": [1, bad]}}, "#/free/list/1"


def test_a_lone_surrogate_is_never_stored(readings: Store) -> None:
    @settings(SETTINGS, max_examples=40)
    @given(with_surrogate())
    def create(case: tuple[dict[str, Any], str | None]) -> None:
        document, where = case
        with pytest.raises(DocumentInvalid) as caught:
            readings.create(document)
        violation = caught.value.violations[0]
        assert "lone surrogate" in violation.message
        assert where is None or violation.pointer == where
        assert len(readings) == 0

    create()


def test_non_numbers_are_named_not_called_null(readings: Store) -> None:
    @settings(SETTINGS, max_examples=25)
    @given(
        st.sampled_from(
            [
                math.nan,
                math.inf,
                -math.inf,
                Decimal("NaN"),
                Decimal("-Infinity"),
                Decimal("1e400"),
                Decimal("-1E+309"),
                10**400,
            ]
        ),  # fmt: skip
        st.sampled_from(["ratio", "values"]),
    )
    def create(value: Any, where: str) -> None:
        document = {"seq": 1, where: value if where == "ratio" else [0, value]}
        with pytest.raises((DocumentInvalid, ValueRejected)) as caught:
            readings.create(document)
        message = str(caught.value)
        assert "null" not in message
        finite = isinstance(value, int) or (isinstance(value, Decimal) and value.is_finite())
        assert ("out of the range of a double column" if finite else "is not a JSON number") in message
        assert len(readings) == 0

    create()


def test_deep_documents_are_refused_with_their_pointer(readings: Store) -> None:
    value: Any = 1
    for _ in range(5000):
        value = [value]
    with pytest.raises(DocumentInvalid, match=r"#/free/d(/0){126}: nested deeper than 128 levels"):
        readings.create({"seq": 1, "free": {"d": value}})


def test_a_port_that_is_not_a_number_is_a_usage_error(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", {"reading": SCHEMA})
    for command in (["load", "-"], ["export"], ["backfill"]):
        result = run_schemarel(root, *command, "--schema", "reading", "--db", "postgresql://me:s3cret@db:port/app")
        assert result.returncode == 2, result.stderr
        assert "port is not a number" in result.stderr and "s3cret" not in result.stderr
        assert "Traceback" not in result.stderr
