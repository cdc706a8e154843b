"""The data checks a revision runs before it changes anything, each way (see schemarel.preconditions)."""

from __future__ import annotations

from typing import Any

from schemarel.ir import Column, ColumnType
from schemarel.migrate.diff import Diff, widens
from schemarel.sql.types import INT_RANGES

Check = tuple[Any, ...]  # ("kind", table, column, *arguments), as schemarel.preconditions reads it


def data_checks(d: Diff, upgrade: bool) -> list[Check]:
    """What `protect_data` checks at the start of the upgrade (old names) or the downgrade (new names)."""
    checks: list[Check] = []
    moved_tables = {m.child.name for m in d.moves}
    moved_columns = {(m.parent, c) for m in d.moves for c in m.columns}
    for pair in d.pairs:
        start, end = (pair.old, pair.new) if upgrade else (pair.new, pair.old)
        for new_name, old_name in pair.columns.items():
            before, after = (old_name, new_name) if upgrade else (new_name, old_name)
            checks += _column_checks(start.name, start.column(before), end.column(after))
        gone = pair.dropped if upgrade else pair.added
        checks += [("drops", start.name, c.name) for c in gone if (pair.new.name, c.name) not in moved_columns]
    for change in d.enums:
        pair = next(p for p in d.pairs if p.new.name == change.table)
        renamed = {a for a, _ in change.renames} if upgrade else {b for _, b in change.renames}
        source, target = (change.old, change.new) if upgrade else (change.new, change.old)
        removed = [v for v in source.values if v not in target.values and v not in renamed]
        if removed:
            table, column = (pair.old.name, pair.columns[change.column]) if upgrade else (change.table, change.column)
            checks.append(("enum_values", table, column, removed))
    gone_tables = d.dropped_tables if upgrade else d.added_tables
    checks += [("drops", t.name, None) for t in gone_tables if t.name not in moved_tables]
    return checks


def _column_checks(table: str, before: Column, after: Column) -> list[Check]:
    checks: list[Check] = []
    if before.nullable and not after.nullable and not (after.default and after.default.kind == "literal"):
        checks.append(("not_null", table, before.name))  # a literal default is backfilled first
    if before.type != after.type and not widens(before.type, after.type):
        checks += _narrowing(table, before.name, before.type, after.type)
    return checks


def _narrowing(table: str, column: str, before: ColumnType, after: ColumnType) -> list[Check]:
    if after.kind == "varchar" and before.kind in ("text", "varchar", "enum") and after.length:
        return [("max_length", table, column, after.length)]
    ranges = {kind: (low, high) for kind, low, high in INT_RANGES}
    if before.kind in ranges and after.kind in ranges:
        return [("range", table, column, *ranges[after.kind])]
    return []  # other conversions (text to a number, say) fail on the first value that does not convert
