"""Shapes: how one schema node is stored — a scalar column, an object's columns, an array's rows, or JSON.

`oneOf`/`anyOf` whose branches only validate (`required`, formats, patterns) do not change the shape, nor
does a branch that only says "or null". Branches that are all strings (or all numbers) make one column of
that type; scalars of several JSON types (`string | integer`, `type: [...]`) a "union": one column per type
(see `unions`). Branches that are all objects become one object holding every branch's properties (none
required unless every branch requires it): told apart by a discriminator (OpenAPI `discriminator`, or one
property with a distinct `const` per branch) silently, else with a note. The branches of `if`/`then`/`else`
and `dependentSchemas` add their properties to the object as optional ones. Anything else that can take
several shapes is stored as JSON, with a reason that `normalize` turns into a warning.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Literal

from schemarel.normalize import maps, unions
from schemarel.schema.loader import Catalog
from schemarel.schema.refs import Node, Src, enum_types, merge, resolve

ShapeKind = Literal["scalar", "union", "object", "array", "json", "never"]
_SHAPE_KEYS = frozenset({"enum", "prefixItems"})
# More object branches, or more properties in all, than this (FHIR's "any resource": 140 resources) are a JSON
# value, not one table as wide as every branch together
MAX_UNION = 32
MAX_UNION_PROPERTIES = 150
# Set while a union's property is classified only to say what it is (its kind, type, nullability): that
# classification leaves out its own notes and cases, whose properties, in a recursive schema, lead back to
# the union (OpenAPI's `Schema | Reference`, whose `items` is `Schema | Reference` again) without end
_DESCRIBING: ContextVar[bool] = ContextVar("describing", default=False)


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
    branches: tuple[Shape, ...] = ()  # a union, or an object that may be a scalar: one scalar shape per column
    discriminator: str | None = None  # an object union's property telling branches apart (const per branch)
    cases: tuple[tuple[str, frozenset[str]], ...] = ()  # per discriminator value: the properties it requires


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
        kinds = unions.scalar_kinds(concrete)
        if kinds is None:
            return _json(node, f"it may be any of {', '.join(sorted(concrete))}", node.src.ptr, True)
        shapes = [Shape("scalar", unions.typed_branch(node, k), scalar=k) for k in kinds]
        return _union(node, shapes, nullable)
    (kind,) = concrete
    if kind == "object":
        return _object(node, nullable, catalog)
    if kind == "array":
        if "prefixItems" in node.kw:
            return _json(node, "a tuple (items by position) has no table form", node.kw["prefixItems"], nullable)
        return Shape("array", node, nullable)
    changing = _conditional_change(node, catalog)
    if changing is not None:  # the value is one of the cases: a union of them
        alt = merge(node)
        alt.conditionals = []
        alt.alternatives = [("anyOf", changing, [changing.at(changing.raw.get(k, True), k) for k in ("then", "else")])]
        return _alternatives(alt, catalog)
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
    if node.conditionals:  # each case's properties are optional properties of the object
        merged = merge(node)
        merged.conditionals = []
        for name, srcs in unions.conditional_props(node, catalog).items():
            merged.props[name] = merged.props.get(name, []) + srcs
        node = merged
    return Shape("object", node, nullable)


def _map(node: Node, nullable: bool, catalog: Catalog) -> Shape:
    """An object that is only a map: an object (its keys are rows of a map table) unless `maps` says why not."""
    found = maps.plan(node, lambda srcs: resolve(srcs, catalog), lambda sub: classify(sub, catalog))
    if found.value is not None:
        return Shape("object", node, nullable)
    if found.reason:
        return _json(node, found.reason, found.where or node.maps[0], True)
    return Shape("json", node, nullable=True)  # its values are free-form


def _conditional_change(node: Node, catalog: Catalog) -> Src | None:
    """The first conditional whose cases store a scalar differently (None: they only validate)."""
    for cond in node.conditionals:
        for branch in ("then", "else"):
            sub = cond.raw.get(branch)
            if isinstance(sub, dict) and not _neutral(resolve([cond.at(sub, branch)], catalog)):
                return cond
    return None


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
    shaped = [s for s in shaped if s.types != frozenset()]  # a branch the rest contradicts: no value is it
    if not shaped:
        return Shape("json", node, nullable=True)
    shapes = [classify(s, catalog) for s in shaped]
    nullable = nullable or any(s.nullable for s in shapes)
    if len(shapes) == 1:
        return _with_nullable(shapes[0], nullable)
    kinds = {s.kind for s in shapes}
    if kinds <= {"scalar", "union"}:
        return _union(base, [b for s in shapes for b in (s.branches or (s,))], nullable)
    objects_only = [s for s in shapes if s.kind not in ("scalar", "union")]
    if len(objects_only) == 1 and objects_only[0].kind == "object" and not objects_only[0].branches:
        # a scalar or an object (an id, or the object it names): the scalar's columns, and the object's own table
        scalars = _union(base, [b for s in shapes if s.kind != "object" for b in (s.branches or (s,))], False)
        return replace(objects_only[0], nullable=nullable, branches=scalars.branches or (scalars,))
    free = [s for s in shapes if s.kind == "json" and s.reason is None and s.node.types == frozenset({"object"})]
    if "object" in kinds and len(free) + sum(s.kind == "object" for s in shapes) == len(shapes) == len(objects):
        # a free-form object branch (`{"type": "object"}`) adds no column: its properties are the row's extras
        shape = union_object(base, objects, catalog, nullable) if len(objects) <= MAX_UNION else None
        if shape is None:
            reason = f"`{keyword}` of {len(objects)} objects: more than {MAX_UNION} branches or {MAX_UNION_PROPERTIES} "
            return _json(node, reason + "properties in all (one table as wide as all of them)", group_src.ptr, True)
        if shape.discriminator is not None or shape.kind != "object":
            return shape
        note = f"`{keyword}` of objects without a discriminator: one table holds every branch's properties"
        return replace(shape, notes=(*shape.notes, (note, group_src.ptr)))
    if kinds == {"array"}:
        array = _array_of_any_items(base, shaped, catalog, nullable)
        if array is not None:
            return array
    described = ", ".join(sorted({s.scalar or s.kind for s in shapes}))
    return _json(node, f"`{keyword}` allows different shapes ({described})", group_src.ptr, True)


def _array_of_any_items(base: Node, arrays: list[Node], catalog: Catalog, nullable: bool) -> Shape | None:
    """Arrays as branches (a conditional case narrowing the object's array, GeoJSON's `bbox` in every geometry):
    one array whose item is any branch's item, when that item has a relational form (None: it has not)."""
    if any(not a.items or "prefixItems" in a.kw for a in arrays):
        return None
    items = unions.combined("anyOf", [unions.combined("allOf", a.items) for a in arrays])
    if classify(resolve([items], catalog), catalog).kind == "json":
        return None
    array = merge(base)
    array.alternatives, array.items, array.types = [], [items], frozenset({"array"})
    return Shape("array", array, nullable)


def items_of(node: Node, shape: Shape) -> list[Src]:
    """The `items` of a value classified as `shape`: an array's are its shape's (a union of arrays has no
    `items` of its own, its shape's node holds the item that is any branch's item), others' the node's."""
    return shape.node.items if shape.kind == "array" else node.items


def _union(node: Node, shapes: list[Shape], nullable: bool) -> Shape:
    """Scalar shapes of one value: a column per JSON type (branches of one type share theirs)."""
    numbers = any(s.scalar == "number" for s in shapes)
    groups: dict[str, list[Shape]] = {}
    for s in shapes:
        kind = "number" if numbers and s.scalar == "integer" else unions.column_kind(s.scalar)
        groups.setdefault(kind, []).append(s)
    columns = []
    for kind in (k for k in unions.SCALAR_TYPES if k in groups):
        group = groups[kind]
        one = group[0].node if len(group) == 1 and group[0].scalar == kind else None
        columns.append(Shape("scalar", one or unions.common_node(node, [s.node for s in group], kind), scalar=kind))
    if len(columns) == 1:
        return replace(columns[0], nullable=nullable)
    return Shape("union", node, nullable, branches=tuple(columns))


def _without_group(node: Node) -> Node:
    result = merge(node)
    result.alternatives = list(node.alternatives[1:])
    return result


def _with_nullable(shape: Shape, nullable: bool) -> Shape:
    if shape.nullable or not nullable:
        return shape
    return replace(shape, nullable=True)


def union_object(base: Node, branches: list[Node], catalog: Catalog, nullable: bool) -> Shape | None:
    """One object with every branch's properties, and the discriminator telling branches apart if there is
    one; None when the branches have more than `MAX_UNION_PROPERTIES` properties in all."""
    explicit = base.kw.get("discriminator")
    name = explicit.get("propertyName") if isinstance(explicit, dict) else None
    consts = _const_discriminator(branches, catalog)
    if not isinstance(name, str):
        name = consts
    node = merge(base)
    node.alternatives = []
    node.types = frozenset({"object"})  # each branch is an object; "or null" is the caller's to add
    names: list[str] = []
    for b in branches:
        names += [n for n in b.props if n not in names]
    if len(set(names) | set(base.props)) > MAX_UNION_PROPERTIES:
        return None
    notes = []
    for prop in names:
        defined = [unions.combined("allOf", b.props[prop]) for b in branches if prop in b.props]
        lacking = [b for b in branches if prop not in b.props]
        if lacking:  # a branch that does not name it allows what the base says, or (if open) any value
            defined += unions.others(defined, prop in base.props, all(b.closed for b in lacking), catalog)
        merged = defined if len(defined) == 1 else [unions.combined("anyOf", defined)]
        node.props[prop] = node.props.get(prop, []) + merged
        if not _DESCRIBING.get():
            notes += _conflict(prop, [b for b in branches if prop in b.props], catalog)
    node.required = base.required | set.intersection(*(b.required for b in branches))
    node.closed = base.closed or all(b.closed for b in branches)
    for b in branches:
        node.maps += b.maps
    shape = _with_nullable(classify(node, catalog), nullable)
    if shape.kind != "object":
        return shape
    cases: tuple[tuple[str, frozenset[str]], ...] = ()
    if consts is not None and consts == name and not _DESCRIBING.get():
        cases = _cases(base, branches, consts, node.required, catalog)
    return replace(shape, notes=(*shape.notes, *notes), discriminator=name, cases=cases)


def _conflict(prop: str, branches: list[Node], catalog: Catalog) -> list[tuple[str, str]]:
    """A located note when branches give one property different shapes (how the union stores it)."""
    with _describing():
        shapes = [classify(resolve(b.props[prop], catalog), catalog) for b in branches]
    described = [s.scalar or s.kind for s in shapes]
    if len(set(described)) < 2:
        return []
    scalar = all(s.kind in ("scalar", "union") for s in shapes)
    how = "one column per JSON type" if scalar else "as the union of its shapes allows (JSON where they differ)"
    first, other = (
        branches[0].props[prop][0].ptr,
        next(b.props[prop][0].ptr for b, d in zip(branches, described, strict=True) if d != described[0]),
    )
    return [(f"property {prop!r} is {described[0]} at {first} and {' or '.join(sorted(set(described[1:])))} "
             f"here: stored {how}", other)]  # fmt: skip


def _cases(
    base: Node, branches: list[Node], prop: str, required: set[str], catalog: Catalog
) -> tuple[tuple[str, frozenset[str]], ...]:
    """Per discriminator value: the properties only its branch requires, each a scalar that is never null
    there (a CHECK can then say `kind = 'card' → number IS NOT NULL`)."""
    cases = []
    for b in branches:
        value = resolve(b.props[prop], catalog).kw["enum"][0]
        needs = set()
        for name in sorted(b.required - required):
            if name in b.props:
                with _describing():
                    sub = classify(resolve(base.props.get(name, []) + b.props[name], catalog), catalog)
                if sub.kind == "scalar" and not sub.nullable:
                    needs.add(name)
        if needs:
            cases.append((value, frozenset(needs)))
    return tuple(cases)


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


@contextmanager
def _describing() -> Iterator[None]:
    """Classify only to say what a value is (see `_DESCRIBING`)."""
    token = _DESCRIBING.set(True)
    try:
        yield
    finally:
        _DESCRIBING.reset(token)
