"""runtime/copytext.py: our COPY text is psycopg's, byte for byte, and round-trips through the server."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from psycopg._copy_base import TextFormatter
from psycopg.adapt import Transformer
from runtime_helpers import add_users, customer, open_store, same_json
from schemarel.errors import ConstraintViolation
from schemarel.runtime.copytext import copy_text
from test_read_path import existing_users
from test_runtime_roundtrip import CASES, EXAMPLES, documents, references

OFFSETS = st.builds(dt.timezone, st.timedeltas(min_value=-dt.timedelta(hours=23), max_value=dt.timedelta(hours=23)))
SPECIALS = "\\\t\n\r\b\v\f\x00N"
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.decimals(),
    st.uuids(),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=OFFSETS),
    st.times(),
    st.times(timezones=OFFSETS),
    st.text(),
    st.text(st.sampled_from(SPECIALS + "aé")),
    st.text(st.characters(codec="utf-8")).map(lambda s: f'{{{s!r}: [1.5, "\\\\"]}}'),  # JSON-like text
)
ROWS = st.lists(st.lists(VALUES, min_size=1, max_size=6), max_size=8)


@pytest.fixture(scope="module")
def formatter(postgres_server: Any) -> Iterator[TextFormatter]:
    url = postgres_server.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as conn:
        yield TextFormatter(Transformer(conn))


def psycopg_text(formatter: TextFormatter, rows: list[list[Any]]) -> bytes | None:
    try:
        for row in rows:
            formatter.write_row(row)
    except (psycopg.DataError, UnicodeEncodeError):
        formatter.end()
        return None
    return bytes(formatter.end())


def left_to_psycopg(value: Any) -> bool:
    """What copy_text leaves to psycopg on purpose."""
    if isinstance(value, str):
        return "\x00" in value or any(0xD800 <= ord(c) < 0xE000 for c in value)
    if isinstance(value, float):
        return not math.isfinite(value)
    return isinstance(value, Decimal) and not value.is_finite()


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS)
@example(rows=[[None], [None, "\\"]])  # a width change after a NULL once counted it twice: the \\ went unescaped
def test_copy_text_is_what_psycopg_writes(formatter: TextFormatter, rows: list[list[Any]]) -> None:
    ours = copy_text(rows)
    theirs = psycopg_text(formatter, rows)
    if ours is None:
        assert any(left_to_psycopg(v) for row in rows for v in row), rows
    else:
        assert ours == theirs


def test_a_value_of_another_class_is_left_to_psycopg() -> None:
    class Name(str):
        pass

    assert copy_text([["a", Name("b")]]) is None
    assert copy_text([["a", None, 1, True]]) == b"a\t\\N\t1\tt\n"
    assert copy_text([["a"], ["b", None]]) == b"a\nb\t\\N\n"  # rows of several widths
    assert copy_text([[], []]) == b"\n\n" and copy_text([]) == b""


def test_values_that_need_escaping_come_back_from_the_server_as_they_were(postgres_url: str) -> None:
    store = open_store(postgres_url, "customer")
    names = ["\\N", "a\tb", "line\nbreak", "back\\slash", "cr\rlf", "\\", "é\\t", "\b\v\f"]
    documents = [{**customer(i), "firstName": name, "middleName": name} for i, name in enumerate(names)]
    ids = store.create_many(documents)
    assert [store.get(i) for i in ids] == [store.prepare(d) for d in documents]


@pytest.mark.parametrize(("schemas_dir", "name"), CASES, ids=[name for _, name in CASES])
def test_create_many_gives_back_what_it_was_given_for_every_schema(
    postgres_url: str, schemas_dir: Any, name: str
) -> None:
    """Through COPY, our text: every column kind of the schemas, keys from the sequence for children too."""
    store = open_store(postgres_url, name, schemas_dir)

    @EXAMPLES
    @given(st.lists(documents(store), min_size=1, max_size=6))
    def check(batch: list[Any]) -> None:
        users = sorted({r for d in batch for r in references(store, d)} - existing_users(store))
        if users:
            add_users(store, users)
        try:
            ids = store.create_many(batch)
        except ConstraintViolation:  # unique values drawn twice: the batch is refused whole
            return
        assert all(same_json(store.get(i), store.prepare(d)) for i, d in zip(ids, batch, strict=True))

    check()
    store.close()
