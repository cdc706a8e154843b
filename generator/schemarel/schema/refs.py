"""Schema nodes: `$ref` followed, `allOf` merged, draft differences smoothed, recursion made visible."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urldefrag, urljoin

import referencing

from schemarel.errors import SchemaError, pointer
from schemarel.schema import fragments
from schemarel.schema.loader import Catalog, SourceSchema

if TYPE_CHECKING:
    from referencing._core import Resolver  # not re-exported by `referencing`


ANNOTATIONS = frozenset({"title", "description", "default", "deprecated", "examples", "x-sql", "readOnly", "nullable"})
# Keywords that say nothing about where a value is stored: only about whether it is valid.
_IGNORED = frozenset(
    {"$schema", "$id", "id", "$defs", "definitions", "$comment", "$anchor", "$dynamicAnchor", "$recursiveAnchor",
     "$vocabulary", "then", "else", "not", "contains", "dependencies", "dependentSchemas", "dependentRequired",
     "propertyNames", "unevaluatedItems", "minContains", "maxContains"}
)  # fmt: skip
_LOWER_BOUNDS = frozenset({"minimum", "minLength", "minItems", "minProperties", "exclusiveMinimum"})
_UPPER_BOUNDS = frozenset({"maximum", "maxLength", "maxItems", "maxProperties", "exclusiveMaximum"})
_REF_KEYS = ("$ref", "$recursiveRef", "$dynamicRef")
# Keywords beside a `$ref` that leave the node its target (anything else makes the `$ref` one part of the node)
_BESIDE_REF = ANNOTATIONS | {"$schema", "$id", "id", "$defs", "definitions", "$comment", "$anchor", "$dynamicAnchor",
                             "$recursiveAnchor", "$vocabulary", "writeOnly"}  # fmt: skip
JSON_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")
MAX_REF_CHAIN = 64


@dataclass(frozen=True)
class Src:
    """A raw subschema and where it lives: the resolver its `$ref`s go through, its file and pointer."""

    raw: Any
    resolver: Resolver[Any]
    base: str  # the document URI relative references start from
    file: str
    ptr: str

    def at(self, raw: Any, *parts: object) -> Src:
        return Src(raw, self.resolver, self.base, self.file, self.ptr + pointer(*parts)[1:])


@dataclass(frozen=True)
class Combined:
    """A schema made of others: all of them at once, or any one of them (a union's shared property)."""

    kind: Literal["allOf", "anyOf"]
    parts: tuple[Src, ...]


@dataclass
class Node:
    """One schema position with `$ref`s followed and `allOf` merged; properties and items stay lazy (Src)."""

    src: Src
    kw: dict[str, Any] = field(default_factory=dict)
    types: frozenset[str] | None = None  # None: any type
    props: dict[str, list[Src]] = field(default_factory=dict)
    items: list[Src] = field(default_factory=list)
    required: set[str] = field(default_factory=set)
    alternatives: list[tuple[str, Src, list[Src]]] = field(default_factory=list)  # oneOf/anyOf groups
    conditionals: list[Src] = field(default_factory=list)  # nodes holding if/then/else
    maps: list[str] = field(default_factory=list)  # pointers of patternProperties / additionalProperties schemas
    # the value schemas of those: (regex of the keys, or None for every key no property or pattern names)
    map_values: list[tuple[str | None, Src]] = field(default_factory=list)
    key_names: list[Src] = field(default_factory=list)  # `propertyNames` schemas
    closed: bool = False  # additionalProperties is false (or unevaluatedProperties, and no keyword evaluates all keys)
    # unevaluatedProperties is false; it closes the object unless `evaluates_all`
    unevaluated_false: bool = False
    # additionalProperties or unevaluatedProperties is true, {} or a schema (here or in an allOf part), or a
    # `$recursiveRef`/`$dynamicRef` is followed: every key may be evaluated, so an unevaluatedProperties false
    # beside it is no reason to drop keys the schema does not name
    evaluates_all: bool = False
    unevaluated: list[Src] = field(default_factory=list)  # unevaluatedProperties schemas (also in `map_values`)
    never: bool = False  # the `false` schema: no value is valid
    identity: set[str] = field(default_factory=set)  # locations this node is (its own and its direct $ref targets)

    @property
    def xsql(self) -> dict[str, Any]:
        return dict(self.kw.get("x-sql", {}))

    @property
    def nullable(self) -> bool:
        return (self.types is not None and "null" in self.types) or self.kw.get("nullable") is True

    def error(self, message: str, at: str = "") -> SchemaError:
        return SchemaError(self.src.file, self.src.ptr + at, message)


def root_src(source: SourceSchema) -> Src:
    return Src(source.contents, source.resolver, source.base_uri, source.display_path, "#")


def resolve(srcs: Sequence[Src], catalog: Catalog) -> Node:
    """The node all `srcs` describe together (as an allOf would)."""
    node = Node(srcs[0])
    for src in srcs:
        _absorb(node, src, catalog, direct=True, depth=0)
    return _settled(node)


def merge(first: Node, *others: Node) -> Node:
    """A node that is `first` and every one of `others` (allOf); `first`'s annotations win."""
    result = Node(first.src, identity=set(first.identity))
    for node in (first, *others):
        _merge_into(result, node)
    return _settled(result)


def _settled(node: Node) -> Node:
    """`node` closed by an unevaluatedProperties false that no keyword evaluating every key opens again; and
    without the unevaluatedProperties schemas of its maps when such a keyword leaves them no key to apply to
    (their values are then those of that keyword: a typed map of them would refuse or retype valid ones)."""
    node.closed = node.closed or (node.unevaluated_false and not node.evaluates_all)
    if node.evaluates_all and node.unevaluated:
        node.map_values = [(r, s) for r, s in node.map_values if not (r is None and s in node.unevaluated)]
    return node


def _absorb(node: Node, src: Src, catalog: Catalog, direct: bool, depth: int) -> None:
    raw = src.raw
    if isinstance(raw, Combined):
        if raw.kind == "anyOf":
            node.alternatives.append(("anyOf", src, list(raw.parts)))
        for part in raw.parts if raw.kind == "allOf" else ():
            _absorb(node, part, catalog, direct, depth + 1)
        return
    if raw is True:
        return
    if raw is False:
        node.never = True
        return
    if not isinstance(raw, dict):
        raise SchemaError(src.file, src.ptr, "expected a schema (an object or a boolean) here")
    catalog.work.spend("subschemas", src.file, src.ptr)  # an allOf of allOfs doubles per level: counted here
    if depth > MAX_REF_CHAIN:
        raise SchemaError(src.file, src.ptr, f"more than {MAX_REF_CHAIN} nested $ref/allOf: a reference cycle?")
    if direct:
        node.identity.add(f"{src.base}{src.ptr}")
    ref_key = next((k for k in _REF_KEYS if isinstance(raw.get(k), str)), None)
    own = {k: v for k, v in raw.items() if k not in _REF_KEYS}
    if ref_key is not None and src.file in catalog.legacy_ref:
        own = {k: v for k, v in own.items() if k in ANNOTATIONS}  # draft 7 and older ignore the rest
    own_node = Node(src)
    for key, value in own.items():
        _keyword(own_node, src, key, value, catalog, depth)
    _merge_into(node, own_node)
    if ref_key is not None:
        # from 2019-09 a `$ref` beside other keywords is one part of the node, as an allOf's are: the node is not
        # its target (a base that the root and a definition both `$ref` is no recursion)
        beside = src.file not in catalog.legacy_ref and any(k not in _BESIDE_REF for k in own)
        _absorb(node, follow(src, raw[ref_key], catalog), catalog, direct and not beside, depth + 1)
        if ref_key != "$ref":
            # followed where it points statically; a schema extending this one through the dynamic anchor may
            # evaluate more keys than the target names, which an unevaluatedProperties false must then keep
            node.evaluates_all = True


def follow(src: Src, ref: str, catalog: Catalog) -> Src:
    """The subschema `ref` (relative to `src`) points at; remote references are refused, never fetched."""
    try:
        resolved = fragments.lookup(src.resolver, ref)
    except fragments.Unresolved as exc:
        raise SchemaError(src.file, src.ptr, str(exc)) from None
    target = urljoin(src.base, ref)
    doc, fragment = urldefrag(target)
    file = catalog.displays.get(doc, src.file) if doc else src.file
    if fragment.startswith("/"):
        ptr = "#" + unquote(fragment)
    elif fragment:  # an anchor: the place of what it names, so that it is no other node (such as the root, `#`)
        ptr = _anchored(src, doc or src.base, fragment, resolved.contents, catalog)
    else:
        ptr = "#"
    return Src(resolved.contents, resolved.resolver, doc or src.base, file, ptr)


def _anchored(src: Src, doc: str, anchor: str, target: Any, catalog: Catalog) -> str:
    """The JSON pointer, within document `doc`, of `target`, the subschema `#anchor` resolved to."""
    if (doc, anchor) not in catalog.anchors:
        try:
            root = src.resolver.lookup(doc).contents
        except referencing.exceptions.Unresolvable:  # resolved above, so not expected: name the anchor itself
            root = None
        stack: list[tuple[Any, tuple[object, ...]]] = [(root, ())]
        found: tuple[object, ...] | None = None
        while stack and found is None:
            node, parts = stack.pop()
            if node is target:
                found = parts
            elif isinstance(node, dict):
                stack += [(v, (*parts, k)) for k, v in reversed(node.items())]
            elif isinstance(node, list):
                stack += [(v, (*parts, i)) for i, v in reversed(list(enumerate(node)))]
        catalog.anchors[doc, anchor] = "#" + unquote(anchor) if found is None else pointer(*found)
    return catalog.anchors[doc, anchor]


def _keyword(node: Node, src: Src, key: str, value: Any, catalog: Catalog, depth: int) -> None:
    if key == "properties" and isinstance(value, dict):
        for name, sub in value.items():
            node.props.setdefault(name, []).append(src.at(sub, key, name))
            if isinstance(sub, dict) and sub.get("required") is True:  # draft 3
                node.required.add(name)
    elif key == "items":
        if isinstance(value, list):  # a tuple (drafts up to 2019-09)
            node.kw["prefixItems"] = src.ptr + "/items"
        else:
            node.items.append(src.at(value, key))
    elif key == "prefixItems":
        node.kw["prefixItems"] = src.ptr + "/prefixItems"
    elif key == "allOf" and isinstance(value, list):
        for i, sub in enumerate(value):
            _absorb(node, src.at(sub, key, i), catalog, direct=False, depth=depth + 1)
    elif key in ("oneOf", "anyOf") and isinstance(value, list):
        node.alternatives.append((key, src.at(value, key), [src.at(sub, key, i) for i, sub in enumerate(value)]))
    elif key == "if" or (key in ("dependentSchemas", "dependencies") and isinstance(value, dict)):
        if src not in node.conditionals:  # a node holding both `if` and `dependentSchemas` is listed once
            node.conditionals.append(src)
    elif key == "type":
        node.types = _types_of(value)
    elif key == "required":
        if isinstance(value, list):
            node.required.update(v for v in value if isinstance(v, str))
    elif key == "const":
        node.kw["enum"] = [value]
    elif key in ("additionalProperties", "unevaluatedProperties"):
        if value is False:
            node.closed = node.closed or key == "additionalProperties"
            node.unevaluated_false = node.unevaluated_false or key == "unevaluatedProperties"
        else:
            typed = isinstance(value, dict) and bool(value)
            # unevaluatedProperties true or {} accepts every key; a schema there applies only to keys nothing
            # else evaluates, so it leaves them to the other keywords (`unevaluated`, `_settled`)
            node.evaluates_all = node.evaluates_all or key == "additionalProperties" or not typed
            if typed:
                node.maps.append(f"{src.ptr}/{key}")
                node.map_values.append((None, src.at(value, key)))
                if key == "unevaluatedProperties":
                    node.unevaluated.append(src.at(value, key))
    elif key == "patternProperties" and isinstance(value, dict) and value:
        node.maps.append(f"{src.ptr}/{key}")
        node.map_values += [(regex, src.at(sub, key, regex)) for regex, sub in value.items()]
    elif key == "propertyNames":
        node.key_names.append(src.at(value, key))
    elif key in ("minimum", "maximum"):
        exclusive = f"exclusive{key.capitalize()}"
        node.kw[exclusive if src.raw.get(exclusive) is True else key] = value  # draft 4: a flag beside it
    elif key in ("exclusiveMinimum", "exclusiveMaximum"):
        if not isinstance(value, bool):
            node.kw[key] = value
    elif key not in _IGNORED:
        node.kw[key] = value


def _types_of(value: Any) -> frozenset[str]:
    names = [value] if isinstance(value, str) else list(value) if isinstance(value, list) else []
    if "any" in names:  # draft 3
        return frozenset(JSON_TYPES)
    types = {t for t in names if t in JSON_TYPES}
    if "number" in types:
        types.add("integer")
    return frozenset(types)


def intersect_types(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def _merge_into(node: Node, other: Node) -> None:
    node.types = intersect_types(node.types, other.types)
    for key, value in other.kw.items():
        if value is None:
            continue
        if key not in node.kw or node.kw[key] is None:
            node.kw[key] = value
        elif key == "x-sql" and isinstance(value, dict):
            node.kw[key] = {**value, **node.kw[key]}
        elif key == "enum" and isinstance(value, list):
            allowed = {value_key(w) for w in value}
            node.kw[key] = [v for v in node.kw[key] if value_key(v) in allowed]
        elif key in _LOWER_BOUNDS and _is_number(value) and _is_number(node.kw[key]):
            node.kw[key] = max(node.kw[key], value)
        elif key in _UPPER_BOUNDS and _is_number(value) and _is_number(node.kw[key]):
            node.kw[key] = min(node.kw[key], value)
    for name, srcs in other.props.items():
        node.props.setdefault(name, []).extend(srcs)
    node.items.extend(other.items)
    node.required |= other.required
    node.alternatives.extend(other.alternatives)
    node.conditionals.extend(other.conditionals)
    node.maps.extend(other.maps)
    node.map_values.extend(other.map_values)
    node.key_names.extend(other.key_names)
    node.closed = node.closed or other.closed
    node.unevaluated_false = node.unevaluated_false or other.unevaluated_false
    node.evaluates_all = node.evaluates_all or other.evaluates_all
    node.unevaluated.extend(other.unevaluated)
    node.never = node.never or other.never


def dedupe(values: Iterable[Any]) -> list[Any]:
    """The values in order, each once (by `value_key`)."""
    seen: set[tuple[str, Any]] = set()
    result = []
    for value in values:
        key = value_key(value)
        if key not in seen:
            seen.add(key)
            result.append(value)
    return result


def value_key(value: Any) -> tuple[str, Any]:
    """A hashable key equal for JSON values that are the same value of the same type (1 and 1.0 differ), so
    that enums are intersected and deduplicated in linear time."""
    if isinstance(value, dict | list):
        return type(value).__name__, json.dumps(value, sort_keys=True, default=repr)
    return type(value).__name__, value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# Why such a node (an array's items, a map's values) is stored as JSON; `.format(kind)`
UNTYPED = 'say an {0} but no "type": any JSON value is valid there (add "type": "{0}" to map it to columns)'


def inferred(node: Node) -> bool:
    """Whether a node's kind comes from its keywords alone (`properties`, `items` without `type`): a validator
    then lets every other JSON value through as well."""
    return node.types is None and not node.alternatives and not isinstance(node.kw.get("enum"), list)


def enum_types(values: Iterable[Any]) -> frozenset[str]:
    """The JSON types of enum values (an enum without `type` still says what is stored)."""
    return frozenset(json_type(v) for v in values)


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if value is None:
        return "null"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def deref_raw(
    source: SourceSchema, node: Any, resolver: Resolver[Any], ptr: str
) -> tuple[dict[str, Any], Resolver[Any]]:
    """The raw schema `node` is, with its `$ref` chain followed (keywords beside a `$ref` win over the target's):
    for readers of plain keywords (examples, inspection) that do not need merged nodes."""
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref in seen or len(seen) > MAX_REF_CHAIN:
            raise source.error(ptr, f"$ref {ref!r} refers to itself")
        seen.add(ref)
        resolved = source.lookup(ref, resolver, ptr)
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        node, resolver = resolved.contents, resolved.resolver
        if siblings and isinstance(node, dict):
            node = {**node, **siblings}
    if node is False:
        return {"not": {}}, resolver
    # `true`, and forms these readers do not look into (a tuple of `items`), read as "anything"
    return (node if isinstance(node, dict) else {}), resolver
