"""JSON text ↔ Python values without changing a value: integers stay int, other numbers Decimal with their digits.

`loads` never turns a number into a float (a double cannot hold `9007199254740993` or `0.1000000000000000001`);
it keeps what the text holds that is not JSON data so that the checks of `values.problems` can name it with its
pointer: a key given twice in one object, `NaN`/`Infinity`. `dumps` writes Decimals with their own digits.

`dumps` is orjson's (about 30 times faster than simplejson, which an export spent most of its time in) for every
value it writes as simplejson does: a finite Decimal goes in as its own text (`str`, as simplejson writes it),
and what orjson refuses (an integer past 64 bits, a lone surrogate, a key that is not a string, a type neither
knows) is simplejson's to write or refuse as before. Two differences are caught or bounded: orjson writes NaN
and ±Infinity as `null` where simplejson refuses them, so an output holding `null` is written by simplejson
again when the value holds a float that is not finite (or a type this module does not know: `_unsure`); and a
float is written in its shortest round-trip form, whose exponent may be spelled otherwise than Python's `repr`
(`1e16`, not `1e+16`): the same double, read back by `loads` as the same Decimal (documents read
from the tables hold no floats at all: numbers come back as int or Decimal).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from decimal import Decimal
from math import isfinite
from typing import Any

import msgspec
import orjson
import simplejson

# Deeper documents are refused (and so never reach the recursive code below the parser: validation, mapping)
MAX_DEPTH = 128


class NotJSON(ValueError):
    """Text that is not one JSON value."""


class NonFinite:
    """`NaN`, `Infinity` or `-Infinity` where the text has a number: JSON has no such numbers."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class Duplicated(dict):  # type: ignore[type-arg]
    """An object whose text gives some key more than once (the last value is kept, as `json.loads` does)."""

    twice: tuple[str, ...] = ()


# `odd`: whether the text `loads_checked` parses gave a key twice or a NaN or Infinity (set where they are parsed)
_parsing = threading.local()


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    _parsing.odd = True
    seen: set[str] = set()
    twice = []
    for key, _ in pairs:
        if key in seen and key not in twice:
            twice.append(key)
        seen.add(key)
    dup = Duplicated(obj)
    dup.twice = tuple(twice)
    return dup


def _number(text: str) -> Decimal | int:
    """A number with a fraction or an exponent: a Decimal, keeping its digits and exponent (`1.50`, `1E+300`);
    an int when the Decimal writes itself as one (`0e0`, `5E0`: digits and exponent are those of `5`)."""
    number = Decimal(text)
    written = str(number)
    return int(written) if written.lstrip("-").isdigit() else number


def _constant(text: str) -> NonFinite:
    _parsing.odd = True
    return NonFinite(text)


_DECODER = json.JSONDecoder(parse_float=_number, parse_constant=_constant, object_pairs_hook=_object)


def loads(text: str | bytes) -> Any:
    """One JSON value, exactly; raises NotJSON with the reason (bad syntax, bad UTF-8, too deep)."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return _DECODER.decode(text)
    except UnicodeDecodeError as exc:
        raise NotJSON(f"not UTF-8: {exc.reason} at byte {exc.start}") from None
    except RecursionError:
        raise NotJSON(f"nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        raise NotJSON(_where(exc)) from None
    except ValueError as exc:  # int() of more than 4,300 digits
        raise NotJSON(str(exc)) from None


def _no_constant(text: str) -> Any:
    raise NotJSON(f"{text} is not a JSON number")


_STORED = json.JSONDecoder(parse_float=_number, parse_constant=_no_constant, object_pairs_hook=_object)


def stored(text: str | bytes) -> Any:
    """`loads` of JSON text a column holds: schemarel writes JSON data only, so `NaN` or `Infinity` there (another
    program's) is refused (NotJSON, a ValueError: the read names the value) rather than read as `NonFinite`."""
    try:
        return _STORED.decode(text.decode("utf-8") if isinstance(text, bytes) else text)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise NotJSON(str(exc)) from None


def _where(exc: json.JSONDecodeError) -> str:
    """The syntax error placed in the text as a reader of one line sees it: an NDJSON line arrives with its line
    end, where the decoder's "line 2 column 1" meant the end of the line (`--rejects` gives the line number)."""
    text = exc.doc.rstrip("\r\n")
    if "\n" in text or "\r" in text:  # text of several lines: the decoder's own words
        return str(exc)
    if exc.pos == 0 and text.startswith("\ufeff"):
        return "a byte order mark (U+FEFF) starts the line: JSON text has none"
    msg = exc.msg.removesuffix(" at")  # "Invalid control character at", "Unterminated string starting at"
    if exc.pos >= len(text):  # a control character there is the line end, inside a string
        return f"{'Unterminated string' if 'control' in msg else msg} at the end of the line"
    return f"{msg} at column {exc.pos + 1}"


def loads_checked(text: bytes) -> tuple[Any, bool]:
    """`loads`, and whether the value is surely plain JSON data, which `values.problems` finds nothing wrong with:
    the text holds no backslash (then no lone surrogate and no NUL: JSON text spells them only as `\\u` escapes,
    strict UTF-8 has no surrogates and JSON strings no raw control characters), fewer brackets than `MAX_DEPTH`,
    and gave no key twice and no NaN or Infinity. False says nothing (`problems` looks). Most lines of a load
    are such text; these scans cost a tenth of the walk of `problems`.

    Such text is parsed by msgspec, numbers with a fraction or an exponent read by `_number` as `loads` reads
    them, in a quarter of the time of the stdlib decoder `loads` drives (which calls back into Python for every
    object): msgspec keeps the last value of a key given twice silently, so `_unique_keys` counts the keys.
    Text msgspec refuses (a NaN, a fault `loads` words) is `loads`'s."""
    plain = b"\\" not in text and (len(text) < 2 * MAX_DEPTH or text.count(b"[") + text.count(b"{") < MAX_DEPTH)
    if plain:
        try:
            value = _FAST.decode(text)
        except (msgspec.DecodeError, ValueError):
            pass
        else:
            if _unique_keys(value, text):
                return value, True
    _parsing.odd = False
    value = loads(text)
    return value, plain and not _parsing.odd


_FAST = msgspec.json.Decoder(float_hook=_number)
_ENCODER = msgspec.json.Encoder()  # Decimals as strings: only the keys are counted
_WHITESPACE = b" \t\n\r"


def _unique_keys(value: Any, text: bytes) -> bool:
    """Whether `value`, msgspec's reading of `text` (which holds no backslash), has as many keys as `text` gives:
    then no key was given twice.

    Without a backslash no string holds a quote, so every `":` of the value written compactly ends a key; in
    `text` without its whitespace, every key ends in a `":` too (`"key" : value` included), and a string
    value beginning with whitespace and a colon adds one more (which says nothing: `loads` looks)."""
    return text.translate(None, _WHITESPACE).count(b'":') == _ENCODER.encode(value).count(b'":')


# datetimes and dataclasses are refused as simplejson refuses them (orjson would write them)
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _decimal(value: Any) -> orjson.Fragment:
    """A finite Decimal as its own text, which is what simplejson writes; anything else is simplejson's."""
    if value.__class__ is Decimal and value.is_finite():
        return orjson.Fragment(str(value))
    raise TypeError(value)


def dumps(value: Any) -> str:
    """Compact JSON text, non-ASCII characters as they are, Decimals with their digits; NaN is refused."""
    data = _orjson(value)
    if data is not None:
        return data.decode()
    return _simplejson(value)


def dumps_lines(values: Sequence[Any]) -> str:
    """`dumps` of each value, each followed by a newline, as one text (NDJSON lines).

    One orjson call writes them all with a line break between each two (`_LINE`): the array's text is then
    `[a,<LF>,b]`, and the 3 bytes `,<LF>,` occur nowhere else (JSON text holds no raw line break). About two
    thirds of the time of one call each, whose many short-lived buffers cost more than the writing itself.
    Where that text may not be simplejson's (see `_orjson`), each value is written by `dumps`."""
    if not values:
        return ""
    spaced: list[Any] = [_LINE] * (2 * len(values) - 1)
    spaced[::2] = values
    data = _orjson(spaced)
    if data is None:
        return "".join([dumps(value) + "\n" for value in values])
    return b"\n".join(data[1:-1].split(b",\n,")).decode() + "\n"


_LINE = orjson.Fragment(b"\n")


def _orjson(value: Any) -> bytes | None:
    """orjson's text of `value` where it is simplejson's (see the module docstring), else None."""
    try:
        data = orjson.dumps(value, default=_decimal, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError
        return None
    if b"null" in data and _unsure(value):  # a null may be a NaN orjson wrote: simplejson says which
        return None
    return data


def _simplejson(value: Any) -> str:
    text: str = simplejson.dumps(value, use_decimal=True, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    return text


# what orjson writes as simplejson does: a float among them is checked to be finite (documents read from the tables
# hold no floats; what a Python caller gives may)
_PLAIN = (str, int, type(None), Decimal, orjson.Fragment)


def _unsure(value: Any) -> bool:
    """Whether `value` holds a float that is not finite, or a type other than dicts, lists, tuples, strings,
    numbers, booleans and None (orjson writes some, an enum's NaN value as `null`: simplejson says what it makes
    of them). A walk of the value's containers (a few microseconds a document, against tens for simplejson)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, float):
            if not isfinite(item):
                return True
        elif not isinstance(item, _PLAIN):
            return True
    return False
