"""No value changes on the way in and out: every number, instant, time, uuid and string comes back as the document
wrote it, on SQLite, PostgreSQL and MariaDB, through `Store` and through `schemarel load` / `export`."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import simplejson
import sqlalchemy as sa
from conftest import run_schemarel
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from projects import generate, write_project
from schemarel.runtime import exactjson
from schemarel.runtime.store import Store
from value_strategies import SCHEMA, by_value, documents, exact, reading_store

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")  # the long strings
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure prints its document anyway
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
SEQ = itertools.count(1)


@pytest.fixture
def readings(tmp_path: Path, three_db_url: str) -> Store:
    return reading_store(tmp_path / "project", three_db_url)


def same_as_sent(got: Any, sent: dict[str, Any], dialect: str) -> bool:
    """Exact, except that PostgreSQL's jsonb keeps the numbers of free-form values by value (1E+2 is 100)."""
    if dialect != "postgresql":
        return exact(got, sent)
    loose = ("free", "any")
    rest = exact({k: v for k, v in got.items() if k not in loose}, {k: v for k, v in sent.items() if k not in loose})
    return rest and all(by_value(got.get(k)) == by_value(sent.get(k)) for k in loose) and got.keys() == sent.keys()


def test_store_gives_back_every_value_as_written(readings: Store) -> None:
    dialect = readings.engine.dialect.name

    @EXAMPLES
    @given(st.data())
    def round_trip(data: st.DataObject) -> None:
        document = data.draw(documents(next(SEQ), nul=dialect != "postgresql"))
        doc_id = readings.create(document)
        got = readings.get(doc_id)
        assert same_as_sent(got, document, dialect), (got, document)

    round_trip()


def test_bulk_writes_give_back_every_value_as_written(readings: Store) -> None:
    dialect = readings.engine.dialect.name

    @settings(EXAMPLES, max_examples=8)
    @given(st.lists(st.integers(0, 2**31), min_size=1, max_size=30).flatmap(
        lambda seqs: st.tuples(*(documents(next(SEQ), nul=dialect != "postgresql") for _ in seqs))))  # fmt: skip
    def round_trip(batch: tuple[dict[str, Any], ...]) -> None:
        ids = readings.create_many(batch, batch_size=7)
        for doc_id, document in zip(ids, batch, strict=True):
            assert same_as_sent(readings.get(doc_id), document, dialect)

    round_trip()


def test_instants_stay_native_and_only_respelled_values_are_kept_aside(readings: Store) -> None:
    """The `at` column orders and compares as instants; the spelling column holds text only where needed."""
    written = ["2016-05-26T08:59:00+02:00", "2016-05-26t06:59:00.5z", "2016-05-26T06:59:00Z", "2016-05-26T07:00:00Z"]
    ids = [readings.create({"seq": i, "at": at}) for i, at in enumerate(written)]
    table = readings.metadata.tables["readings"]
    with readings.engine.connect() as conn:
        order = conn.execute(sa.select(table.c.seq).order_by(table.c.at, table.c.seq)).scalars().all()
        later = conn.execute(sa.select(sa.func.count()).where(table.c.at > dt.datetime(2016, 5, 26, 6, 59))).scalar()
        spelled: dict[int, str | None] = dict(
            conn.execute(sa.select(table.c.seq, sa.cast(table.c._spelling, sa.Text()))).all()
        )
    assert order == [0, 2, 1, 3]  # 08:59+02:00 is 06:59Z; then the half second; then 07:00
    assert later == 2
    assert spelled[2] is None and spelled[3] is None  # canonical text: nothing kept aside
    assert spelled[0] is not None and exactjson.loads(spelled[0]) == {"/at": written[0]}
    assert [readings.get(i)["at"] for i in ids] == written


def test_the_reported_numbers_and_times_come_back(readings: Store) -> None:
    document = exactjson.loads(
        '{"seq": 9007199254740993, "count": -9223372036854775808, "ratio": 9007199254740993,'
        ' "price": 12345678901234567.89, "at": "2016-05-26T08:59:59.123456789Z", "clock": "10:00:00.5Z",'
        ' "values": [0.1, 1.50, 1e300, -0.0, 5e-324, 1.7976931348623157e308],'
        ' "free": {"n": 12345678901234567890.123456789, "i": 9007199254740993}}'
    )
    got = readings.get(readings.create(document))
    assert same_as_sent(got, document, readings.engine.dialect.name), got
    assert type(got["seq"]) is int and got["price"] == document["price"]


def test_cents_of_fifteen_to_eighteen_digits_come_back(readings: Store) -> None:
    """SQLite's numeric column holds the double nearest to the value, which SQLAlchemy read by formatting it to the
    scale: 107757145051154.10 is 107757145051154.09375 there, read as .09. Drawn where doubles run out of digits."""

    @settings(EXAMPLES, max_examples=60)
    @given(cents=st.integers(10**14, 10**20 - 1), negative=st.booleans(), spelled=st.sampled_from(["plain", "short"]))
    def round_trip(cents: int, negative: bool, spelled: str) -> None:
        value = Decimal(-cents if negative else cents).scaleb(-2)
        if spelled == "short":
            value = exactjson.loads(str(value.normalize()))  # 12.5 rather than 12.50: its own spelling comes back
        document = {"seq": cents % 1000, "price": value}
        got = readings.get(readings.create(document))["price"]
        assert got == value and str(got) == str(value), (got, value)

    round_trip()
    assert readings.get(readings.create({"seq": 1, "price": Decimal("107757145051154.10")}))["price"] == Decimal(
        "107757145051154.10"
    )


def test_mariadb_columns_hold_fractions_and_long_text(mysql_url: str, tmp_path: Path) -> None:
    store = reading_store(tmp_path / "project", mysql_url)
    with store.engine.connect() as conn:
        ddl = conn.exec_driver_sql("SHOW CREATE TABLE readings").one()[1].lower()
    assert "`at` datetime(6)" in ddl and "`clock` time(6)" in ddl and "`text` longtext" in ddl
    long_text = "😀" * 70_000  # 280 KB: more than TEXT's 64 KiB
    got = store.get(store.create({"seq": 1, "clock": "10:00:00.5Z", "text": long_text}))
    assert got == {"seq": 1, "clock": "10:00:00.5Z", "text": long_text}


def test_load_and_export_give_back_every_value_as_written(tmp_path: Path, three_db_url: str) -> None:
    """The CLI as users run it: NDJSON in, NDJSON out, every value with its digits and its spelling."""
    root = write_project(tmp_path / "project", {"reading": SCHEMA})
    assert generate(root).exit_code == 0
    upgraded = run_schemarel(root, "upgrade", "--db", three_db_url)
    assert upgraded.returncode == 0, upgraded.stderr
    dialect = three_db_url.split(":")[0].split("+")[0]
    dialect = "postgresql" if dialect == "postgresql" else dialect

    @settings(EXAMPLES, max_examples=3)
    @given(st.lists(st.integers(), min_size=20, max_size=40).flatmap(
        lambda seqs: st.tuples(*(documents(next(SEQ), nul=dialect != "postgresql") for _ in seqs))))  # fmt: skip
    def round_trip(batch: tuple[dict[str, Any], ...]) -> None:
        source = tmp_path / "in.ndjson"
        source.write_text("".join(exactjson.dumps(d) + "\n" for d in batch), encoding="utf-8")
        options = ["--schema", "reading", "--db", three_db_url, "--batch-size", "9"]
        loaded = run_schemarel(root, "load", str(source), *options)
        assert loaded.returncode == 0, loaded.stderr
        exported = run_schemarel(root, "export", "--schema", "reading", "--db", three_db_url)
        assert exported.returncode == 0, exported.stderr
        lines = [line for line in exported.stdout.split("\n") if line]  # not splitlines(): U+2028 is in strings
        back = {d["seq"]: d for d in map(exactjson.loads, lines)}
        for document in batch:
            assert same_as_sent(back[document["seq"]], document, dialect), (back[document["seq"]], document)

    round_trip()


TEXT = st.text(st.characters(codec=None, exclude_categories=()))  # lone surrogates too
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.decimals(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES)
def test_json_text_is_simplejsons_whoever_writes_it(value: Any) -> None:
    """`exactjson.dumps` (orjson where it writes the same text) gives simplejson's text byte for byte: Decimals with
    their digits, integers past 64 bits, any character (lone surrogates included)."""
    assert exactjson.dumps(value) == simplejson.dumps(
        value, use_decimal=True, allow_nan=False, ensure_ascii=False, separators=(",", ":")
    )
    if not _surrogates(value):
        assert exactjson.loads(exactjson.dumps(value)) == value


def _surrogates(value: Any) -> bool:
    return "\\ud" in simplejson.dumps(value, use_decimal=True)  # escaped as ASCII: a lone surrogate shows


@pytest.mark.parametrize("value", [float("nan"), float("inf"), [1, float("-inf")], {"a": Decimal("NaN")}])
def test_json_text_refuses_what_is_not_a_json_number(value: Any) -> None:
    """orjson would write NaN and ±Infinity as `null`: they are refused as simplejson refuses them."""
    with pytest.raises(ValueError):
        exactjson.dumps(value)


@pytest.mark.parametrize("value", [1e16, 1e-7, 0.1, 1.7976931348623157e308, 5e-324, -0.0, 123456789.125])
def test_a_float_reads_back_as_the_number_reprs_text_gives(value: float) -> None:
    """A float (only Python callers give one) may be written with another exponent than `repr`'s (`1e16`), never
    another number: read back, the same Decimal (or int) as `repr`'s text gives."""
    assert exactjson.loads(exactjson.dumps(value)) == exactjson.loads(repr(value))
    assert str(exactjson.loads(exactjson.dumps(value))) == str(exactjson.loads(repr(value)))
