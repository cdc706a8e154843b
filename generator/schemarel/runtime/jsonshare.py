"""How much of a document's text a schema's tables keep in JSON columns (the measure of what is not relational).

`json_share` shreds the document with the runtime's own shredder (`DocumentMap`, no database) and counts the
compact JSON text of every value that lands in a JSON column: JSON properties, whole-document columns, and the
properties no column names (`_extra`). Presence and spelling marks are bookkeeping, not document text.
`schemarel inspect` and the corpus measurement both use it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from schemarel.ir import SchemaModel
from schemarel.runtime import exactjson
from schemarel.runtime.documents import DocumentMap


@dataclass(frozen=True)
class JsonShare:
    json_chars: int  # characters of the document's compact JSON text stored in JSON columns
    total_chars: int  # characters of the whole document's compact JSON text

    @property
    def ratio(self) -> float:
        return self.json_chars / self.total_chars if self.total_chars else 0.0

    def __add__(self, other: JsonShare) -> JsonShare:
        return JsonShare(self.json_chars + other.json_chars, self.total_chars + other.total_chars)


def json_share(model: SchemaModel, document: Any, mapping: DocumentMap | None = None) -> JsonShare:
    """The share of `document`'s text (valid for `model`) that its rows keep in JSON columns; `mapping`: one
    built for `model` already (it is reusable across documents). Raises `ValueRejected` like `Store.create`."""
    mapping = mapping or DocumentMap(model, None)
    batch = mapping.new_batch()
    mapping.add(batch, document, key=uuid.UUID(int=0))
    stored = 0
    for tm in mapping.tables:
        positions = [tm.columns.index(f.column) for f in tm.fields if f.json]
        extra = tm.columns.index(tm.table.extra_column) if tm.table.extra_column else None
        for row in batch.rows[tm.index]:
            stored += sum(len(_text(row[i])) for i in positions if row[i] is not None)
            if extra is not None and row[extra] is not None:
                objects = exactjson.loads(_text(row[extra]))
                stored += sum(len(exactjson.dumps(v)) for v in objects.values())
    return JsonShare(stored, len(exactjson.dumps(document)))


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
