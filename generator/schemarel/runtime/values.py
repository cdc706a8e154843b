"""What no database can store, found before anything is written: each problem with the pointer of its value.

One pass over the document, without recursion (a document may be nested thousands of levels deep): keys given
twice, NaN and infinities, lone surrogates (not Unicode: no UTF-8 column holds them), values that are not JSON
data, nesting deeper than `MAX_DEPTH`; and, where the database refuses it, the NUL character (PostgreSQL).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from schemarel.errors import Violation, pointer
from schemarel.runtime.exactjson import MAX_DEPTH, Duplicated, NonFinite

MARIADB_JSON_DEPTH = 31  # MariaDB's json_valid() refuses a value nested 32 levels deep


@dataclass
class Problems:
    """`invalid`: not JSON data (the document is at fault); `refused`: JSON the database cannot hold."""

    invalid: list[Violation] = field(default_factory=list)
    refused: list[Violation] = field(default_factory=list)


def problems(document: Any, *, nul_ok: bool = True) -> Problems:
    if _clean(document, nul_ok):
        return Problems()
    return _found(document, nul_ok)


def _clean(document: Any, nul_ok: bool) -> bool:
    """Whether `problems` would find nothing, by a pass that builds no pointers (most documents are clean):
    False at the first thing that may be a problem, which `_found` then looks at closely. Anything but plain
    JSON types (a subclass such as `Duplicated`, `NonFinite`) is left to `_found`. The common text (ASCII, no
    NUL) is checked inline: this pass runs on every document written, and a call per string doubled its cost."""
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        node, level = stack.pop()
        kind = node.__class__
        if kind is dict:
            for key in node:
                if key.__class__ is not str:
                    return False
                if not (key.isascii() and (nul_ok or "\x00" not in key)) and not _plain_text(key, nul_ok):
                    return False
            items: Any = node.values()
        elif kind is list:
            items = node
        else:
            return _clean_scalar(node, nul_ok)
        if level >= MAX_DEPTH and node:
            return False
        for item in items:
            kind = item.__class__
            if kind is str:
                if not (item.isascii() and (nul_ok or "\x00" not in item)) and not _plain_text(item, nul_ok):
                    return False
            elif kind is dict or kind is list:
                stack.append((item, level + 1))
            elif not (item is None or kind is bool or kind is int or _clean_scalar(item, nul_ok)):
                return False
    return True


def _plain_text(text: str, nul_ok: bool) -> bool:
    if not nul_ok and "\x00" in text:
        return False
    return text.isascii() or not _surrogates(text)


def _surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _clean_scalar(value: Any, nul_ok: bool) -> bool:
    kind = value.__class__
    if kind is str:
        return _plain_text(value, nul_ok)
    if kind is float:
        return math.isfinite(value)
    if kind is Decimal:
        return bool(value.is_finite())
    return value is None or kind is bool or kind is int


def _found(document: Any, nul_ok: bool) -> Problems:
    """Every problem, with its pointer."""
    found = Problems()
    stack: list[tuple[Any, tuple[str, ...]]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            _text(value, path, "", nul_ok, found)
        elif isinstance(value, dict):
            if len(path) >= MAX_DEPTH and value:
                found.invalid.append(Violation(pointer(*path), f"nested deeper than {MAX_DEPTH} levels"))
                continue
            if isinstance(value, Duplicated):
                found.invalid += [Violation(pointer(*path, k), f"key {k!r} is given twice") for k in value.twice]
            for key, item in value.items():
                if not isinstance(key, str):
                    found.invalid.append(Violation(pointer(*path), f"not JSON data: key {key!r} is not a string"))
                    continue
                _text(key, (*path, key), "the key ", nul_ok, found)
                stack.append((item, (*path, key)))
        elif isinstance(value, list):
            if len(path) >= MAX_DEPTH and value:
                found.invalid.append(Violation(pointer(*path), f"nested deeper than {MAX_DEPTH} levels"))
                continue
            stack += [(item, (*path, str(i))) for i, item in enumerate(value)]
        elif isinstance(value, NonFinite):
            found.invalid.append(Violation(pointer(*path), f"{value.text} is not a JSON number"))
        elif _non_finite(value):
            found.invalid.append(Violation(pointer(*path), f"{value} is not a JSON number"))
        elif not (value is None or isinstance(value, bool | int | float | Decimal)):
            found.invalid.append(Violation(pointer(*path), f"not JSON data: a {type(value).__name__}"))
    return found


def _text(text: str, path: tuple[str, ...], what: str, nul_ok: bool, found: Problems) -> None:
    if not nul_ok and "\x00" in text:
        found.refused.append(Violation(pointer(*path), f"{what}holds a NUL character, which the database refuses"))
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        message = f"{what}holds a lone surrogate (U+{code:04X} at character {exc.start}): not Unicode text"
        found.invalid.append(Violation(pointer(*path), message))


def _non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    return isinstance(value, Decimal) and not value.is_finite()


def depth(value: Any) -> int:
    """Levels of arrays and objects (a scalar is 0, `[]` is 1), counted without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            deepest = max(deepest, level)
            stack += [(v, level + 1) for v in node.values()]
        elif isinstance(node, list):
            deepest = max(deepest, level)
            stack += [(v, level + 1) for v in node]
    return deepest
