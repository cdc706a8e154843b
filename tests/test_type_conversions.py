"""A type change (`--allow-destructive`) keeps every stored value as it meant, or refuses before changing anything.

For each conversion a schema can ask for (number → integer, string → integer/number/boolean/uuid/enum/date,
integer → number), random stored values, on SQLite, PostgreSQL and MariaDB, through the generated revision:
when the upgrade runs, every value reads back as what it meant before (Python's reading of it, not the
database's); when it refuses, it names the column and nothing changed. Values in the form every database
converts alike (digits, a uuid, an ISO date, `0`/`1`, the enum's own values) are never refused. Before the
fix SQLite turned 'abc' into 0 and 5.5 into 5, MariaDB 5.5 into 6, PostgreSQL 'yesterday' into a date.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projects import generate, invoke, write_project

NO = object()  # a value with no meaning in the target type: the upgrade must refuse it
ENUM = ["a", "b", "c"]
# conversion → (the property's schema before, after, the SQLAlchemy type to read the column back with)
CONVERSIONS: dict[str, tuple[dict[str, Any], dict[str, Any], sa.types.TypeEngine[Any]]] = {
    "number-integer": ({"type": "number"}, {"type": "integer"}, sa.BigInteger()),
    "integer-number": ({"type": "integer"}, {"type": "number"}, sa.Float()),
    "string-integer": ({"type": "string"}, {"type": "integer"}, sa.BigInteger()),
    "string-number": ({"type": "string"}, {"type": "number"}, sa.Float()),
    "string-boolean": ({"type": "string"}, {"type": "boolean"}, sa.Boolean()),
    "string-uuid": ({"type": "string"}, {"type": "string", "format": "uuid"}, sa.Uuid()),
    "string-enum": ({"type": "string"}, {"type": "string", "enum": ENUM}, sa.Text()),
    "string-date": ({"type": "string"}, {"type": "string", "format": "date"}, sa.Date()),
    "datetime-date": ({"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}, sa.Date()),
}
MIDNIGHT = dt.time(0, 0)
TEXT = "0123456789+-.eEaxZT:/ "
fits: dict[str, st.SearchStrategy[Any]] = {
    "number-integer": st.integers(-(2**53), 2**53).map(float),
    "integer-number": st.integers(-(2**53), 2**53),
    "string-integer": st.integers(-(2**63), 2**63 - 1).map(str),
    "string-number": st.floats(-1e30, 1e30, allow_nan=False).map(repr),
    "string-boolean": st.sampled_from(["0", "1"]),
    "string-uuid": st.uuids().map(lambda u: u.hex),  # MySQL keeps a uuid as its 32 hex digits
    "string-enum": st.sampled_from(ENUM),
    "string-date": st.dates(dt.date(1000, 1, 1)).map(dt.date.isoformat),
    "datetime-date": st.dates(dt.date(1000, 1, 1)).map(lambda d: dt.datetime.combine(d, MIDNIGHT)),
}
anything: dict[str, st.SearchStrategy[Any]] = {
    "number-integer": st.floats(-1e20, 1e20, allow_nan=False) | st.sampled_from([0.5, 2.5, -1.5, 2.0**63, 1e19]),
    "integer-number": st.integers(-(2**63), 2**63 - 1)
    | st.sampled_from([2**53 + 1, 2**53 + 2, 2**60, -(2**60) - 1, 3 * 2**58, 2**63 - 1, -(2**63)]),
    **{k: st.text(TEXT, max_size=12) | fits[k] for k in fits if k.startswith("string")},
    "string-uuid": st.text(TEXT, max_size=12) | st.uuids().map(str) | fits["string-uuid"],
    "string-boolean": st.sampled_from(["0", "1", "true", "false", "maybe", "t", "2", ""]),
    "string-enum": st.sampled_from([*ENUM, "A", "d", "", "a "]),
    "string-date": st.sampled_from(
        ["2024-01-01", "yesterday", "2024-13-01", "2023-02-29", "2024-02-29", "2024-04-31", "20240101", "2024-01-01T1Z"]
    )
    | fits["string-date"],
    "datetime-date": st.datetimes(dt.datetime(1000, 1, 1)).map(lambda t: t.replace(microsecond=0))
    | fits["datetime-date"],
}


def meaning(conversion: str, value: Any) -> Any:
    """What `value` means in the target type, read by Python; NO when it means nothing there."""
    target = conversion.split("-")[1]
    if conversion == "datetime-date":
        return value.date() if value.time() == MIDNIGHT else NO
    try:
        if target == "integer":
            d = Decimal(value)
            return int(d) if d.is_finite() and d == d.to_integral_value() and -(2**63) <= d < 2**63 else NO
        if target == "number":
            number = float(Decimal(value))
            return number if conversion == "string-number" or number == value else NO
        if target == "uuid":
            return uuid.UUID(value)
        if target == "date":
            return dt.date.fromisoformat(value)
    except (InvalidOperation, ValueError, OverflowError):
        return NO
    if target == "boolean":
        return {"0": False, "1": True, "false": False, "true": True}.get(value, NO)
    return value if value in ENUM else NO


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A project per conversion: revision 0001 with the property as it was, 0002 with it converted."""
    made = {}
    for name, (before, after, _) in CONVERSIONS.items():
        root = tmp_path_factory.mktemp(name)
        for n, schema in enumerate((before, after)):
            write_project(root, {"thing": {"title": "Thing", "type": "object", "properties": {"n": schema}}})
            result = generate(root, *(["--allow-destructive"] if n else []))
            assert result.exit_code == 0, result.output
        made[name] = root
    return made


def _column(url: str, type_: sa.types.TypeEngine[Any] | None = None) -> list[Any]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        values = list(conn.scalars(sa.text("SELECT n FROM things ORDER BY _extra").columns(sa.column("n", type_))))
    engine.dispose()
    return values


def _stored(value: Any, url: str) -> Any:
    """A date-time as the column takes it: PostgreSQL's keeps the instant (UTC here), the others the wall time."""
    return value.replace(tzinfo=dt.timezone.utc) if isinstance(value, dt.datetime) and "postgres" in url else value


def check_conversion(root: Path, url: str, conversion: str, values: list[Any]) -> bool:
    """Upgrade a table holding `values` through the conversion: kept as they meant (True), or refused first."""
    assert invoke(root, "upgrade", "0001", "--db", url).exit_code == 0
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:  # `_extra` holds the order, as a JSON text every dialect sorts alike
        insert = sa.text("INSERT INTO things (id, n, _extra) VALUES (:id, :n, :order)")
        stored = [_stored(v, url) for v in values]
        conn.execute(insert, [{"id": uuid.uuid4().hex, "n": v, "order": f'"{i:04}"'} for i, v in enumerate(stored)])
    engine.dispose()
    before = _column(url)
    try:
        upgraded = invoke(root, "upgrade", "--db", url)
        meant = [meaning(conversion, v) for v in values]
        if upgraded.exit_code == 0:
            assert NO not in meant, f"{values} upgraded, though some meant nothing as the new type"
            after = _column(url, CONVERSIONS[conversion][2])
            if conversion == "string-uuid":  # SQLite keeps the text as it was; its Uuid type reads both forms
                after = [a if isinstance(a, uuid.UUID) else uuid.UUID(str(a)) for a in after]
            assert after == meant, f"values changed by the conversion: {values} → {after}"
            return True
        else:
            assert "refused before changing anything" in upgraded.output, upgraded.output
            assert "`things.n` holds " in upgraded.output
            assert _column(url) == before
            return False
    finally:
        reverted = invoke(root, "downgrade", "base", "--db", url)
        assert reverted.exit_code == 0, reverted.output


@pytest.mark.parametrize("conversion", list(CONVERSIONS))
def test_a_type_change_keeps_values_or_refuses_first(
    projects: dict[str, Path], three_db_url: str, conversion: str
) -> None:
    examples = 20 if three_db_url.startswith("sqlite") else 8

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(anything[conversion], min_size=1, max_size=5))
    def run(values: list[Any]) -> None:
        check_conversion(projects[conversion], three_db_url, conversion, values)

    run()


@pytest.mark.parametrize("conversion", list(CONVERSIONS))
def test_values_every_database_converts_alike_are_never_refused(
    projects: dict[str, Path], three_db_url: str, conversion: str
) -> None:
    if conversion in ("string-date", "datetime-date") and three_db_url.startswith("sqlite"):
        pytest.skip("SQLite's in-place conversion keeps only a date's leading number: every stored date is refused")

    @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(fits[conversion], min_size=1, max_size=5))
    def run(values: list[Any]) -> None:
        assert check_conversion(projects[conversion], three_db_url, conversion, values), f"{values} refused"

    run()
