"""Which tables, columns, constraints and enums of two relational models correspond.

Tables and columns correspond by name, or through the previous name a `renamedFrom` hint gave them
(`Table.renamed_from`, `Column.renamed_from`); constraints and indexes by the columns they cover, so a
renamed table or column renames them too. A column that leaves a dropped 1:1 table for its parent (or the
reverse) is a move: an optional object became flattened, or back, and its data goes with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from schemarel.ir import Column, ColumnType, Constraint, Database, EnumType, ForeignKey, Table

INTEGERS = ("smallint", "integer", "bigint")


@dataclass(frozen=True)
class EnumChange:
    """An enum type whose name or values changed; `renames` maps previous value → new value."""

    table: str
    column: str
    old: EnumType
    new: EnumType
    renames: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CheckedRenames:
    """Stored values of a string column kept to its enum by a CHECK (no enum type) that a `renamedValues` hint
    renames: `before` and `after` are the CHECK's values, `renames` maps previous value → new value."""

    table: str
    column: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    renames: tuple[tuple[str, str], ...]


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


def pair_tables(old: Database, new: Database) -> tuple[list[TablePair], list[Table], list[Table]]:
    """The tables of `new` paired with the old table each becomes; the added ones; the dropped ones."""
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
    return pairs, added, [t for t in old.tables if t.name in old_tables]


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


def kept_name_moves(
    pair: TablePair, pairs: Sequence[TablePair], old_ptr: Mapping[str, str], new_ptr: Mapping[str, str]
) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(previous, current) paths of the properties of `pair`'s rows that a `renamedFrom` hint renames while their
    column (`x-sql.column`) or child table (`x-sql.table`) keeps its name, so that no name tells the rename: the
    hint is this revision's when the property was at its previous name at the last revision (its recorded
    pointer ends there) and is no longer (a renamed file alone moves nothing)."""
    kept = {c.name for c in pair.old.columns}
    if not any(c and c in kept for c in (pair.new.presence_column, pair.new.spelling_column)):
        return []  # the rows keep nothing under a property's pointer
    moves = []
    for name, old_name in pair.columns.items():
        col = pair.new.column(name)
        if name == old_name and _fresh(
            col.previous_path, old_ptr.get(f"{pair.old.name}.{name}"), new_ptr.get(f"{pair.new.name}.{name}")
        ):
            moves.append((col.previous_path, col.path))
    for child in pairs:
        new = child.new
        fresh = _fresh(new.previous_path, old_ptr.get(new.name), new_ptr.get(new.name))
        if new.parent == pair.new.name and child.old.name == new.name and fresh:
            moves.append((new.previous_path, new.parent_path))
    return moves


def fresh_objects(
    pair: TablePair, pairs: Sequence[TablePair], old_ptr: Mapping[str, str], new_ptr: Mapping[str, str]
) -> dict[tuple[str, ...], str]:
    """path → previous name of the objects flattened into `pair`'s rows that this revision renames
    (`Table.renamed_objects`): a hint is this revision's when a column or child table below the object was
    recorded at a pointer naming the object by its previous name where the current one names it by its own (a
    hint kept after its revision, or a renamed file, renames nothing)."""
    result = {}
    for path, old_name in pair.new.renamed_objects:
        below = [
            (old_ptr.get(f"{pair.old.name}.{old}"), new_ptr.get(f"{pair.new.name}.{name}"))
            for name, old in pair.columns.items()
            if pair.new.column(name).path[: len(path)] == path
        ]
        below += [
            (old_ptr.get(p.old.name), new_ptr.get(p.new.name))
            for p in pairs
            if p.new.parent == pair.new.name and p.new.parent_path[: len(path)] == path
        ]
        if any(_renamed_step(before, after, old_name, path[-1]) for before, after in below):
            result[path] = old_name
    return result


def _renamed_step(before: str | None, after: str | None, old: str, new: str) -> bool:
    """Whether recorded pointer `before` names a step `old` where `after`, the current one, names it `new`."""
    if before is None or after is None:
        return False
    a, b = before.partition("#")[2].split("/"), after.partition("#")[2].split("/")
    return len(a) == len(b) and any(x == _escaped(old) and y == _escaped(new) for x, y in zip(a, b, strict=True))


def _escaped(step: str) -> str:
    return step.replace("~", "~0").replace("/", "~1")


def previous_of(fresh: Mapping[tuple[str, ...], str], path: tuple[str, ...]) -> tuple[str, ...]:
    """`path` with each object on it that this revision renames (`fresh_objects`) under its previous name."""
    return tuple(fresh.get(path[: i + 1], step) for i, step in enumerate(path))


def object_moves(
    table: Table, fresh: Mapping[tuple[str, ...], str], moves: Sequence[tuple[tuple[str, ...], tuple[str, ...]]]
) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """`moves` ((previous, current) paths of renamed properties, their parents as they are now) as they go when
    the flattened objects `fresh` are renamed too, and the moves of everything else `table`'s rows may keep
    below those objects: their own marks and extras, their properties' marks and spellings."""
    if not fresh:
        return list(moves)
    result = [((*previous_of(fresh, a[:-1]), a[-1]), b) for a, b in moves]
    targets = {b for _, b in result}
    held = {*table.presence_paths, *(o.path for o in table.open_objects), *(c.path for c in table.columns if c.path)}
    for at in sorted(held - targets):
        if previous_of(fresh, at) != at:
            result.append((previous_of(fresh, at), at))
    return result


def kept_name_renames(old: Database, new: Database, old_ptr: Mapping[str, str], new_ptr: Mapping[str, str]) -> bool:
    """Whether a revision from `old` to `new` moves what rows keep under a renamed property's pointer though
    no name changes (`kept_name_moves`): it is needed even when the relational models are equal."""
    if not any(t.previous_path or t.renamed_objects or any(c.previous_path for c in t.columns) for t in new.tables):
        return False
    pairs = pair_tables(old, new)[0]
    return any(
        kept_name_moves(pair, pairs, old_ptr, new_ptr) or fresh_objects(pair, pairs, old_ptr, new_ptr) for pair in pairs
    )


def _fresh(previous: tuple[str, ...], before: str | None, after: str | None) -> bool:
    """Whether a hint naming `previous` renames now: the recorded `file#pointer` (`before`) names the property
    at its previous name and the current one (`after`) does not."""
    if not previous or before is None or after is None:
        return False
    old_at, new_at = before.partition("#")[2], after.partition("#")[2]
    escaped = previous[-1].replace("~", "~0").replace("/", "~1")
    return old_at != new_at and old_at.endswith(f"/{escaped}")


def is_one_to_one(table: Table) -> bool:
    """A table keyed by its parent's key: where an optional nested object is stored."""
    fk = table.parent_fk
    return fk is not None and fk.columns == table.primary_key.columns


def find_moves(pairs: list[TablePair], added: list[Table], dropped: list[Table]) -> list[Move]:
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


def enum_changes(old: Database, new: Database, pairs: list[TablePair]) -> list[EnumChange]:
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
            renames = live_renames(o.values, n.values, n.renamed_values)
            if o.name != n.name or o.values != n.values:
                result.append(EnumChange(pair.new.name, col.name, o, n, renames))
    return result


def checked_renames(pairs: list[TablePair]) -> list[CheckedRenames]:
    """The value renames of the string enums kept as a CHECK (`Column.renamed_values`) this revision makes: the
    CHECK's values before and after say which hints are live, as an enum type's values do (`live_renames`)."""
    result = []
    for pair in pairs:
        for col in pair.new.columns:
            if not col.renamed_values or col.name not in pair.columns:
                continue
            before, after = _listed(pair.old, pair.columns[col.name]), _listed(pair.new, col.name)
            renames = live_renames(before, after, col.renamed_values) if before and after else ()
            if renames:
                result.append(CheckedRenames(pair.new.name, col.name, before, after, renames))
    return result


def _listed(table: Table, column: str) -> tuple[str, ...]:
    """The values the `in` CHECK of `column` allows; () without one."""
    found = next((c.value for c in table.checks if c.column == column and c.rule == "in"), None)
    return tuple(found) if isinstance(found, list | tuple) else ()


def live_renames(
    before: tuple[str, ...], after: tuple[str, ...], hints: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """The (previous, new) value renames of `hints` ((new, previous) pairs) this revision makes on an enum that
    held `before` and holds `after`: a previous value it holds renamed to one it does not, and along a chain
    (`a → b` and `b → c` at once) one whose new value is renamed away by another. A hint kept after its revision
    renames nothing: its previous value is gone, or its new value stays (a swap, never live, is refused when
    normalizing), or its previous value is in the enum again without another hint renaming a value to it (it
    was added back after the rename: its rows are new ones, which a chain renaming the new value away must not
    take along)."""
    targets = {value for value, _ in hints}
    held = [(prev, value) for value, prev in hints if prev in before and (prev not in after or prev in targets)]
    live = [(prev, value) for prev, value in held if value not in before]
    grown = True
    while grown:
        away = {prev for prev, _ in live}
        more = [pair for pair in held if pair not in live and pair[1] in away]
        live += more
        grown = bool(more)
    return tuple(pair for pair in held if pair in live)


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


def convertible(source: str, target: str) -> bool:
    """Whether a type change may change or refuse stored values that `protect_data` can find first
    (`schemarel.support.convertible` spells the query; text to a number, a date, an enum, …)."""
    if source in ("text", "varchar", "enum"):
        return target in (*INTEGERS, "float", "numeric", "boolean", "uuid", "date", "datetime", "time")
    if {source, target} == {"date", "datetime"}:
        return True
    return (source in ("float", "numeric") and target in INTEGERS) or (source in INTEGERS and target == "float")


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
