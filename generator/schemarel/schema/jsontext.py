"""Parsed JSON that every later stage can hold (bounded nesting, text any encoding can write, finite numbers),
and walks over it (`holds`, `locate`).

Checked and walked without recursion, so that a hostile file is refused with a JSON pointer instead of a
RecursionError.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from schemarel.errors import SchemaError, pointer

DEPTH_MESSAGE = "the JSON nests deeper than {limit} levels of objects and arrays"
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],]')


def printable(text: str) -> str:
    """`text` with lone surrogates spelled as escapes: an undecodable file name's bytes as `\\xff`, a JSON
    `\\ud800` escape as `\\ud800`."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def check_values(document: Any, file: str, max_depth: int) -> None:
    """Refuse nesting past `max_depth`, strings with lone surrogates and numbers that overflowed to infinity."""
    # (value, depth, parent entry, key): the pointer is built only for the value refused
    stack: list[tuple[Any, int, Any, Any]] = [(document, 1, None, None)]
    while stack:
        entry = stack.pop()
        value, depth = entry[0], entry[1]
        problem = _problem(value)
        if problem:
            raise SchemaError(file, _pointer(entry), problem)
        if isinstance(value, dict | list):
            if depth > max_depth:
                raise SchemaError(file, _pointer(entry), DEPTH_MESSAGE.format(limit=max_depth))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and _problem(key):
                    raise SchemaError(file, _pointer((None, 0, entry, key)), f"a property name: {_problem(key)}")
                stack.append((item, depth + 1, entry, key))


def _problem(value: Any) -> str | None:
    if isinstance(value, str) and not value.isascii() and printable(value) != value:
        return "the text holds a lone surrogate (an unpaired \\ud800-\\udfff escape), which is not a character"
    if isinstance(value, float) and not math.isfinite(value):
        return "the number is beyond the range of a double-precision number (about ±1.8e308)"
    return None


def _pointer(entry: tuple[Any, int, Any, Any]) -> str:
    parts = []
    while entry[2] is not None:
        parts.append(printable(str(entry[3])))
        entry = entry[2]
    return pointer(*reversed(parts))


def too_deep(text: str, file: str, max_depth: int) -> SchemaError:
    """The error naming the first container of `text` nested deeper than `max_depth`."""
    return SchemaError(file, _deep_pointer(text, max_depth), DEPTH_MESSAGE.format(limit=max_depth))


def _deep_pointer(text: str, max_depth: int) -> str:
    # each open container: [is an object, its current key or index, expecting a key]
    frames: list[list[Any]] = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in "{[":
            frames.append([token == "{", 0, token == "{"])
            if len(frames) > max_depth:
                return pointer(*(printable(str(f[1])) for f in frames[:-1]))
        elif token in "}]":
            if frames:
                frames.pop()
        elif token == ",":
            if frames and frames[-1][0]:
                frames[-1][2] = True
            elif frames:
                frames[-1][1] += 1
        elif frames and frames[-1][0] and frames[-1][2]:  # a string where a key is expected: the key
            try:
                frames[-1][1] = json.loads(token)
            except ValueError:
                frames[-1][1] = token[1:-1]
            frames[-1][2] = False
    return "#"


def holds(value: Any, test: Callable[[dict[str, Any]], bool]) -> bool:
    """Whether any object in the parsed JSON `value` passes `test` (walked without recursion)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if test(node):
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def locate(document: Any, target: Any) -> str:
    """The pointer of the first place (document order) holding `target` itself (the very object, not an equal
    one: equal values elsewhere may be stored in other columns); the root's `#` when none does. Iterative: a
    document may be nested thousands of levels deep."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(document, ())]
    while stack:
        node, path = stack.pop()
        if node is target:
            return pointer(*path)
        if isinstance(node, dict):
            stack.extend((v, (*path, k)) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((v, (*path, i)) for i, v in reversed(list(enumerate(node))))
    return "#"
