"""How much of a document's text the tables keep in JSON columns: the measure of how relational a mapping is.

Definition (the README's mapping section states it): the share of a document stored as JSON is

    bytes of the values that land in JSON columns / bytes of the document,

both in canonical JSON (`exactjson.dumps`: compact, UTF-8, keys in document order). A value lands in a JSON
column when the column holding it is of kind `json` (an untyped or otherwise unmapped property, the whole
document of a `json_root` table) or when it is a property the schema does not name, kept in the row's `extra`
column; such a property counts as its `"name":value` member. The row's bookkeeping columns (presence marks,
number spellings) are not counted: their values also live in typed columns or tables, or are empty (`[]`,
`null`). A value's property name is counted only for extras: a typed column's name stands for it.

The rows are built by the runtime's own `DocumentMap`, so the figure is what a write would store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemarel.ir import SchemaModel
from schemarel.runtime import exactjson
from schemarel.runtime.documents import DocumentMap


@dataclass(frozen=True)
class JsonShare:
    """Bytes of one or more documents, and how many of them the tables keep in JSON columns."""

    json_bytes: int
    document_bytes: int

    @property
    def share(self) -> float:
        """`json_bytes / document_bytes` (0 for no text at all)."""
        return self.json_bytes / self.document_bytes if self.document_bytes else 0.0

    def __add__(self, other: JsonShare) -> JsonShare:
        return JsonShare(self.json_bytes + other.json_bytes, self.document_bytes + other.document_bytes)


def json_share(model: SchemaModel, document: Any) -> JsonShare:
    """The share of `document` (valid for `model`'s schema, as given: no defaults filled in) stored as JSON."""
    return JsonShare(sum(json_bytes(model, document).values()), len(exactjson.dumps(document).encode()))


def json_bytes(model: SchemaModel, document: Any) -> dict[str, int]:
    """Per JSON column (`table.column`) holding some of `document`, the bytes of it stored there (see above)."""
    mapping = DocumentMap(model, None)
    batch = mapping.new_batch()
    mapping.add(batch, document)
    stored: dict[str, int] = {}
    for tm in mapping.tables:
        json_columns = {f.column for f in tm.fields if f.json}
        for row in batch.rows[tm.index]:
            for column, value in zip(tm.columns, row, strict=False):
                if value is None:
                    size = 0
                elif column in json_columns:
                    size = len(value.encode())  # JSON text (bytes only for SQLite, not asked for here)
                elif column == tm.table.extra_column:
                    size = sum(_member(k, v) for unnamed in exactjson.loads(value).values()
                               for k, v in unnamed.items())  # fmt: skip
                else:
                    continue
                if size:
                    where = f"{tm.table.name}.{column}"
                    stored[where] = stored.get(where, 0) + size
    return stored


def _member(name: str, value: Any) -> int:
    """Bytes of `"name":value` in canonical JSON."""
    return len(exactjson.dumps({name: value}).encode()) - 2
