"""Partial updates: RFC 7396 JSON Merge Patch applied to a stored document, writing only the rows that change."""

from __future__ import annotations

import copy
import json
import weakref
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from schemarel.errors import ConcurrentUpdate, DocumentNotFound, StoreError
from schemarel.normalize.normalizer import TIMESTAMP_COLUMNS
from schemarel.runtime import culprit
from schemarel.runtime.documents import DocumentMap, json_value
from schemarel.runtime.marks import MISSING
from schemarel.runtime.tablemap import RowBatch, TableMap

UPDATED_AT = TIMESTAMP_COLUMNS[1][0]


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
    """Equal as JSON values: the document as read, and as it is now. Objects by their keys in any order, arrays
    item by item, numbers by value (a document read back holds a Decimal where it has a fraction, the caller's
    copy may hold the float `json.loads` made of it), `true` no number, anything that is no JSON value unequal."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same_json, a, b))
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    numbers = int | float | Decimal
    return isinstance(a, numbers) and isinstance(b, numbers) and _exact(a) == _exact(b)


def _exact(number: int | float | Decimal) -> int | Decimal:
    """A number as the Decimal its JSON text is (`0.1`, not the double nearest to it)."""
    return Decimal(repr(number)) if isinstance(number, float) else number


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


class Patcher:
    """The patches of one store: which of them update the root row in one statement, and those statements,
    built and compiled once per set of columns (a patch of one field costs a few microseconds of planning and
    one round trip, not a statement built, compiled and looked up in SQLAlchemy's cache on each call)."""

    def __init__(self, store: Any) -> None:
        # a proxy, not a reference: the store holds its Patcher, and a cycle would keep a dropped store (and the
        # connection it keeps, runtime/direct.py) alive until the cyclic collector runs
        self.store = weakref.proxy(store)
        self.mapping: DocumentMap = store.mapping
        root = self.root = self.mapping.root
        table = root.table
        self.key_column = root.sa_table.c[root.key]
        self.timestamps = UPDATED_AT in root.sa_table.c
        plain = not (root.links or table.json_root or table.spelling_column)
        # top-level property → its field, for those held in a root column of their own and leaving no trace
        # in the presence marks (whose column would then change too)
        tracked = {p[0] for p in table.presence_paths}
        self.fields = {
            f.path[0]: f for f in root.fields if len(f.path) == 1 and f.path[0] not in tracked and f.column != root.key
        } if plain else {}  # fmt: skip
        self._updates: dict[tuple[bool, tuple[str, ...]], Any] = {}

    def plan(self, merge: Any, if_match: Any) -> dict[str, Any] | None:
        """column → bound value, for a patch that only sets or removes root columns, validated here on its own
        (see partial_schema); None where the document must be read, merged and validated whole."""
        store = self.store
        if not self.fields or if_match is not MISSING or store.patch_validator is None or not isinstance(merge, dict):
            return None
        if not merge or store.mysql or not store.engine.dialect.update_returning:
            return None  # MySQL: the size check needs the whole document
        kept: dict[str, Any] = {}
        removed: list[str] = []
        for name, value in merge.items():
            f = self.fields.get(name)
            # an object merges into what is stored (RFC 7396), so it needs the stored value
            if f is None or isinstance(value, dict) or (value is None and f.required[0]):
                return None
            if f.others or (value is not None and not f.fits(value)):  # a union's columns, or kept in _extra
                return None
            if value is None:
                removed.append(f.column)
            else:
                kept[name] = value
        store._check_values(kept)
        if self.mapping.defaults is not None:  # the defaults inside the values set, as a whole document has them
            kept = copy.deepcopy(kept)
            self.mapping.defaults.fill_below(kept)
        store.patch_validator.validate(kept)
        row = self.mapping._row(self.root, kept, None)
        values = dict(zip(self.root.columns, row, strict=True))
        return {**{self.fields[n].column: values[self.fields[n].column] for n in kept}, **dict.fromkeys(removed)}

    def update(self, columns: tuple[str, ...], returning: bool = True) -> Any:
        """`UPDATE root SET columns (, updated_at = now()) WHERE key = :k` (`RETURNING` the read query's columns),
        its values bound as `v0`, `v1`, … (JSON columns take JSON text) and the key as `k`."""
        statement = self._updates.get((returning, columns))
        if statement is None:
            t = self.root.sa_table
            dialect = self.store.engine.dialect
            values: dict[str, Any] = {}
            for i, column in enumerate(columns):
                is_json = isinstance(t.c[column].type, sa.JSON)
                bound = sa.bindparam(f"v{i}", type_=sa.Text() if is_json else t.c[column].type)
                values[column] = json_value(t.c[column], bound, dialect) if is_json else bound
            if self.timestamps:
                values[UPDATED_AT] = sa.func.now()
            statement = sa.update(t).where(self.key_column == sa.bindparam("k", type_=self.key_column.type))
            statement = statement.values(values)
            if returning:
                statement = statement.returning(*self.mapping.select(self.root).selected_columns)
            self._updates[(returning, columns)] = statement
        return statement

    def direct(self, doc_id: Any, values: dict[str, Any]) -> Any:
        """A planned patch of a one-table document on its own connection: one statement through the driver."""
        store = self.store
        columns = tuple(values)
        params = {"k": store._key(doc_id), **{f"v{i}": v for i, v in enumerate(values.values())}}
        try:
            rows = store.direct.rows(("patch", columns), lambda: self.update(columns), params)
        except Exception as exc:
            raise store.error(exc) from exc
        if not rows:
            raise DocumentNotFound(store.name, doc_id)
        return store.read_row(rows[0])

    def apply(self, c: sa.Connection, doc_id: Any, merge: Any, if_match: Any, planned: dict[str, Any] | None) -> Any:
        """The patch on `c` (a transaction, or one statement when planned for a one-table document). A patch reads
        the document: a stored value no document can hold is named (`culprit`, on `c`: the rows as it sees them)."""
        try:
            if planned is not None:
                return self._planned(c, doc_id, planned)
            return self._merged(c, doc_id, merge, if_match)
        except Exception as exc:
            found = self.store.locate(c, doc_id) if culprit.read_failure(exc) else None
            if found is None:
                raise
            raise found from exc

    def _planned(self, c: sa.Connection, doc_id: Any, values: dict[str, Any]) -> Any:
        store = self.store
        params = {"k": store._key(doc_id), **{f"v{i}": v for i, v in enumerate(values.values())}}
        row = c.execute(self.update(tuple(values)), params).first()
        if row is None:
            raise DocumentNotFound(store.name, doc_id)
        if len(self.mapping.tables) == 1:
            return store.read_row(row)
        return store.get_on(c, doc_id)

    def _merged(self, c: sa.Connection, doc_id: Any, merge: Any, if_match: Any) -> Any:
        """Read the document (its root row locked), merge, validate the result whole, write the rows that change."""
        store = self.store
        key = store._key(doc_id)
        root = self.root
        query = self.mapping.select(root).where(self.key_column == key, *store._top)
        found = store._read(c, query.with_for_update() if c.dialect.name != "sqlite" else query)
        if not found:
            raise DocumentNotFound(store.name, doc_id)
        current = found[0][1]
        if if_match is not MISSING and not same_json(current, if_match):
            raise ConcurrentUpdate(store.name, doc_id)
        document = store.prepare(merge_patch(current, merge))
        if root.links:  # documents nested by a recursive property: written again as a whole
            store.replace_on(c, doc_id, document)
            return document
        old, new = store._batch_of(current, key), store._batch_of(document, key)
        changed, tables = changes(self.mapping, old, new)
        if root.key_source == "document" and root.key in changed:
            raise StoreError(f"{store.name}: the patch changes the document's key ({root.key}); create a new one")
        if not changed and not tables:
            return document
        row = dict(zip(root.columns, new.rows[0][0], strict=True))
        if changed or self.timestamps:
            columns = tuple(changed)
            params = {"k": key, **{f"v{i}": row[column] for i, column in enumerate(columns)}}
            c.execute(self.update(columns, returning=False), params)
        for child in tables:
            clear(c, child, key)
        store._writer(c.dialect).insert(c, new, [t for child in tables for t in subtree(child)])
        return document
