"""Where a schema's `default`s are filled in: absent required properties of objects a document holds.

One rule for the Store (which fills them in before validating, wherever the value is stored: columns or JSON)
and for the typed documents (which type such a property `NotRequired`): an object is reached through
`properties`, array `items`, `additionalProperties`, a merged `allOf` and this file's `$ref`s, never inside a
`oneOf`/`anyOf` branch (which branch an object is cannot be told before it is valid) nor a `const`/`enum`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from schemarel.schema import fragments
from schemarel.schema.jsontext import holds

_NO_DEFAULT: Any = object()
_MERGEABLE = frozenset({
    "type", "properties", "required", "allOf", "description", "title", "additionalProperties", "$schema", "$id",
    "$defs", "definitions", "x-sql",
})  # fmt: skip
_HOPS = 64  # a chain of `$ref`s to `$ref`s longer than this is a loop: no default through it


def local_target(contents: Any, ref: str) -> Any:
    """The node a `$ref` within this file names (None where it names none, or another file)."""
    if not ref.startswith("#") or not (ref == "#" or ref.startswith("#/")):  # another file, or an anchor
        return None
    try:
        return fragments.at(contents, ref[1:])
    except fragments.Nowhere:
        return None


def resolved(node: Any, contents: Any) -> Any:
    """`node` with its chain of local `$ref`s followed (None where one leads out of the file or loops)."""
    for _ in range(_HOPS):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        node = local_target(contents, node["$ref"])
    return None


def default_of(node: Any, contents: Any) -> Any:
    """The `default` of a property's schema (through its `$ref`s), or `_NO_DEFAULT`."""
    for _ in range(_HOPS):
        if not isinstance(node, dict):
            return _NO_DEFAULT
        if "default" in node:
            return node["default"]
        if not isinstance(node.get("$ref"), str):
            return _NO_DEFAULT
        node = local_target(contents, node["$ref"])
    return _NO_DEFAULT


def has_default(node: Any, contents: Any) -> bool:
    return default_of(node, contents) is not _NO_DEFAULT


def merged(node: dict[str, Any]) -> dict[str, Any] | None:
    """`allOf` of objects as one object (properties and `required` merged), or None where it is more than that."""
    parts = [node, *node["allOf"]]
    if not all(isinstance(p, dict) and set(p) <= _MERGEABLE for p in parts):
        return None
    props: dict[str, Any] = {}
    required: list[str] = []
    for p in parts:
        props.update(p.get("properties") or {})
        required += p.get("required") or []
    return {"type": "object", "properties": props, "required": required, "description": node.get("description", "")}


@dataclass(eq=False)
class Defaults:
    """The defaults of one kind of node: its required properties' (when it is an object), and where below."""

    gaps: list[tuple[str, Any]] = field(default_factory=list)  # required property → its default
    props: dict[str, Defaults] = field(default_factory=dict)
    items: Defaults | None = None  # of each item, when the node is an array
    values: Defaults | None = None  # of each value, when it is an object with no `properties` (a map)

    def children(self) -> list[Defaults]:
        return [*self.props.values(), *(d for d in (self.items, self.values) if d is not None)]

    def missing(self, document: Any) -> bool:
        """Whether `document` lacks a default this fills in."""
        return any(True for _ in self._walk(document, fill=False))

    def fill(self, document: Any) -> None:
        """Fill the defaults into `document`, in place (outer ones first: a filled default is filled into too)."""
        for _ in self._walk(document, fill=True):
            pass

    def fill_below(self, properties: dict[str, Any]) -> None:
        """Fill the defaults inside the given root properties' values (not the root's own gaps: a patch)."""
        for key, value in properties.items():
            below = self.props.get(key)
            if below is not None:
                below.fill(value)

    def _walk(self, document: Any, fill: bool) -> Any:
        """Yields each gap found (filled when `fill`); no recursion: a document may be deep.

        A filled default is filled into too, but never by a plan that filled it or a default around it: a
        recursive schema whose required property defaults to an object of its own kind (`{"next": {"$ref": "#",
        "default": {}}}`) would otherwise fill without end. Each value carries the plans that filled around it."""
        stack: list[tuple[Defaults, Any, frozenset[int]]] = [(self, document, frozenset())]
        while stack:
            plan, value, filling = stack.pop()
            if isinstance(value, dict):
                filled = set()
                for key, default in plan.gaps if id(plan) not in filling else ():
                    if key not in value:
                        yield key
                        if fill:
                            value[key] = copy.deepcopy(default)
                            filled.add(key)
                inner = filling | {id(plan)}
                stack += [
                    (sub, value[key], inner if key in filled else filling)
                    for key, sub in plan.props.items()
                    if key in value
                ]
                if plan.values is not None:
                    stack += [(plan.values, v, filling) for v in value.values()]
            elif isinstance(value, list) and plan.items is not None:
                stack += [(plan.items, v, filling) for v in value]


def defaults(contents: Any) -> Defaults | None:
    """The defaults of a schema's documents, or None where it fills none in."""
    if not mentions_default(contents):
        return None
    built = _Builder(contents)
    root = built.of(contents)
    if root is None:
        return None
    live = _live(built.plans)
    if root not in live:
        return None
    for plan in built.plans:  # only the ways that lead to a default are walked
        plan.props = {k: v for k, v in plan.props.items() if v in live}
        plan.items = plan.items if plan.items in live else None
        plan.values = plan.values if plan.values in live else None
    return root


def mentions_default(contents: Any) -> bool:
    """Whether any object of the schema holds a `default` key: most schemas have none, and are then not planned
    (a schema of 500 definitions took 4 % of `generate` to plan, for nothing)."""
    return holds(contents, lambda node: "default" in node)


class Reach:
    """Whether a default is filled in at or below a node a document holds outside any branch (the typed
    documents ask it of each `$ref` met inside one): built once per node, however many times asked."""

    def __init__(self, contents: Any) -> None:
        self.built = _Builder(contents)
        self.known: dict[Defaults, bool] = {}
        self.any = mentions_default(contents)

    def fills_in(self, node: Any) -> bool:
        if not self.any:
            return False
        plan = self.built.of(node)
        if plan is None:
            return False
        if plan not in self.known:  # a plan's children are built with it: its answer never changes
            live = _live(self.built.plans)
            self.known.update((p, p in live) for p in self.built.plans)
        return self.known[plan]


def _live(plans: list[Defaults]) -> set[Defaults]:
    """The plans with a default at or below them (a recursive schema's plans refer to each other)."""
    live = {p for p in plans if p.gaps}
    grown = True
    while grown:
        more = {p for p in plans if p not in live and any(c in live for c in p.children())}
        live |= more
        grown = bool(more)
    return live


class _Builder:
    """The `Defaults` of each node, built once per node (a recursive `$ref` refers to the one being built)."""

    def __init__(self, contents: Any) -> None:
        self.contents = contents
        self.memo: dict[int, Defaults | None] = {}
        self.plans: list[Defaults] = []

    def of(self, node: Any) -> Defaults | None:
        node = resolved(node, self.contents)
        if not isinstance(node, dict) or not node or "const" in node or isinstance(node.get("enum"), list):
            return None
        if any(isinstance(node.get(c), list) for c in ("oneOf", "anyOf")):
            return None
        key = id(node)
        if key in self.memo:
            return self.memo[key]
        plan = Defaults()
        self.memo[key] = plan
        self.plans.append(plan)
        shape = node
        if isinstance(node.get("allOf"), list):
            shape = merged(node) or {}
        kinds = shape.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if "object" in kinds or (kinds == [None] and "properties" in shape):
            self._object(shape, plan)
        if "array" in kinds and isinstance(shape.get("items"), dict):
            plan.items = self.of(shape["items"])
        return plan

    def _object(self, node: dict[str, Any], plan: Defaults) -> None:
        props = node.get("properties")
        if not isinstance(props, dict) or not props:
            extra = node.get("additionalProperties")
            plan.values = self.of(extra) if isinstance(extra, dict) and extra else None
            return
        required = node.get("required") or ()
        for key, sub in props.items():
            default = default_of(sub, self.contents)
            if key in required and default is not _NO_DEFAULT:
                plan.gaps.append((key, default))
            below = self.of(sub)
            if below is not None:
                plan.props[key] = below
