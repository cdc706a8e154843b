"""The IR diff: what changed between two relational models, as Changes that carry their own consequences.

A Change says what it is (the doc's line, the revision message), whether it may lose data or fail on
existing rows (the guard), and which rows the revision checks before it runs (`protect_data`), each for
itself and for its reverse, the downgrade's step. Which tables, columns and constraints correspond is
`schemarel.migrate.match`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from schemarel.errors import pointer
from schemarel.ir import Check, Column, ColumnType, Database, EnumType, Table
from schemarel.migrate.match import (
    CheckedRenames,
    EnumChange,
    Move,
    TablePair,
    checked_renames,
    convertible,
    enum_changes,
    find_moves,
    fresh_objects,
    kept_name_moves,
    match_constraints,
    match_foreign_keys,
    pair_tables,
    previous_of,
    widens,
)
from schemarel.sql.checks import RULES
from schemarel.sql.kinds import MYSQL_EXACT
from schemarel.sql.spelling import display_default, display_type, inexact_columns
from schemarel.sql.types import INT_RANGES

# What `protect_data` checks (schemarel.support.preconditions spells them; revisions are history, so frozen):
# ("kind", table, column, *arguments), in the names the table has when the step starts; () for none
DataCheck = tuple[Any, ...]


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
    check: DataCheck = ()  # the rows the step checks before anything changes (refused, or warned about)
    undo_check: DataCheck = ()  # the same for its reverse

    def reverse(self) -> Change:
        """The change the downgrade makes, with its own destructiveness (as Alembic's `op.reverse()`)."""
        action = {"add": "drop", "drop": "add"}.get(self.action, self.action)
        name = self.name
        if self.action == "rename" and self.what == "column":
            name = f"{self.name.rsplit('.', 1)[0]}.{self.before}"
        elif self.action == "rename" and self.what in ("table", "enum type", "schema") or self.action == "move":
            name = self.before
        return Change(
            action, self.what, name, self.after, self.before, self.pointer, self.undo_destructive, self.destructive,
            self.undo_check, self.check,
        )  # fmt: skip


@dataclass
class Diff:
    """Two models, how their tables correspond, and the Changes between them."""

    old: Database
    new: Database
    pairs: list[TablePair]
    added_tables: list[Table]
    dropped_tables: list[Table]
    moves: list[Move]
    enums: list[EnumChange]
    changes: list[Change]
    old_pointers: Mapping[str, str] = field(default_factory=dict)  # `table`, `table.column` → `file#pointer`
    new_pointers: Mapping[str, str] = field(default_factory=dict)
    checked: list[CheckedRenames] = field(default_factory=list)  # values renamed in columns kept by a CHECK

    @property
    def empty(self) -> bool:
        return not self.changes


def diff(old: Database, new: Database, old_pointers: Mapping[str, str], new_pointers: Mapping[str, str]) -> Diff:
    """Compare two relational models; pointers map `table` and `table.column` to `file#pointer`."""
    pairs, added, dropped = pair_tables(old, new)
    result = Diff(
        old, new, pairs, added, dropped, find_moves(pairs, added, dropped), enum_changes(old, new, pairs), [],
        old_pointers, new_pointers, checked_renames(pairs),
    )  # fmt: skip
    result.changes = describe(result, old_pointers, new_pointers)
    return result


def schema_renames(d: Diff) -> list[tuple[str, str]]:
    """(old, new) names of schema files renamed: a new name whose tables all pair with one old schema's, a
    name the new model no longer has, and no other new name taking tables of it."""
    owner = {t.name: s.name for s in d.old.schemas for t in s.tables}
    old_names, new_names = {s.name for s in d.old.schemas}, {s.name for s in d.new.schemas}
    paired = {p.new.name: owner[p.old.name] for p in d.pairs}
    candidates = []
    for s in d.new.schemas:
        owners = {paired.get(t.name) for t in s.tables}
        if s.name not in old_names and len(owners) == 1 and None not in owners:
            (before,) = owners
            if before is not None and before not in new_names:
                candidates.append((before, s.name))
    taken = [before for before, _ in candidates]
    return [(b, a) for b, a in candidates if taken.count(b) == 1]


def describe(d: Diff, old_pointers: Mapping[str, str], new_pointers: Mapping[str, str]) -> list[Change]:
    """The Changes of `d`'s pairs, added, dropped and moved tables and enums."""
    return _Describer(d, old_pointers, new_pointers).changes()


class _Describer:
    """Turns a Diff into the list of Changes (with pointers and destructive reasons)."""

    def __init__(self, d: Diff, old_pointers: Mapping[str, str], new_pointers: Mapping[str, str]) -> None:
        self.d = d
        self.old_ptr = old_pointers
        self.new_ptr = new_pointers
        self.old_enums = {e.name: e for e in d.old.enums}
        self.new_enums = {e.name: e for e in d.new.enums}
        self.out: list[Change] = []

    def add(self, action: str, what: str, name: str, before: str = "", after: str = "", **kw: Any) -> None:
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
        moving = {m.child.name for m in d.moves}  # tables whose data goes to (or comes from) their parent
        for before, after in schema_renames(d):
            # no database op: the snapshot records which file owns the tables, and the runtime and `--schema`
            # find them by its name, so the revision says why it is written
            root = d.new.schema(after).tables[0].name
            self.add("rename", "schema", after, before, after, pointer=self.ptr_new(root))
        for table in d.added_tables:
            self.add("add", "table", table.name, pointer=self.ptr_new(table.name),
                     undo_destructive=f"drops table `{table.name}` and all its rows",
                     undo_check=("drops", table.name, None) if table.name not in moving else ())  # fmt: skip
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
            check = ("drops", table.name, None) if table.name not in moving else ()
            self.add("drop", "table", table.name, pointer=self.ptr_old(table.name), destructive=reason, check=check)
        return self.out

    def pair(self, pair: TablePair, moved_into: set[tuple[str, str]]) -> None:
        old, new = pair.old, pair.new
        if old.name != new.name:
            self.add("rename", "table", new.name, old.name, new.name, pointer=self.ptr_new(new.name))
        if old.comment != new.comment:
            self.add("alter", "table comment", new.name, old.comment or "", new.comment or "",
                     pointer=self.ptr_new(new.name))  # fmt: skip
        fresh = fresh_objects(pair, self.d.pairs, self.old_ptr, self.new_ptr)
        for path in fresh:  # what the rows keep below a renamed flattened object moves (`phases.moved_pointers`)
            self.add("rename", "property", new.name, pointer(*previous_of(fresh, path))[1:], pointer(*path)[1:],
                     pointer=self.ptr_new(new.name))  # fmt: skip
        for before, after in kept_name_moves(pair, self.d.pairs, self.old_ptr, self.new_ptr):
            # no name changes: the row's marks and spellings move (`phases.Builder.moved_pointers`)
            self.add("rename", "property", new.name, pointer(*before)[1:], pointer(*after)[1:],
                     pointer=self.ptr_new(new.name))  # fmt: skip
        for col_old, col_new in pair.renamed_columns():
            self.add(
                "rename", "column", f"{new.name}.{col_new}", col_old, col_new, pointer=self.ptr_new(new.name, col_new)
            )
        for checked in (c for c in self.d.checked if c.table == new.name):
            for previous, value in checked.renames:  # the column's CHECK over them changes too (`constraints`)
                self.add("rename", "stored value", f"{new.name}.{checked.column}", previous, value,
                         pointer=self.ptr_new(new.name, checked.column))  # fmt: skip
        for col in pair.added:
            reason = ""
            if not col.nullable and col.default is None:
                reason = _needs_default(f"{new.name}.{col.name}", key=not col.path and not col.pointer)
            action = "move" if (new.name, col.name) in moved_into else "add"
            if action == "add" or reason:
                # what the guard refuses is what the revision checks: rows the column would leave without a value
                check = ("added_required", old.name, col.name) if reason else ()
                self.add("add", "column", f"{new.name}.{col.name}", after=self.col_text(col, self.new_enums),
                         pointer=self.ptr_new(new.name, col.name), destructive=reason, check=check,
                         undo_destructive=f"drops column `{new.name}.{col.name}` and its values",
                         undo_check=("drops", new.name, col.name) if action == "add" else ())  # fmt: skip
        for name in pair.columns:
            self.alterations(pair, pair.old_column(name), new.column(name))
        for col in pair.dropped:
            if (new.name, col.name) in moved_into:
                continue
            undo = _needs_default(f"{new.name}.{col.name}") if not col.nullable and col.default is None else ""
            self.add("drop", "column", f"{new.name}.{col.name}", self.col_text(col, self.old_enums),
                     pointer=self.ptr_old(old.name, col.name, new.name),
                     destructive=f"drops column `{new.name}.{col.name}` and its values",
                     undo_destructive=undo, check=("drops", old.name, col.name),
                     undo_check=("added_required", new.name, col.name) if undo else ())  # fmt: skip
        self.constraints(pair)

    def col_text(self, col: Column, enums: Mapping[str, EnumType]) -> str:
        text = f"{display_type(col, enums)}, {'NULL' if col.nullable else 'NOT NULL'}"
        return text + (f", default {display_default(col)}" if col.default else "")

    def alterations(self, pair: TablePair, old: Column, new: Column) -> None:
        name = f"{pair.new.name}.{new.name}"
        ptr = self.ptr_new(pair.new.name, new.name)
        old_at, new_at = (pair.old.name, old.name), (pair.new.name, new.name)  # where each step finds the column
        if old.type != new.type and not (old.type.kind == new.type.kind == "enum"):
            before, after = display_type(old, self.old_enums), display_type(new, self.new_enums)
            reason = "" if widens(old.type, new.type) else f"narrows `{name}` from `{before}` to `{after}`"
            undo = "" if widens(new.type, old.type) else f"narrows `{name}` from `{after}` to `{before}`"
            self.add("alter", "type", name, before, after, pointer=ptr, destructive=reason, undo_destructive=undo,
                     check=_narrowing(old_at, old.type, new.type, self.new_enums),
                     undo_check=_narrowing(new_at, new.type, old.type, self.old_enums))  # fmt: skip
        if old.nullable != new.nullable:
            reason, undo = "", ""
            # a literal default is backfilled before NOT NULL (the downgrade backfills nothing)
            backfilled = new.default is not None and new.default.kind == "literal"
            check = ("not_null", *old_at) if not new.nullable and not backfilled else ()
            if check:  # what the guard refuses is what the revision checks
                fills = (
                    f"with a default ({display_default(new)}) that does not fill existing rows" if new.default else ""
                )
                reason = (
                    f"makes `{name}` NOT NULL {fills or 'without a default'}: rows holding NULL would fail the upgrade"
                )
            if not old.nullable:  # the downgrade has no backfill: NULLs stored meanwhile make it fail
                undo = f"makes `{name}` NOT NULL again: rows holding NULL would fail the downgrade"
            self.add("alter", "nullability", name, "NULL" if old.nullable else "NOT NULL",
                     "NULL" if new.nullable else "NOT NULL", pointer=ptr, destructive=reason,
                     undo_destructive=undo, check=check,
                     undo_check=("not_null", *new_at) if not old.nullable else ())  # fmt: skip
        if same_text(old, new) and exact_string(self.d.old, pair.old, old) != (
            exact := exact_string(self.d.new, pair.new, new)
        ):  # MariaDB/MySQL only (`sql.kinds.MYSQL_EXACT`): the column there gets the other collation
            server, binary = "the server's default", MYSQL_EXACT
            undo = (
                f"gives `{name}` the server's collation again on MariaDB/MySQL, which takes values that differ only "
                "in case, accents or trailing spaces as equal: a key or unique value repeated that way fails the "
                "downgrade"
            )
            collides = _collisions(self.d, pair, new.name, before=not exact)  # run by the step that leaves exact
            self.add("alter", "collation", name, *((server, binary) if exact else (binary, server)), pointer=ptr,
                     undo_destructive=undo if exact else "", destructive="" if exact else undo,
                     undo_check=collides if exact else (), check=() if exact else collides)  # fmt: skip
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
            unique = kind == "unique constraint"
            for n in news:
                if all(n is not m for _, m in matched):
                    self.add("add", kind, table, after=f"{n.name} ({', '.join(n.columns)})", pointer=ptr,
                             check=_repeats(pair.old.name, _old_names(pair, n.columns)) if unique else ())  # fmt: skip
            for o in olds:
                if all(o is not m for m, _ in matched):
                    self.add("drop", kind, table, before=f"{o.name} ({', '.join(o.columns)})", pointer=ptr,
                             undo_check=_repeats(table, pair.map_columns(o.columns)) if unique else ())  # fmt: skip
        old_checks = {c.sqltext: c for c in pair.old.checks}
        new_checks = {c.sqltext: c for c in pair.new.checks}
        # values the revision renames before the new CHECK comes, and back before the old one returns
        renamed = {r.column: r.renames for r in self.d.checked if r.table == table}
        for text, check in new_checks.items():
            if text not in old_checks:
                held = _renamed_into(check, renamed.get(check.column, ()))
                self.add("add", "check constraint", table, after=f"{check.name}: {text}", pointer=ptr,
                         check=_violations(pair.old.name, pair.columns.get(check.column), held))  # fmt: skip
            elif old_checks[text].name != check.name:
                self.add("rename", "check constraint", table, old_checks[text].name, check.name, pointer=ptr)
        for text, check in old_checks.items():
            if text not in new_checks:
                back = pair.map_columns((check.column,)) if check.column else None
                undone = _renamed_into(check, [(b, a) for a, b in renamed.get(back[0], ())] if back else [])
                self.add("drop", "check constraint", table, before=f"{check.name}: {text}", pointer=ptr,
                         undo_check=_violations(table, back[0] if back else None, undone))  # fmt: skip
        for o_fk, n_fk in match_foreign_keys(pair):
            if o_fk.name != n_fk.name:
                self.add("rename", "foreign key", table, o_fk.name, n_fk.name, pointer=ptr)

    def enum(self, change: EnumChange) -> None:
        ptr = self.ptr_new(change.table, change.column)
        if change.old.name != change.new.name:
            self.add("rename", "enum type", change.new.name, change.old.name, change.new.name, pointer=ptr)
        pair = next(p for p in self.d.pairs if p.new.name == change.table)
        old_at, new_at = (pair.old.name, pair.columns[change.column]), (change.table, change.column)
        renamed_old = {o for o, _ in change.renames}
        renamed_new = {n for _, n in change.renames}
        for before, after in change.renames:
            self.add("rename", "enum value", change.new.name, before, after, pointer=ptr)
        for value in change.new.values:
            if value not in change.old.values and value not in renamed_new:
                self.add("add", "enum value", change.new.name, after=value, pointer=ptr,
                         undo_destructive=f"removes value {value!r} from `{change.new.name}`: "
                         "rows holding it would fail the downgrade",
                         undo_check=("enum_values", *new_at, (value,)))  # fmt: skip
        for value in change.old.values:
            if value not in change.new.values and value not in renamed_old:
                self.add("drop", "enum value", change.new.name, before=value, pointer=ptr,
                         destructive=f"removes value {value!r} from `{change.new.name}`: "
                         "rows holding it would fail the upgrade",
                         check=("enum_values", *old_at, (value,)))  # fmt: skip


def same_text(old: Column, new: Column) -> bool:
    """Whether a kept string column keeps its type in the model, while MySQL/MariaDB may spell it otherwise
    (another collation; TEXT joining or leaving a key, where it is a varchar(255))."""
    return old.type == new.type and new.type.kind in ("text", "varchar")


def exact_string(db: Database, table: Table, column: Column) -> bool:
    """Whether the column, a string, compares exactly on MariaDB/MySQL in the model `db` (`spelling.type_spec`)."""
    return db.exact_text and column.name not in inexact_columns(table)


def _collisions(d: Diff, pair: TablePair, column: str, before: bool) -> DataCheck:
    """The check that the unique keys `pair`'s string columns are in once back in the server's collation hold
    no values it takes as equal (`("recollates", table, None, [changing], [[key], …], [names])`), carried by
    the first of them: the keys of the model the step ends on and any unique key the database holds but the
    ones schemarel named in the model it starts from (`names`: dropped or remade by the step), e.g. a unique
    index a hand-written revision made. In the names the step starts with: before the upgrade when `before`
    (the upgrade's check), else after it."""
    changing = [
        c.name
        for c in pair.new.columns
        if c.name in pair.columns and same_text(pair.old_column(c.name), c)
        and exact_string(d.old, pair.old, pair.old_column(c.name)) != exact_string(d.new, pair.new, c)
    ]  # fmt: skip
    if column != changing[0]:
        return ()
    start, end = (pair.old, pair.new) if before else (pair.new, pair.old)
    to_start = dict(pair.columns) if before else {o: n for n, o in pair.columns.items()}
    if not before:  # a foreign key column a key switch replaced: the new one refers to the same parent row
        for gone, follower in _followers(d, pair).items():
            to_start.setdefault(gone, follower)
    moving = [pair.columns[c] for c in changing] if before else changing
    keys = [
        [to_start[c] for c in key.columns]
        for key in (end.primary_key, *end.uniques)
        if all(c in to_start for c in key.columns) and any(to_start[c] in moving for c in key.columns)
    ]
    return ("recollates", start.name, None, moving, keys, [u.name for u in start.uniques])


def _followers(d: Diff, pair: TablePair) -> dict[str, str]:
    """Old foreign key column → the new one referring to the same parent (the key it refers to changed)."""
    renamed = {p.old.name: p.new.name for p in d.pairs}
    found: dict[str, str] = {}
    for old_fk in pair.old.foreign_keys:
        new_fk = [f for f in pair.new.foreign_keys if f.ref_table == renamed.get(old_fk.ref_table)]
        if len(old_fk.columns) == 1 and len(new_fk) == 1 and len(new_fk[0].columns) == 1:
            found[old_fk.columns[0]] = new_fk[0].columns[0]
    return found


def _old_names(pair: TablePair, columns: tuple[str, ...]) -> tuple[str, ...] | None:
    """New column names → the old ones; None when one of them is new (it holds no values to repeat yet)."""
    return tuple(pair.columns[c] for c in columns) if all(c in pair.columns for c in columns) else None


def _violations(table: str, column: str | None, check: Check) -> DataCheck:
    """The rows a new CHECK on a column that holds values would refuse (a discriminator's case, over several
    columns, fails the statement instead)."""
    rule = RULES.get(check.rule)
    if column is None or rule is None or rule.op == "requires":
        return ()
    return ("violates", table, column, check.name, rule.op, rule.func, check.value, list(rule.dialects))


def _renamed_into(check: Check, renames: Sequence[tuple[str, str]]) -> Check:
    """An `in` CHECK allowing the values `renames` (previous → new) turn into its own too: the rows holding them
    are renamed before the CHECK comes, so its data check lets them pass."""
    if check.rule != "in" or not renames:
        return check
    return replace(check, value=[*check.value, *(before for before, _ in renames if before not in check.value)])


def _repeats(table: str, columns: tuple[str, ...] | None) -> DataCheck:
    """The rows a new unique constraint would refuse: a value (or combination) held by more than one row."""
    return ("unique", table, None, list(columns)) if columns else ()


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


def _narrowing(at: tuple[str, str], before: ColumnType, after: ColumnType, enums: Mapping[str, EnumType]) -> DataCheck:
    """The rows a type change cannot keep, where a query can find them first: too long, out of range, or a
    value the conversion would not keep as it is (SQLite and MariaDB round or zero those in silence)."""
    if widens(before, after):
        return ()
    if after.kind == "varchar" and before.kind in ("text", "varchar", "enum") and after.length:
        return ("max_length", *at, after.length)
    ranges = {kind: (low, high) for kind, low, high in INT_RANGES}
    if before.kind in ranges and after.kind in ranges:
        return ("range", *at, *ranges[after.kind])
    target = enums.get(after.enum or "") if after.kind == "enum" else None
    if target is not None:
        return ("converts", *at, before.kind, "enum", list(target.values))
    if convertible(before.kind, after.kind):
        return ("converts", *at, before.kind, after.kind)
    return ()
