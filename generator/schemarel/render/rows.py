"""The rows a document becomes in the IR's tables, as the docs show them next to the example document.

Values the database makes (keys from `gen_random_uuid()` or a sequence, `now()` timestamps) are shown as
stable stand-ins: a uuid derived from the table name and row number, the row number, the SQL expression.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemarel.ir import Column, SchemaModel, Table


@dataclass(frozen=True)
class TableRows:
    table: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # display text per cell


class _Expr(str):
    """A value the database computes, displayed as its SQL expression."""


def document_rows(model: SchemaModel, document: Any) -> tuple[TableRows, ...]:
    children: dict[str, list[Table]] = {}
    for table in model.tables:
        if table.parent:
            children.setdefault(table.parent, []).append(table)
    rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in model.tables}

    def store(table: Table, node: Any, parent_row: Mapping[str, Any] | None) -> None:
        row = {c.name: _value(table, c, node, parent_row, len(rows[table.name]) + 1) for c in table.columns}
        rows[table.name].append(row)
        if not isinstance(node, Mapping):
            return
        for child in children.get(table.name, []):
            value = _at(node, child.parent_path)
            items = value if child.kind == "array" else [value]
            for item in items if isinstance(items, list) else []:
                if item is not None:
                    store(child, item, row)

    store(model.root, document, None)
    return tuple(
        TableRows(t.name, tuple(c.name for c in t.columns), tuple(_display_row(t, r) for r in rows[t.name]))
        for t in model.tables
    )


def _value(table: Table, col: Column, node: Any, parent_row: Mapping[str, Any] | None, number: int) -> Any:
    if col.path:
        return _at(node, col.path)
    if col.name == table.value_column:
        return node
    fk = table.parent_fk
    if fk is not None and parent_row is not None and col.name in fk.columns:
        return parent_row[fk.ref_columns[fk.columns.index(col.name)]]
    default = col.default
    if default is None:
        return None
    if default.kind == "uuid":
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://schemarel.invalid/{table.name}/{number}"))
    if default.kind == "sequence":
        return number
    if default.kind == "now":
        return _Expr("now()")
    return default.value


def _at(node: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _display_row(table: Table, row: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(_display(row[c.name], c.type.kind == "json") for c in table.columns)


def _display(value: Any, is_json: bool) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, _Expr):
        return str(value)
    if is_json:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
