"""A value its column cannot hold (out of a double's or a bigint's range, a leap second) is refused naming the
value's JSON pointer in the document (`#/events/2/n`), not only its column, wherever it sits: the root, an
array item, an object in an array; through the Store and in `schemarel load`'s reject file, on SQLite,
PostgreSQL and MariaDB."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import run_schemarel
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from projects import generate, write_project
from schemarel.errors import ValueRejected
from schemarel.runtime.store import Store
from schemarel.schema.jsontext import locate
from value_strategies import SCHEMA, reading_store

SETTINGS = settings(
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# where a value sits → an unstorable value for it (valid by the schema)
TOO_BIG = Decimal("1E+400")
LEAP = "2016-12-31T23:59:60Z"  # a valid date-time no timestamp column holds


@st.composite
def placed(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A reading with one unstorable value somewhere among ordinary ones, and that value's pointer."""
    events = draw(st.lists(st.fixed_dictionaries({}, optional={"n": st.integers(-5, 5), "at": st.just(
        "2024-05-01T10:00:00Z")}), max_size=4))  # fmt: skip
    values: list[int | Decimal] = list(draw(st.lists(st.integers(-(2**40), 2**40), max_size=4)))  # -TOO_BIG may go in
    document: dict[str, Any] = {"seq": 1, "events": events, "values": values}
    where = draw(st.sampled_from(["ratio", "count", "at", "values", "events.n", "events.at"]))
    if where in ("ratio", "count", "at"):
        document[where] = {"ratio": TOO_BIG, "count": 2**63, "at": LEAP}[where]
        return document, f"#/{where}"
    items = values if where == "values" else events
    i = draw(st.integers(0, len(items)))
    if where == "values":
        values.insert(i, -TOO_BIG)
        return document, f"#/values/{i}"
    key = where.split(".")[1]
    events.insert(i, {"n": TOO_BIG} if key == "n" else {"at": LEAP, "n": 1})
    return document, f"#/events/{i}/{key}"


@pytest.fixture
def readings(tmp_path: Path, three_db_url: str) -> Store:
    return reading_store(tmp_path / "store", three_db_url)


def test_a_value_no_column_holds_is_refused_by_its_pointer(readings: Store) -> None:
    @settings(SETTINGS, max_examples=40)
    @given(placed())
    def create(case: tuple[dict[str, Any], str]) -> None:
        document, where = case
        with pytest.raises(ValueRejected) as caught:
            readings.create(document)
        assert f": {where} (" in str(caught.value)
        assert len(readings) == 0

    create()


def test_the_reject_file_names_the_pointer(tmp_path: Path, three_db_url: str) -> None:
    root = write_project(tmp_path / "project", {"reading": SCHEMA})
    assert generate(root).exit_code == 0
    assert run_schemarel(root, "upgrade", "--db", three_db_url).returncode == 0
    lines = [
        {"seq": 1, "events": [{"n": 1}, {"n": 2}]},
        {"seq": 2, "events": [{"n": 1}, {"at": LEAP}]},
        {"seq": 3, "values": [1, 2, 3, 4e300, -(10**400)]},
    ]
    (root / "in.ndjson").write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    result = run_schemarel(root, "load", "in.ndjson", "--schema", "reading", "--db", three_db_url)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    rejects = [json.loads(r) for r in (root / "in.ndjson.rejects.ndjson").read_text().splitlines()]
    assert [r["line"] for r in rejects] == [2, 3]
    assert f": #/events/1/at (reading_events.at) = '{LEAP}': " in rejects[0]["errors"][0]
    assert ": #/values/4 (" in rejects[1]["errors"][0]
    assert "in.ndjson:3: " in result.stderr and "#/values/4" in result.stderr


def test_locate_finds_the_object_itself_not_an_equal_one() -> None:
    big = 2**70
    twin = int(str(big))  # equal, another object
    assert twin is not big
    document = {"a": [twin, {"b": [1, big]}], "c": big}
    assert locate(document, big) == "#/a/1/b/1"
    assert locate({"x/y": {"~": big}}, big) == "#/x~1y/~0"
    assert locate(document, object()) == "#"
