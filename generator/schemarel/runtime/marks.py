"""What a row keeps besides its columns: the presence marks and the properties the schema does not name.

Presence (`Table.presence_column`, JSON): for each tracked path of the row's node — an optional array, a
nullable array or object, an optional nullable scalar, an optional flattened object — that the document
holds, its relative JSON pointer maps to `true`, or to `null` when the value there is null. A path that is
not in the marks was absent. Extras (`Table.extra_column`, JSON): relative JSON pointer of an open object
→ the properties it held that have no column or table of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from schemarel.errors import pointer
from schemarel.ir import OpenObject, Table
from schemarel.schema.patterns import search
from schemarel.sql.regex import from_python

MISSING: Any = object()


def get(node: Any, path: Sequence[str]) -> Any:
    for step in path:
        if not isinstance(node, dict):
            return MISSING
        node = node.get(step, MISSING)
    return node


def ensure(node: dict[str, Any], path: Sequence[str], leaf: type = dict) -> Any:
    for i, step in enumerate(path):
        if step not in node or node[step] is None:
            node[step] = leaf() if i == len(path) - 1 else {}
        node = node[step]
    return node


def put(node: dict[str, Any], path: Sequence[str], value: Any) -> None:
    for step in path[:-1]:
        node = node.setdefault(step, {})
    node[path[-1]] = value


def relative(path: Sequence[str]) -> str:
    """`("a", "b")` → `/a/b`; `()` → `` (the row's node itself)."""
    return pointer(*path)[1:]


def presence(paths: Iterable[tuple[str, ...]], node: Any) -> dict[str, Any] | None:
    marks = {}
    for path in paths:
        value = get(node, path) if path else node
        if value is not MISSING:
            marks[relative(path)] = None if value is None else True
    return marks or None


def extras(objects: Iterable[OpenObject], node: Any) -> dict[str, Any] | None:
    found = {}
    for obj in objects:
        sub = get(node, obj.path) if obj.path else node
        if isinstance(sub, dict):
            unnamed = {k: v for k, v in sub.items() if k not in obj.known and not mapped(obj.mapped, k)}
            for name, kind in obj.loose:  # a value other than the object or array its columns and rows hold
                value = sub.get(name)
                if value is not None and not isinstance(value, dict if kind == "object" else list):
                    unnamed[name] = value
            if unnamed:
                found[relative(obj.path)] = unnamed
    return found or None


def mapped(patterns: Sequence[str], key: str) -> bool:
    """Whether a key matches one of a map table's key patterns (`regex.to_python`'s spelling, searched in bounded
    time as ECMA-262 does: `schema.patterns`)."""
    return any(search(from_python(p), key) for p in patterns)


def entries(table: Table, node: Any) -> list[tuple[str, Any]]:
    """The (key, value) pairs a map table holds of the object at its `parent_path` in `node`, in order."""
    spec = table.entries
    assert spec is not None
    obj = get(node, table.parent_path) if table.parent_path else node
    if not isinstance(obj, dict):
        return []
    return [(k, v) for k, v in obj.items() if k not in spec.known and (not spec.patterns or mapped(spec.patterns, k))]


def restore(
    node: dict[str, Any], marks: Mapping[str, Any] | None, kinds: Mapping[tuple[str, ...], str], extra: Any
) -> Any:
    """Put back what the marks say: nulls, empty arrays and objects that left no other trace, and extras.

    `kinds` says what each tracked path holds: "array" (a child table: an empty list when marked present),
    "object" (a flattened object: {}), anything else (a scalar or a child object: only its null matters).
    Returns the node, or None when the node itself was null.
    """
    marks = marks or {}
    if marks.get("", True) is None:
        return None
    for path, kind in kinds.items():
        mark = marks.get(relative(path), MISSING)
        if mark is None:
            put(node, path, None)
        elif mark is True and kind in ("array", "object"):
            ensure(node, path, list if kind == "array" else dict)
    for where, unnamed in (extra or {}).items():
        path = tuple(p.replace("~1", "/").replace("~0", "~") for p in where.split("/")[1:])
        target = ensure(node, path) if path else node
        target.update(unnamed)
    return node
