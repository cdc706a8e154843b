"""Unions kept relational: scalars of several JSON types as one typed column per type, and the branches of
`if`/`then`/`else` and `dependentSchemas` as optional properties of the object they condition.

A value of `string | integer` is stored in `<column>_string` or `<column>_integer` (the other is NULL): each
column holds the values of its JSON types exactly as a lone column of that type would, so `1`, `"1"` and
`true` read back as they were written. `number` takes the integers too (one column, not two).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from schemarel.ir import Check, Column
from schemarel.schema.loader import Catalog
from schemarel.schema.refs import Combined, Node, Src, dedupe, merge, resolve
from schemarel.sql.checks import case_check

SCALAR_TYPES = ("string", "integer", "number", "boolean")  # the branch columns, in this order
# JSON types a branch column holds (`Column.json_types`): a number column takes integers too
ACCEPTS = {"string": ("string",), "integer": ("integer",), "number": ("integer", "number"), "boolean": ("boolean",)}
# keywords of a conditional branch that put properties in the object it conditions
CONDITIONAL_BRANCHES = ("then", "else")


def scalar_kinds(types: Iterable[str]) -> list[str] | None:
    """The branch columns of a set of scalar JSON types (None when one is not a scalar, or a single column
    holds them all)."""
    kinds = set(types) - {"null"}
    if "number" in kinds:
        kinds.discard("integer")
    if not kinds or not kinds <= set(SCALAR_TYPES) or len(kinds) < 2:
        return None
    return [t for t in SCALAR_TYPES if t in kinds]


def typed_branch(node: Node, kind: str) -> Node:
    """`node` restricted to values of JSON type `kind` (its other keywords apply as they are)."""
    branch = merge(node)
    branch.alternatives = []
    branch.conditionals = []
    branch.types = frozenset({kind, "integer"} if kind == "number" else {kind})
    return branch


def common_node(base: Node, nodes: Sequence[Node], scalar: str) -> Node:
    """One scalar node for branches of one column: only what every branch says (an enum only if each has one)."""
    node = merge(base)
    node.alternatives = []
    kws = [n.kw for n in nodes]
    for key in set().union(*kws):
        values = [kw.get(key) for kw in kws]
        lists = [v for v in values if isinstance(v, list)]
        if key == "enum" and len(lists) == len(values):
            node.kw[key] = dedupe(v for vs in lists for v in vs)
        elif all(v == values[0] for v in values) and values[0] is not None:
            node.kw[key] = values[0]
        else:
            node.kw.pop(key, None)
    node.types = frozenset({scalar})
    return node


def union_columns(column: str, scalars: Iterable[str | None]) -> list[str]:
    """The column of each branch of a union shape (by the branches' JSON types): `<column>_<JSON type>`."""
    return [f"{column}_{column_kind(scalar)}" for scalar in scalars]


def case_checks(
    table: str, columns: Sequence[Column], path: tuple[str, ...], discriminator: str, cases: Iterable[Any]
) -> list[Check]:
    """Per discriminator value, a CHECK that the properties its branch requires are set: only over plain
    columns of this table (a property stored elsewhere, or across a union's columns, is left to validation)."""
    mine = [c for c in columns if c.path[:-1] == path and c.path and c.type.kind != "json"]
    paths = Counter(c.path for c in mine)
    by_path = {c.path: c for c in mine if paths[c.path] == 1}
    found = []
    subject = by_path.get((*path, discriminator))
    if subject is None:
        return []
    for number, (value, names) in enumerate(cases):
        needed = [by_path[(*path, n)].name for n in sorted(names) if (*path, n) in by_path]
        if needed:
            found.append(case_check(table, subject.name, number, value, needed))
    return found


def column_kind(scalar: str | None) -> str:
    """The branch a scalar of JSON type `scalar` is stored in (integers with numbers where both are)."""
    return scalar or "string"


def conditional_props(node: Node, catalog: Catalog) -> dict[str, list[Src]]:
    """Per property named by a branch of `if`/`then`/`else` or `dependentSchemas`: sources to add to the
    object's own. A value is the property as one of the branches describes it, or, where the object names it
    and a case says nothing of it, as the object alone does. A property only some cases name keeps their types:
    in an open object another case may give it any value, which the runtime keeps with the unnamed properties."""
    found: dict[str, list[Src]] = {}
    for group in _branch_groups(node):
        branches = [resolve([src], catalog) for src in group]
        names: list[str] = []
        for b in branches:
            names += [n for n in b.props if n not in names]
        for name in names:
            parts = [combined("allOf", b.props[name]) for b in branches if name in b.props]
            if len(parts) < len(branches) or len(group) == 1:  # a case (or `if` failing) says nothing of it
                parts += others(parts, name in node.props, node.closed, catalog)
            found.setdefault(name, []).append(combined("anyOf", parts) if len(parts) > 1 else parts[0])
    return found


def others(parts: list[Src], named: bool, closed: bool, catalog: Catalog) -> list[Src]:
    """What a property may be in a case that does not name it, as one more branch of its union: anything the
    object says (`named`: it names the property), else, in an open object, any value of the types the cases give
    (their formats, bounds and enums would make CHECKs refuse valid documents; other types are kept with the
    row's unnamed properties); objects and arrays keep their tables. Nothing in a closed object."""
    if named:
        return [parts[0].at(True, "(any case)")]
    if closed:
        return []
    types: set[str] = set()
    for part in parts:
        found = resolve([part], catalog).types
        if found is None or found & {"object", "array"}:  # their tables keep their shape (as before unions)
            return []
        types |= found
    first = parts[0]
    return [Src({"type": sorted(types)}, first.resolver, first.base, first.file, first.ptr)]


def _branch_groups(node: Node) -> list[list[Src]]:
    """The branches each conditional of `node` chooses between (a `dependentSchemas` entry: itself)."""
    groups = []
    for cond in node.conditionals:
        if "if" in cond.raw:
            branches = [cond.at(cond.raw[k], k) for k in CONDITIONAL_BRANCHES if isinstance(cond.raw.get(k), dict)]
            if branches:
                groups.append(branches)
        for key in ("dependentSchemas", "dependencies"):
            entries = cond.raw.get(key)
            for name, sub in entries.items() if isinstance(entries, dict) else ():
                if isinstance(sub, dict):
                    groups.append([cond.at(sub, key, name)])
    return groups


def combined(kind: Any, srcs: list[Src]) -> Src:
    """One source that is all of `srcs` (allOf) or any one of them (anyOf)."""
    first = srcs[0]
    if len(srcs) == 1 and kind == "allOf":
        return first
    return Src(Combined(kind, tuple(srcs)), first.resolver, first.base, first.file, first.ptr)
