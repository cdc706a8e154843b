"""The IR diff: which tables, columns, constraints and enums of two relational models correspond, and what changed.

Tables and columns correspond by name, or through the previous name a `renamedFrom` hint gave them
(`Table.renamed_from`, `Column.renamed_from`); constraints and indexes by the columns they cover, so a
renamed table or column renames them too. A column that leaves a dropped 1:1 table for its parent (or the
reverse) is a move: an optional object became flattened, or back, and its data goes with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from schemarel.ir import Column, ColumnType, Constraint, Database, EnumType, ForeignKey, Table
from schemarel.sql.spelling import display_default, display_type

INTEGERS = ("smallint", "integer", "bigint")


@dataclass(frozen=True)
class Change:
    """One difference, as the migration doc, the revision message and the destructive-change guard name it."""

    action: str  # "add", "drop", "rename", "alter" or "move"
    what: str  # "table", "column", "enum value", "unique constraint", …
    name: str  # `table` or `table.column` (new name; the old one for drops)
    before: str = ""
    after: str = ""
    pointer: str = ""  # file#pointer of the schema node the change comes from
    destructive: str = ""  # why it may lose data or fail on existing rows; "" when safe
    undo_destructive: str = ""  # the same for its reverse, the downgrade's step

    def reverse(self) -> Change:
        """The change the downgrade makes, with its own destructiveness (as Alembic's `op.reverse()`)."""
        action = {"add": "drop", "drop": "add"}.get(self.action, self.action)
        name = self.name
        if self.action == "rename" and self.what == "column":
            name = f"{self.name.rsplit('.', 1)[0]}.{self.before}"
        elif self.action == "rename" and self.what in ("table", "enum type") or self.action == "move":
            name = self.before
        return Change(
            action, self.what, name, self.after, self.before, self.pointer, self.undo_destructive, self.destructive
        )


@dataclass(frozen=True)
class EnumChange:
    """An enum type whose name or values changed; `renames` maps previous value → new value."""

    table: str
    column: str
    old: EnumType
    new: EnumType
    renames: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Move:
    """Columns going between a 1:1 table and its parent: `flatten` into the parent, `unflatten` out of it."""

    kind: str
    child: Table  # the old table (flatten) or the new one (unflatten)
    parent: str  # the parent's name in the new model
    parent_key: str
    columns: tuple[str, ...]


@dataclass
class TablePair:
    """An old table and the new table it becomes; `columns` maps new column name → old column name."""

    old: Table
    new: Table
    columns: dict[str, str]
    added: list[Column] = field(default_factory=list)
    dropped: list[Column] = field(default_factory=list)

    def old_column(self, new_name: str) -> Column:
        return self.old.column(self.columns[new_name])

    def renamed_columns(self) -> list[tuple[str, str]]:
        return [(o, n) for n, o in self.columns.items() if o != n]

    def map_columns(self, names: tuple[str, ...]) -> tuple[str, ...] | None:
        """Old column names → new ones; None when one of them is gone."""
        back = {o: n for n, o in self.columns.items()}
        return tuple(back[c] for c in names) if all(c in back for c in names) else None


@dataclass
class Diff:
    old: Database
    new: Database
    pairs: list[TablePair]
    added_tables: list[Table]
    dropped_tables: list[Table]
    moves: list[Move]
    enums: list[EnumChange]
    changes: list[Change]

    @property
    def empty(self) -> bool:
        return not self.changes


def diff(old: Database, new: Database, old_pointers: Mapping[str, str], new_pointers: Mapping[str, str]) -> Diff:
    """Compare two relational models; pointers map `table` and `table.column` to `file#pointer`."""
    old_tables = {t.name: t for t in old.tables}
    new_names = {t.name for t in new.tables}
    pairs: list[TablePair] = []
    added: list[Table] = []
    for table in new.tables:
        previous = next((n for n in (table.name, *table.renamed_from) if n in old_tables), None)
        # popped once matched: two tables claiming one previous name make the second a new table
        if previous in old_tables and (previous == table.name or previous not in new_names):
            pairs.append(_pair(old_tables.pop(previous), table))
            continue
        added.append(table)
    dropped = [t for t in old.tables if t.name in old_tables]
    moves = _moves(pairs, added, dropped)
    result = Diff(old, new, pairs, added, dropped, moves, _enum_changes(old, new, pairs), [])
    result.changes = _Describer(result, old_pointers, new_pointers).changes()
    return result


def _pair(old: Table, new: Table) -> TablePair:
    old_names = {c.name for c in old.columns}
    new_names = {c.name for c in new.columns}
    mapping: dict[str, str] = {}
    for col in new.columns:
        if col.name in old_names:
            mapping[col.name] = col.name
        else:
            previous = next((n for n in col.renamed_from if n in old_names and n not in new_names), None)
            if previous:
                mapping[col.name] = previous
    kept = set(mapping.values())
    return TablePair(
        old,
        new,
        mapping,
        [c for c in new.columns if c.name not in mapping],
        [c for c in old.columns if c.name not in kept],
    )


def is_one_to_one(table: Table) -> bool:
    """A table keyed by its parent's key: where an optional nested object is stored."""
    fk = table.parent_fk
    return fk is not None and fk.columns == table.primary_key.columns


def _moves(pairs: list[TablePair], added: list[Table], dropped: list[Table]) -> list[Move]:
    by_old = {p.old.name: p for p in pairs}
    by_new = {p.new.name: p for p in pairs}
    moves = []
    # a dropped 1:1 table whose columns reappear in its parent, or a new one whose columns leave it
    for kind, children, parents in (("flatten", dropped, by_old), ("unflatten", added, by_new)):
        for child in children:
            pair = parents.get(child.parent or "")
            if pair is None or not is_one_to_one(child):
                continue
            side = pair.added if kind == "flatten" else pair.dropped
            cols = _data_columns(child) & {c.name for c in side}
            if cols:
                moves.append(Move(kind, child, pair.new.name, pair.new.primary_key.columns[0], _ordered(child, cols)))
    return moves


def _data_columns(table: Table) -> set[str]:
    return {c.name for c in table.columns if c.name not in table.primary_key.columns}


def _ordered(table: Table, names: set[str]) -> tuple[str, ...]:
    return tuple(c.name for c in table.columns if c.name in names)


def _enum_changes(old: Database, new: Database, pairs: list[TablePair]) -> list[EnumChange]:
    old_enums = {e.name: e for e in old.enums}
    new_enums = {e.name: e for e in new.enums}
    result = []
    for pair in pairs:
        for col in pair.new.columns:
            if col.name not in pair.columns or col.type.kind != "enum":
                continue
            before = pair.old_column(col.name).type
            if before.kind != "enum":
                continue
            o, n = old_enums[str(before.enum)], new_enums[str(col.type.enum)]
            renames = tuple(
                (prev, value) for value, prev in n.renamed_values if prev in o.values and value not in o.values
            )
            if o.name != n.name or o.values != n.values:
                result.append(EnumChange(pair.new.name, col.name, o, n, renames))
    return result


def widens(old: ColumnType, new: ColumnType) -> bool:
    """Whether every value of `old` fits `new` unchanged (enum value sets are compared elsewhere)."""
    if old.kind in INTEGERS and new.kind in INTEGERS:
        return INTEGERS.index(new.kind) >= INTEGERS.index(old.kind)
    if old.kind in ("varchar", "enum") and new.kind == "text":
        return True
    if old.kind in ("varchar", "enum") and new.kind == "varchar":
        return (new.length or 0) >= (old.length or 0)
    if old.kind == "numeric" and new.kind == "numeric":
        return new.precision is None or (old.precision is not None and new.precision >= old.precision)
    if old.kind in INTEGERS and new.kind == "numeric":
        return new.precision is None
    return old == new


class _Describer:
    """Turns a Diff into the list of Changes (with pointers and destructive reasons)."""

    def __init__(self, d: Diff, old_pointers: Mapping[str, str], new_pointers: Mapping[str, str]) -> None:
        self.d = d
        self.old_ptr = old_pointers
        self.new_ptr = new_pointers
        self.old_enums = {e.name: e for e in d.old.enums}
        self.new_enums = {e.name: e for e in d.new.enums}
        self.out: list[Change] = []

    def add(self, action: str, what: str, name: str, before: str = "", after: str = "", **kw: str) -> None:
        self.out.append(Change(action, what, name, before, after, **kw))

    def ptr_new(self, table: str, column: str | None = None) -> str:
        return self.new_ptr.get(f"{table}.{column}" if column else table) or self.new_ptr.get(table, "")

    def ptr_old(self, table: str, column: str | None = None, new_table: str | None = None) -> str:
        key = f"{table}.{column}" if column else table
        return self.old_ptr.get(key) or self.old_ptr.get(table) or (self.ptr_new(new_table) if new_table else "")

    def changes(self) -> list[Change]:
        d = self.d
        moved_from = {m.child.name for m in d.moves if m.kind == "flatten"}
        moved_into = {(m.parent, c) for m in d.moves for c in m.columns}  # parent columns whose data moves
        for table in d.added_tables:
            self.add("add", "table", table.name, pointer=self.ptr_new(table.name),
                     undo_destructive=f"drops table `{table.name}` and all its rows")  # fmt: skip
        for pair in d.pairs:
            self.pair(pair, moved_into)
        for move in d.moves:
            source, target = (
                (move.child.name, move.parent) if move.kind == "flatten" else (move.parent, move.child.name)
            )
            for col in move.columns:
                self.add("move", "column", f"{target}.{col}", f"{source}.{col}", f"{target}.{col}",
                         pointer=self.ptr_new(target, col))  # fmt: skip
        for enum_change in d.enums:
            self.enum(enum_change)
        for table in reversed(d.dropped_tables):
            reason = "" if table.name in moved_from else f"drops table `{table.name}` and all its rows"
            self.add("drop", "table", table.name, pointer=self.ptr_old(table.name), destructive=reason)
        return self.out

    def pair(self, pair: TablePair, moved_into: set[tuple[str, str]]) -> None:
        old, new = pair.old, pair.new
        if old.name != new.name:
            self.add("rename", "table", new.name, old.name, new.name, pointer=self.ptr_new(new.name))
        if old.comment != new.comment:
            self.add("alter", "table comment", new.name, old.comment or "", new.comment or "",
                     pointer=self.ptr_new(new.name))  # fmt: skip
        for col_old, col_new in pair.renamed_columns():
            self.add(
                "rename", "column", f"{new.name}.{col_new}", col_old, col_new, pointer=self.ptr_new(new.name, col_new)
            )
        for col in pair.added:
            reason = ""
            if not col.nullable and col.default is None:
                reason = _needs_default(f"{new.name}.{col.name}", key=not col.path and not col.pointer)
            action = "move" if (new.name, col.name) in moved_into else "add"
            if action == "add" or reason:
                self.add("add", "column", f"{new.name}.{col.name}", after=self.col_text(col, self.new_enums),
                         pointer=self.ptr_new(new.name, col.name), destructive=reason,
                         undo_destructive=f"drops column `{new.name}.{col.name}` and its values")  # fmt: skip
        for name in pair.columns:
            self.alterations(pair, pair.old_column(name), new.column(name))
        for col in pair.dropped:
            if (new.name, col.name) in moved_into:
                continue
            undo = _needs_default(f"{new.name}.{col.name}") if not col.nullable and col.default is None else ""
            self.add("drop", "column", f"{new.name}.{col.name}", self.col_text(col, self.old_enums),
                     pointer=self.ptr_old(old.name, col.name, new.name),
                     destructive=f"drops column `{new.name}.{col.name}` and its values",
                     undo_destructive=undo)  # fmt: skip
        self.constraints(pair)

    def col_text(self, col: Column, enums: Mapping[str, EnumType]) -> str:
        text = f"{display_type(col, enums)}, {'NULL' if col.nullable else 'NOT NULL'}"
        return text + (f", default {display_default(col)}" if col.default else "")

    def alterations(self, pair: TablePair, old: Column, new: Column) -> None:
        name = f"{pair.new.name}.{new.name}"
        ptr = self.ptr_new(pair.new.name, new.name)
        if old.type != new.type and not (old.type.kind == new.type.kind == "enum"):
            before, after = display_type(old, self.old_enums), display_type(new, self.new_enums)
            reason = "" if widens(old.type, new.type) else f"narrows `{name}` from `{before}` to `{after}`"
            undo = "" if widens(new.type, old.type) else f"narrows `{name}` from `{after}` to `{before}`"
            self.add("alter", "type", name, before, after, pointer=ptr, destructive=reason, undo_destructive=undo)
        if old.nullable != new.nullable:
            reason, undo = "", ""
            if not new.nullable and new.default is None:
                reason = f"makes `{name}` NOT NULL without a default: rows holding NULL would fail the upgrade"
            if not old.nullable:  # the downgrade has no backfill: NULLs stored meanwhile make it fail
                undo = f"makes `{name}` NOT NULL again: rows holding NULL would fail the downgrade"
            self.add("alter", "nullability", name, "NULL" if old.nullable else "NOT NULL",
                     "NULL" if new.nullable else "NOT NULL", pointer=ptr, destructive=reason,
                     undo_destructive=undo)  # fmt: skip
        if old.default != new.default:
            self.add("alter", "default", name, display_default(old), display_default(new), pointer=ptr)
        if old.comment != new.comment:
            self.add("alter", "comment", name, old.comment or "", new.comment or "", pointer=ptr)

    def constraints(self, pair: TablePair) -> None:
        table = pair.new.name
        ptr = self.ptr_new(table)
        if pair.old.primary_key.name != pair.new.primary_key.name:
            self.add("rename", "primary key", table, pair.old.primary_key.name, pair.new.primary_key.name, pointer=ptr)
        for kind, olds, news in (
            ("unique constraint", pair.old.uniques, pair.new.uniques),
            ("index", pair.old.indexes, pair.new.indexes),
        ):
            matched = match_constraints(pair, olds, news)
            for o, n in matched:
                if o.name != n.name:
                    self.add("rename", kind, table, o.name, n.name, pointer=ptr)
            for n in news:
                if all(n is not m for _, m in matched):
                    self.add("add", kind, table, after=f"{n.name} ({', '.join(n.columns)})", pointer=ptr)
            for o in olds:
                if all(o is not m for m, _ in matched):
                    self.add("drop", kind, table, before=f"{o.name} ({', '.join(o.columns)})", pointer=ptr)
        old_checks = {c.sqltext: c for c in pair.old.checks}
        new_checks = {c.sqltext: c for c in pair.new.checks}
        for text, check in new_checks.items():
            if text not in old_checks:
                self.add("add", "check constraint", table, after=f"{check.name}: {text}", pointer=ptr)
            elif old_checks[text].name != check.name:
                self.add("rename", "check constraint", table, old_checks[text].name, check.name, pointer=ptr)
        for text, check in old_checks.items():
            if text not in new_checks:
                self.add("drop", "check constraint", table, before=f"{check.name}: {text}", pointer=ptr)
        for o_fk, n_fk in match_foreign_keys(pair):
            if o_fk.name != n_fk.name:
                self.add("rename", "foreign key", table, o_fk.name, n_fk.name, pointer=ptr)

    def enum(self, change: EnumChange) -> None:
        ptr = self.ptr_new(change.table, change.column)
        if change.old.name != change.new.name:
            self.add("rename", "enum type", change.new.name, change.old.name, change.new.name, pointer=ptr)
        renamed_old = {o for o, _ in change.renames}
        renamed_new = {n for _, n in change.renames}
        for before, after in change.renames:
            self.add("rename", "enum value", change.new.name, before, after, pointer=ptr)
        for value in change.new.values:
            if value not in change.old.values and value not in renamed_new:
                self.add("add", "enum value", change.new.name, after=value, pointer=ptr,
                         undo_destructive=f"removes value {value!r} from `{change.new.name}`: "
                         "rows holding it would fail the downgrade")  # fmt: skip
        for value in change.old.values:
            if value not in change.new.values and value not in renamed_old:
                self.add("drop", "enum value", change.new.name, before=value, pointer=ptr,
                         destructive=f"removes value {value!r} from `{change.new.name}`: "
                         "rows holding it would fail the upgrade")  # fmt: skip


def _needs_default(column: str, key: bool = False) -> str:
    if key:  # a key schemarel adds (the parent's key changed): no schema default can fill it
        return (
            f"adds key column `{column}` to a table that may hold rows: the key it refers to changed; fill it in a "
            "hand-written revision (`schemarel revision`), or pass --allow-destructive for a database without rows"
        )
    return (
        f"adds required column `{column}` without a default to a table that may hold rows; "
        'give the property a "default" (it fills the existing rows)'
    )


def match_constraints(
    pair: TablePair, olds: tuple[Constraint, ...], news: tuple[Constraint, ...]
) -> list[tuple[Constraint, Constraint]]:
    """Old and new unique constraints (or indexes) over the same columns, after column renames."""
    by_cols = {n.columns: n for n in news}
    result = []
    for o in olds:
        cols = pair.map_columns(o.columns)
        if cols is not None and cols in by_cols:
            result.append((o, by_cols.pop(cols)))
    return result


def match_foreign_keys(pair: TablePair) -> list[tuple[ForeignKey, ForeignKey]]:
    by_cols = {fk.columns: fk for fk in pair.new.foreign_keys}
    result = []
    for fk in pair.old.foreign_keys:
        cols = pair.map_columns(fk.columns)
        if cols is not None and cols in by_cols:
            result.append((fk, by_cols.pop(cols)))
    return result
