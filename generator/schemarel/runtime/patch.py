"""Partial updates: RFC 7396 JSON Merge Patch applied to a stored document, writing only the rows that change."""

from __future__ import annotations

import copy
import json
from typing import Any

import sqlalchemy as sa

from schemarel.runtime.documents import DocumentMap
from schemarel.runtime.tablemap import RowBatch, TableMap


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: an object patch merges into an object (null removes a member), anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON texts (keys in any order): the document as read, and as it is now."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def subtree(tm: TableMap) -> list[TableMap]:
    """A table and every table below it, parents first."""
    out = [tm]
    for child in tm.children:
        out += subtree(child)
    return out


def _values(batch: RowBatch, tm: TableMap) -> list[list[Any]]:
    """The rows of a table without the keys the database hands out (compared between two versions)."""
    skip = 1 if tm.key_source in ("client", "parent") or tm.fk else 0
    return [row[skip:] for row in batch.rows[tm.index]]


def changes(mapping: DocumentMap, old: RowBatch, new: RowBatch) -> tuple[list[str], list[TableMap]]:
    """What a write must change: the root row's changed columns, and the child tables (each with the tables
    below it) whose rows differ; those are deleted and written again."""
    root = mapping.root
    before = dict(zip(root.columns, old.rows[0][0], strict=True))
    after = dict(zip(root.columns, new.rows[0][0], strict=True))
    columns = [c for c, v in after.items() if c != root.key and not _same(before[c], v)]
    tables = [
        child for child in root.children if any(_values(old, t) != _values(new, t) for t in subtree(child))
    ]  # fmt: skip
    return columns, tables


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if type(a) is not type(b) or isinstance(a, sa.ClauseElement):
        return False
    if isinstance(a, dict | list):  # JSON values: 1 and true differ
        return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    return bool(a == b)


def clear(conn: sa.Connection, tm: TableMap, key: Any) -> None:
    """Delete a child table's rows of one document (the tables below go by ON DELETE CASCADE)."""
    assert tm.fk is not None
    conn.execute(sa.delete(tm.sa_table).where(tm.sa_table.c[tm.fk] == key))


# root keywords that constrain each property on its own: under them, a patch that sets root properties to
# (non-null) values keeps the document valid exactly when the patch is valid against the schema without
# `required` (no property is removed, so `required` still holds)
_SEPARABLE = frozenset({
    "$schema", "$id", "$comment", "$defs", "definitions", "title", "description", "type", "properties",
    "required", "additionalProperties", "examples", "default", "x-sql", "readOnly", "writeOnly", "deprecated",
})  # fmt: skip


def partial_schema(contents: Any) -> dict[str, Any] | None:
    """The schema a patch of root properties is validated against, or None where the root's keywords relate
    properties to each other (`if`, `oneOf`, `dependentRequired`, …): then the whole result is validated."""
    if not isinstance(contents, dict) or not set(contents) <= _SEPARABLE or contents.get("type") != "object":
        return None
    extra = contents.get("additionalProperties", True)
    if not isinstance(extra, bool):
        return None
    return {k: v for k, v in contents.items() if k != "required"}


def direct_columns(mapping: DocumentMap, merge: Any) -> dict[str, Any] | None:
    """column → field of each root property the patch sets, when every one is a value in a column of the root
    row of its own (no null, no object, nothing that presence marks track); else None."""
    root = mapping.root
    if not isinstance(merge, dict) or not merge or root.links or root.table.json_root or root.table.spelling_column:
        return None
    by_key = {f.path[0]: f for f in root.fields if len(f.path) == 1}
    tracked = set(root.table.presence_paths)
    found = {}
    for key, value in merge.items():
        f = by_key.get(key)
        if f is None or value is None or (key,) in tracked or (isinstance(value, dict) and not f.json):
            return None
        if f.others or not f.fits(value):  # a union's columns, or a value kept with the unnamed properties
            return None
        found[f.column] = f
    return found
