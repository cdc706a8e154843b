"""Maps: an object's keys that no property names (`additionalProperties`, `patternProperties` with a value
schema) become rows of a child table, one per key, with the value's own columns and tables.

`plan` decides from the schema alone: which value schemas count (a free-form value such as `{}` stays an
extra property in JSON), whether they share one shape (several patterns → the union of their schemas; a
union `classify` stores as JSON is no table), which keys the table takes (every unnamed key, or those matching
the patterns when other keys may appear too) and what the key column may hold (`propertyNames`, or the
patterns when no other key is allowed) — as CHECKs where `sql.checks` can express them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from schemarel.schema.refs import UNTYPED, Combined, Node, Src, inferred, merge
from schemarel.sql.regex import to_python


class Shape(Protocol):
    """What `plan` reads of `shapes.Shape` (shapes asks `plan` about objects that are only a map)."""

    @property
    def kind(self) -> str: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def where(self) -> str: ...


KEY_COLUMNS = ("key", "map_key", "entry_key")  # the key column's name: the first no value property takes
_KEY_KEYWORDS = ("pattern", "minLength", "maxLength", "enum")  # what a key column keeps of `propertyNames`


@dataclass(frozen=True)
class MapPlan:
    """How the unnamed keys of one object node are stored."""

    value: Node | None  # the values' schema (None: no map table; extras stay JSON)
    value_src: Src | None
    key: Node | None  # the key column's schema (a string)
    patterns: tuple[str, ...]  # Python regexes of the keys the table takes; () = every unnamed key
    reason: str | None = None  # why there is no table although the schema describes a map
    where: str = ""

    @property
    def table(self) -> bool:
        return self.value is not None


def pure(node: Node) -> bool:
    """An object that is nothing but a map (no named properties): stored by its map table alone."""
    return not node.props and bool(node.map_values)


_PLANNING: set[frozenset[str]] = set()  # maps being planned: a map whose values are that map again


def plan(node: Node, resolve: Callable[[list[Src]], Node], classify: Callable[[Node], Shape]) -> MapPlan:
    """The map table of `node`'s unnamed keys, or why there is none."""
    identity = frozenset(node.identity)
    if identity and identity in _PLANNING:  # asked again while classifying its own values: a table, as far as
        return MapPlan(node, None, None, ())  # shapes go (the walk stores the recursion as JSON)
    _PLANNING.add(identity)
    try:
        return _plan(node, resolve, classify)
    finally:
        _PLANNING.discard(identity)


def _plan(node: Node, resolve: Callable[[list[Src]], Node], classify: Callable[[Node], Shape]) -> MapPlan:
    typed: list[tuple[str | None, Src]] = []
    free: list[Src] = []  # keys whose values may be anything: those are extras (JSON), not rows
    for regex, src in node.map_values:
        sub = resolve([src])
        shape = classify(sub)
        if shape.kind == "never":
            continue
        if shape.kind == "json" and sub.types is None and not (sub.alternatives or sub.props or sub.items):
            free.append(src)
            continue
        typed.append((regex, src))
    if not typed:
        return MapPlan(
            None, None, None, (), "a map whose values have no type" if free else None, free[0].ptr if free else ""
        )
    every = any(regex is None for regex, _ in typed) or (node.closed and not free)
    if every and free:  # a table of every unnamed key would take those of a pattern whose values may be anything
        why = "keys of a pattern whose values may be anything beside keys whose values are typed"
        return MapPlan(None, None, None, (), f"a map: {why}", free[0].ptr)
    patterns: list[str] = []
    if not every:
        for regex, src in typed:
            translated = to_python(regex) if regex is not None else None
            if translated is None:
                why = f"pattern {regex!r} has no exact Python equivalent, so keys cannot be told apart"
                return MapPlan(None, None, None, (), why, src.ptr)
            patterns.append(translated)
    value_src = _union([src for _, src in typed])
    value = resolve([value_src])
    shape = classify(value)
    if shape.kind == "array" and inferred(value):  # as an array's items (walk.array_rows)
        return MapPlan(None, None, None, (), f"a map whose values {UNTYPED.format(shape.kind)}", typed[0][1].ptr)
    if shape.kind in ("json", "never"):
        several = len({_identity(s) for _, s in typed}) > 1
        why = "its values take different shapes" if several else (shape.reason or "its values have no type")
        return MapPlan(None, None, None, (), f"a map: {why}", shape.where or typed[0][1].ptr)
    return MapPlan(value, value_src, _key_node(node, typed, every, resolve), tuple(patterns))


def _identity(src: Src) -> tuple[str, str]:
    return src.base, json.dumps(src.raw, sort_keys=True, default=repr)


def _union(srcs: list[Src]) -> Src:
    """One value schema for every pattern's values: the schema itself when they say the same, else anyOf."""
    distinct: dict[tuple[str, str], Src] = {}
    for src in srcs:
        distinct.setdefault(_identity(src), src)
    if len(distinct) == 1:
        return srcs[0]
    first = srcs[0]
    return Src(Combined("anyOf", tuple(distinct.values())), first.resolver, first.base, first.file, first.ptr)


def _key_node(
    node: Node, typed: list[tuple[str | None, Src]], every: bool, resolve: Callable[[list[Src]], Node]
) -> Node:
    """The key column's schema: `propertyNames`' string constraints; else, where only keys matching the
    patterns are allowed, those patterns (one alternation)."""
    key = resolve(node.key_names) if node.key_names else Node(typed[0][1])
    result = merge(key) if node.key_names else key
    result.kw = {k: v for k, v in key.kw.items() if k in _KEY_KEYWORDS and _string_keyword(k, v)}
    regexes = [regex for regex, _ in typed if regex is not None]
    only_patterns = node.closed and len(regexes) == len(typed)
    if "pattern" not in result.kw and only_patterns and every:
        result.kw["pattern"] = regexes[0] if len(regexes) == 1 else "|".join(f"(?:{r})" for r in regexes)
    return result


def _string_keyword(key: str, value: Any) -> bool:
    if key == "enum":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if key == "pattern":
        return isinstance(value, str)
    return isinstance(value, int) and not isinstance(value, bool)
