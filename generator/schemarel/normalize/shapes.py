"""Shapes: how one schema node is stored — a scalar column, an object's columns, an array's rows, or JSON.

`oneOf`/`anyOf` whose branches only validate (`required`, formats, patterns) do not change the shape, nor
does a branch that only says "or null". Branches that are all strings (or all numbers) make one column of
that type. Branches that are all objects become one object holding every branch's properties (none
required unless every branch requires it): told apart by a discriminator (OpenAPI `discriminator`, or one
property with a distinct `const` per branch) silently, else with a note. Anything else that can take
several shapes is stored as JSON, with a reason that `normalize` turns into a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from schemarel.normalize import maps
from schemarel.schema.loader import Catalog
from schemarel.schema.refs import Combined, Node, Src, dedupe, enum_types, merge, resolve

ShapeKind = Literal["scalar", "object", "array", "json", "never"]
_SHAPE_KEYS = frozenset({"enum", "prefixItems"})
MAX_UNION = 12  # more object branches than this (FHIR's "any resource") are a JSON value, not one wide table


@dataclass(frozen=True)
class Shape:
    kind: ShapeKind
    node: Node
    nullable: bool = False
    scalar: str | None = None  # the JSON type of a scalar
    reason: str | None = None  # why a value goes to JSON (None: the schema asks for free-form JSON)
    where: str = ""  # the pointer the reason is about
    json_props: dict[str, tuple[str, str]] = field(default_factory=dict)  # property → (reason, pointer)
    notes: tuple[tuple[str, str], ...] = ()  # (message, pointer): mapped, but a reader should know how


def classify(node: Node, catalog: Catalog) -> Shape:
    if node.never:
        return Shape("never", node)
    xsql = node.xsql
    if xsql.get("storage") == "json" or xsql.get("type") == "json":
        return Shape("json", node, nullable=True)
    if node.alternatives:
        return _alternatives(node, catalog)
    nullable = node.nullable
    types = _types(node)
    if types is None:
        return _json(node, "it has no type", node.src.ptr, nullable=True)
    concrete = set(types) - {"null"}
    nullable = nullable or "null" in types
    if {"integer", "number"} <= concrete:
        concrete.discard("integer")
    if not concrete:
        return Shape("json", node, nullable=True)
    if len(concrete) > 1:
        return _json(node, f"it may be any of {', '.join(sorted(concrete))}", node.src.ptr, True)
    (kind,) = concrete
    if kind == "object":
        return _object(node, nullable, catalog)
    if kind == "array":
        if "prefixItems" in node.kw:
            return _json(node, "a tuple (items by position) has no table form", node.kw["prefixItems"], nullable)
        return Shape("array", node, nullable)
    shape_change = _conditional_change(node, catalog)
    if shape_change:
        return _json(node, "`if`/`then`/`else` changes its type", shape_change, nullable)
    return Shape("scalar", node, nullable, scalar=kind)


def _types(node: Node) -> frozenset[str] | None:
    if node.types is not None:
        return node.types
    if isinstance(node.kw.get("enum"), list):
        return enum_types(node.kw["enum"])
    # without `type`, a validator lets null through where the keywords describe an object or an array
    if node.props or node.maps:
        return frozenset({"object", "null"})
    if node.items or "prefixItems" in node.kw:
        return frozenset({"array", "null"})
    return None


def _json(node: Node, reason: str, where: str, nullable: bool) -> Shape:
    return Shape("json", node, nullable, reason=reason, where=where)


def _object(node: Node, nullable: bool, catalog: Catalog) -> Shape:
    if not node.props:
        if node.maps:
            return _map(node, nullable, catalog)
        return Shape("json", node, nullable=True)  # a free-form object, as the schema says
    json_props: dict[str, tuple[str, str]] = {}
    for cond in node.conditionals:
        for branch in ("then", "else"):
            sub = cond.raw.get(branch)
            if isinstance(sub, dict):
                for name in _shaped_props(resolve([cond.at(sub, branch)], catalog)):
                    json_props.setdefault(name, ("`if`/`then`/`else` gives it a shape per case", cond.ptr + "/if"))
    return Shape("object", node, nullable, json_props=json_props)


def _map(node: Node, nullable: bool, catalog: Catalog) -> Shape:
    """An object that is only a map: an object (its keys are rows of a map table) unless `maps` says why not."""
    found = maps.plan(node, lambda srcs: resolve(srcs, catalog), lambda sub: classify(sub, catalog))
    if found.value is not None:
        return Shape("object", node, nullable)
    if found.reason:
        return _json(node, found.reason, found.where or node.maps[0], True)
    return Shape("json", node, nullable=True)  # its values are free-form


def _shaped_props(node: Node) -> list[str]:
    names = []
    for name, srcs in node.props.items():
        if any(isinstance(s.raw, dict) and (set(s.raw) & {"type", "$ref", "properties", "items", "enum", "const",
                                                          "oneOf", "anyOf", "allOf"}) for s in srcs):  # fmt: skip
            names.append(name)
    return names


def _conditional_change(node: Node, catalog: Catalog) -> str:
    for cond in node.conditionals:
        for branch in ("then", "else"):
            sub = cond.raw.get(branch)
            if isinstance(sub, dict) and not _neutral(resolve([cond.at(sub, branch)], catalog)):
                return cond.ptr + "/if"
    return ""


def _neutral(node: Node) -> bool:
    """A branch that only validates: it changes nothing about how a value is stored."""
    return (
        node.types is None
        and not node.props
        and not node.items
        and not node.alternatives
        and not node.maps
        and not (set(node.kw) & _SHAPE_KEYS)
        and node.kw.get("nullable") is not True
        and not node.never
    )


def _alternatives(node: Node, catalog: Catalog) -> Shape:
    keyword, group_src, branch_srcs = node.alternatives[0]
    base = _without_group(node)
    branches = [resolve([s], catalog) for s in branch_srcs]
    branches = [b for b in branches if not b.never]
    if all(_neutral(b) for b in branches):
        return classify(base, catalog)
    nullable = False
    shaped, objects = [], []
    for b in branches:
        if b.types == frozenset({"null"}) or (b.kw.get("enum") == [None]):
            nullable = True
        elif not _neutral(b):
            shaped.append(merge(base, b))
            objects.append(b)
        else:
            shaped.append(base)
    if not shaped:
        return Shape("json", node, nullable=True)
    shapes = [classify(s, catalog) for s in shaped]
    nullable = nullable or any(s.nullable for s in shapes)
    if len(shapes) == 1:
        return _with_nullable(shapes[0], nullable)
    kinds = {s.kind for s in shapes}
    if kinds == {"scalar"}:
        scalars = {"number" if s.scalar == "integer" else s.scalar for s in shapes}
        if len(scalars) == 1:
            return _common_scalar(base, shapes, nullable)
    if kinds == {"object"} and len(objects) == len(shaped) and len(objects) <= MAX_UNION:
        union, told_apart = union_object(base, objects, catalog)
        shape = _with_nullable(classify(union, catalog), nullable)
        if told_apart or shape.kind != "object":
            return shape
        note = f"`{keyword}` of objects without a discriminator: one table holds every branch's properties"
        return replace(shape, notes=(*shape.notes, (note, group_src.ptr)))
    described = ", ".join(sorted({s.scalar or s.kind for s in shapes}))
    return _json(node, f"`{keyword}` allows different shapes ({described})", group_src.ptr, True)


def _without_group(node: Node) -> Node:
    result = merge(node)
    result.alternatives = list(node.alternatives[1:])
    return result


def _with_nullable(shape: Shape, nullable: bool) -> Shape:
    if shape.nullable or not nullable:
        return shape
    return replace(shape, nullable=True)


def _common_scalar(base: Node, shapes: list[Shape], nullable: bool) -> Shape:
    """Branches of one scalar type: keep only what every branch says (an enum only if each has one)."""
    node = merge(base)
    node.alternatives = []
    kws = [s.node.kw for s in shapes]
    keys = set().union(*kws)
    for key in keys:
        values = [kw.get(key) for kw in kws]
        lists = [v for v in values if isinstance(v, list)]
        if key == "enum" and len(lists) == len(values):
            node.kw[key] = dedupe(v for vs in lists for v in vs)
        elif all(v == values[0] for v in values) and values[0] is not None:
            node.kw[key] = values[0]
        else:
            node.kw.pop(key, None)
    scalar = "number" if len({s.scalar for s in shapes}) > 1 else shapes[0].scalar
    node.types = frozenset({scalar or "string"})
    return Shape("scalar", node, nullable, scalar=scalar)


def union_object(base: Node, branches: list[Node], catalog: Catalog) -> tuple[Node, bool]:
    """One object with every branch's properties; and whether a discriminator says which branch a value is."""
    explicit = base.kw.get("discriminator")
    name = explicit.get("propertyName") if isinstance(explicit, dict) else None
    if not isinstance(name, str):
        name = _const_discriminator(branches, catalog)
    node = merge(base)
    node.alternatives = []
    node.types = frozenset({"object"})  # each branch is an object; "or null" is the caller's to add
    names: list[str] = []
    for b in branches:
        names += [n for n in b.props if n not in names]
    for prop in names:
        defined = [_combined("allOf", b.props[prop]) for b in branches if prop in b.props]
        merged = defined if len(defined) == 1 else [_combined("anyOf", defined)]
        node.props[prop] = node.props.get(prop, []) + merged
    node.required = base.required | set.intersection(*(b.required for b in branches))
    node.closed = base.closed or all(b.closed for b in branches)
    for b in branches:
        node.maps += b.maps
    return node, name is not None


def _combined(kind: Any, srcs: list[Src]) -> Src:
    first = srcs[0]
    return Src(Combined(kind, tuple(srcs)), first.resolver, first.base, first.file, first.ptr)


def _const_discriminator(branches: list[Node], catalog: Catalog) -> str | None:
    """A property every branch gives one distinct string value (`const`, or an enum of one)."""
    common = set(branches[0].props)
    for b in branches[1:]:
        common &= set(b.props)
    for name in sorted(common):
        values = [resolve(b.props[name], catalog).kw.get("enum") for b in branches]
        singles = [v[0] for v in values if isinstance(v, list) and len(v) == 1 and isinstance(v[0], str)]
        if len(singles) == len(branches) and len(set(singles)) == len(singles):
            return name
    return None
