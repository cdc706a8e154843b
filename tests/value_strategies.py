"""Hypothesis strategies for documents at every edge of their values, and an exact comparison of documents."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from projects import write_project
from runtime_helpers import open_store
from schemarel.runtime import exactjson
from schemarel.runtime.store import Store

# Every kind of column a value can land in: integers, doubles, numeric(20, 2), instants, times, dates, uuids,
# unbounded text, free-form JSON values (an object; anything), an array of numbers (rows of their own),
# objects in an array.
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Reading",
    "type": "object",
    "required": ["seq"],
    "properties": {
        "seq": {"type": "integer"},
        "count": {"type": "integer"},
        "ratio": {"type": "number"},
        "price": {"type": "number", "multipleOf": 0.01},
        "at": {"type": "string", "format": "date-time"},
        "clock": {"type": "string", "format": "time"},
        "day": {"type": "string", "format": "date"},
        "ref": {"type": "string", "format": "uuid"},
        "text": {"type": "string"},
        "free": {"type": "object"},
        "any": {},
        "values": {"type": "array", "items": {"type": "number"}},
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"at": {"type": "string", "format": "date-time"}, "n": {"type": "number"}},
            },
        },
    },
}


def reading_store(root: Path, url: str) -> Store:
    """A Store of `SCHEMA` on `url`, its tables created."""
    write_project(root, {"reading": SCHEMA})
    return open_store(url, "reading", root / "schemas")


INT64 = st.one_of(
    st.sampled_from([0, -1, 1, 2**31, 2**53, 2**53 + 1, 9007199254740993, 2**63 - 1, -(2**63)]),
    st.integers(-(2**63), 2**63 - 1),
)


@st.composite
def number_text(draw: st.DrawFn, max_exponent: int = 300) -> Any:
    """A JSON number as the exact parser gives it: an int, or a Decimal with any digits, zeros and exponent
    (its magnitude within a double's range, down to subnormals and zero)."""
    sign = draw(st.sampled_from(["", "-"]))
    whole = draw(st.one_of(st.just("0"), st.from_regex(r"[1-9][0-9]{0,19}", fullmatch=True)))
    fraction = draw(st.one_of(st.just(""), st.from_regex(r"\.[0-9]{1,25}", fullmatch=True)))
    exponent = draw(st.one_of(st.just(""), st.builds(lambda e, s, n: f"{e}{s}{n}", st.sampled_from("eE"),
                                                     st.sampled_from(["", "+", "-"]),
                                                     st.integers(0, max_exponent - 20))))  # fmt: skip
    return exactjson.loads(sign + whole + fraction + exponent)


@st.composite
def price(draw: st.DrawFn) -> Any:
    """A multiple of 0.01 with at most 18 integer digits, written with 0, 1 or 2 decimals or an exponent."""
    cents = draw(st.integers(-(10**20) + 1, 10**20 - 1))
    value = Decimal(cents).scaleb(-2)
    form = draw(st.sampled_from(["plain", "normal", "exponent"]))
    if form == "normal":
        value = value.normalize()
    elif form == "exponent":
        value = Decimal(f"{value.normalize():E}")
    return exactjson.loads(str(value))


def _fraction(draw: st.DrawFn) -> str:
    return draw(st.one_of(st.just(""), st.from_regex(r"\.[0-9]{1,9}", fullmatch=True)))


def _offset(draw: st.DrawFn) -> str:
    return draw(st.one_of(st.sampled_from(["Z", "z", "+00:00", "-00:00"]),
                          st.from_regex(r"[+-](0[0-9]|1[0-9]|2[0-3]):[0-5][0-9]", fullmatch=True)))  # fmt: skip


@st.composite
def date_time(draw: st.DrawFn) -> str:
    """RFC 3339 date-times: lower-case `t`/`z`, 0 to 9 fraction digits, any offset; years 1001–9998 (MariaDB's
    DATETIME starts at 1000, and an offset moves the instant by up to a day)."""
    day = draw(st.dates(min_value=dt.date(1001, 1, 1), max_value=dt.date(9998, 12, 31)))
    clock = draw(st.times())
    sep = draw(st.sampled_from("Tt"))
    return f"{day.isoformat()}{sep}{clock.strftime('%H:%M:%S')}{_fraction(draw)}{_offset(draw)}"


@st.composite
def time_of_day(draw: st.DrawFn) -> str:
    return f"{draw(st.times()).strftime('%H:%M:%S')}{_fraction(draw)}{_offset(draw)}"


def uuid_text() -> st.SearchStrategy[str]:
    return st.builds(lambda u, upper: str(u).upper() if upper else str(u), st.uuids(), st.booleans())


def text(nul: bool = True) -> st.SearchStrategy[str]:
    """Any Unicode text (no lone surrogates: they are not Unicode), long ones too (over MySQL's 64 KiB TEXT)."""
    chars = st.characters(codec="utf-8", exclude_characters=None if nul else "\x00")
    return st.one_of(
        st.text(chars, max_size=40),
        st.builds(lambda c, n: c * n, st.sampled_from(["é", "😀", "a", "\U0010fffd"]), st.integers(16_000, 20_000)),
    )


def json_values(nul: bool = True, max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Free-form JSON: nested arrays and objects (within MariaDB's JSON depth), exact numbers, any text."""
    leaves = st.one_of(st.none(), st.booleans(), INT64, number_text(), st.text(st.characters(codec="utf-8",
                       exclude_characters=None if nul else "\x00"), max_size=10))  # fmt: skip
    keys = st.text(st.characters(codec="utf-8", exclude_characters=None if nul else "\x00"), max_size=8)

    def containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4))

    return st.recursive(leaves, containers, max_leaves=max_leaves)


def deep(levels: int) -> st.SearchStrategy[Any]:
    """A value nested exactly `levels` arrays/objects deep."""

    def wrap(value: Any, kinds: list[bool]) -> Any:
        for as_list in kinds:
            value = [value] if as_list else {"k": value}
        return value

    return st.builds(wrap, st.integers(), st.lists(st.booleans(), min_size=levels, max_size=levels))


@st.composite
def documents(draw: st.DrawFn, seq: int, nul: bool = True) -> dict[str, Any]:
    """A valid Reading document with any subset of its properties, each at its edges."""
    optional = {
        "count": INT64,
        "ratio": number_text(),
        "price": price(),
        "at": date_time(),
        "clock": time_of_day(),
        "day": st.dates().map(lambda d: d.isoformat()).filter(lambda d: d >= "1001"),
        "ref": uuid_text(),
        "text": text(nul),
        "free": st.one_of(
            st.dictionaries(st.text(max_size=5).filter(lambda k: nul or "\x00" not in k), json_values(nul), max_size=4),
            deep(30).map(lambda v: {"deep": v}),
        ),  # fmt: skip
        "any": json_values(nul),
        "values": st.lists(number_text(), max_size=5),
        "events": st.lists(st.fixed_dictionaries({}, optional={"at": date_time(), "n": number_text()}), max_size=3),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(optional)), unique=True))
    return {"seq": seq, **{key: draw(optional[key]) for key in sorted(chosen)}}


def exact(a: Any, b: Any) -> bool:
    """Equal as JSON text would say: same types (int is not Decimal, a bool is not an int), Decimals with the
    same digits (`1.50` is not `1.5`), strings by code points, objects by keys in any order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(exact(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(exact(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Decimal):
        return str(a) == str(b)
    return bool(a == b)


def by_value(value: Any) -> Any:
    """`value` with numbers as Decimal values (PostgreSQL's jsonb keeps a number's value, not its exponent)."""
    if isinstance(value, dict):
        return {k: by_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [by_value(v) for v in value]
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        with localcontext(prec=200):
            return Decimal(value).normalize() if value else Decimal(0)
    return value
