"""The rows a document becomes, as the docs show them next to the example document: the runtime's own shredding.

The rows are what `Store.create` writes (`runtime.documents.DocumentMap`, run without a database), so the
docs cannot disagree with the runtime about any column, presence and extra columns included. Values the
database makes (keys from `gen_random_uuid()` or a sequence, `now()` timestamps) are shown as stable
stand-ins: a uuid derived from the table name and row number, the row number, the SQL expression.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemarel.errors import ValueRejected
from schemarel.ir import Column, SchemaModel, Table
from schemarel.runtime.documents import DocumentMap
from schemarel.runtime.tablemap import RowBatch, TableMap


@dataclass(frozen=True)
class TableRows:
    table: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # display text per cell


class _Expr(str):
    """A value the database computes, displayed as its SQL expression."""


def document_rows(model: SchemaModel, document: Any, contents: Any = None) -> tuple[TableRows, ...]:
    """Every table's rows for `document` (an example the docs show), as `Store.create` would write them (the
    defaults of the schema `contents` filled in, as it does)."""
    mapping = DocumentMap(model, None, contents=contents)
    batch = mapping.new_batch()
    try:
        mapping.add(batch, mapping.with_defaults(document), key=_stand_in(model.root, 1))
    except ValueRejected:  # valid by the schema, not storable: the docs show no rows rather than wrong ones
        return ()
    stand_ins = _stand_in_keys(mapping, batch)
    return tuple(_table_rows(tm, batch, stand_ins) for tm in mapping.tables)


def _stand_in(table: Table, number: int) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"https://schemarel.invalid/{table.name}/{number}")


def _stand_in_keys(mapping: DocumentMap, batch: RowBatch) -> dict[Any, Any]:
    """Stand-ins for the keys only a database (or a random uuid) would give, in row order: replaced in every
    row that holds them (client keys are uuid objects: no other value equals one)."""
    replace: dict[Any, Any] = {}
    for tm in mapping.tables:
        count = len(batch.rows[tm.index])
        if tm.key_source == "server":
            batch.keys[tm.index] = list(range(1, count + 1))
        elif tm.key_source == "client":
            for row in range(count):
                replace[batch.key_of(tm, row)] = _stand_in(tm.table, row + 1)
    for tm in mapping.tables:
        batch.fill_parent_keys(tm)
    return replace


def _table_rows(tm: TableMap, batch: RowBatch, stand_ins: Mapping[Any, Any]) -> TableRows:
    table = tm.table
    rows = []
    for number, row in enumerate(batch.rows[tm.index], start=1):
        written = dict(zip(tm.columns, row, strict=True))
        if tm.key_source == "server":
            written[tm.key] = number
        cells = []
        for column in table.columns:
            value = written[column.name] if column.name in written else _made(table, column, number)
            value = stand_ins.get(value, value) if _hashable(value) else value
            cells.append(_display(value, column.type.kind == "json"))
        rows.append(tuple(cells))
    return TableRows(table.name, tuple(c.name for c in table.columns), tuple(rows))


def _made(table: Table, column: Column, number: int) -> Any:
    """A value the database gives a column the runtime does not write."""
    default = column.default
    if default is None:
        return None
    if default.kind == "uuid":
        return _stand_in(table, number)
    if default.kind == "sequence":
        return number
    if default.kind == "now":
        return _Expr("now()")
    return default.value


def _hashable(value: Any) -> bool:
    return isinstance(value, uuid.UUID | int | str) and not isinstance(value, bool)


def _display(value: Any, is_json: bool) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, _Expr) or is_json:  # JSON columns: the exact JSON text the runtime writes
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    return str(value)
