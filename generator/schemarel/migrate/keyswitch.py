"""A root table's key moving from schemarel's surrogate `pk` to a property (`x-sql.primaryKey`), data kept.

The root keeps its rows: its property column becomes the key and the surrogate column goes. Every table
whose foreign key points at the old key gets a column for the new one, filled by looking each row's parent
up by the old key; a 1:1 object table keyed by its parent's key passes the switch on to its own children.
The revision checks first that the property holds no NULL and no duplicate (`("key", table, column[, exact])`). The
downgrade adds the surrogate back with fresh values (the old ones are gone) and points the children at it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate.render import renderers
from alembic.operations import ops
from sqlalchemy.dialects.mysql import mariadb
from sqlalchemy.sql.elements import conv

from schemarel.ir import Column, Constraint, ForeignKey, Table
from schemarel.migrate import ops as mo
from schemarel.migrate.diff import Change, Diff, describe, exact_string, same_text
from schemarel.migrate.match import TablePair
from schemarel.text import py_literal


class CreatePrimaryKey(ops.CreatePrimaryKeyOp):
    """A primary key on an existing table (Alembic's renderer has no spelling for it)."""


@renderers.dispatch_for(CreatePrimaryKey)
def _render_primary_key(autogen_context: Any, op: CreatePrimaryKey) -> str:
    prefix = "batch_op" if autogen_context._has_batch else "op"
    table = "" if autogen_context._has_batch else f"{py_literal(op.table_name)}, "
    columns = ", ".join(py_literal(c) for c in op.columns)
    return f"{prefix}.create_primary_key({prefix}.f({py_literal(str(op.constraint_name))}), {table}[{columns}])"


@dataclass(frozen=True)
class Rekey:
    """A foreign key column of `pair` that follows a switched key: `old_fk` on `old_column` becomes `new_fk`."""

    pair: TablePair
    old_fk: ForeignKey
    new_fk: ForeignKey
    parent: TablePair  # the table referenced (the root, or a 1:1 table keyed by its parent's key)
    # the indexes on the column, dropped and created with the foreign key (MySQL keeps one while a key needs it)
    old_indexes: tuple[Constraint, ...] = ()
    new_indexes: tuple[Constraint, ...] = ()

    @property
    def old_column(self) -> str:
        return self.old_fk.columns[0]

    @property
    def new_column(self) -> str:
        return self.new_fk.columns[0]

    @property
    def keyed(self) -> bool:
        """The column is (part of) the table's primary key: the key itself switches."""
        return self.old_column in self.pair.old.primary_key.columns


@dataclass(frozen=True)
class KeySwitch:
    """The root `pair` keyed by `new_key` instead of the surrogate `old_key`; `rekeys` parents first."""

    pair: TablePair
    old_key: str
    new_key: str
    rekeys: tuple[Rekey, ...]


def detect(d: Diff, old_pointers: Mapping[str, str], new_pointers: Mapping[str, str]) -> list[KeySwitch]:
    """The key switches in `d`; their columns leave the pairs' added/dropped (the switch carries them out)
    and `d.changes` is described again with one change per switch in front."""
    switches = [s for s in (_switch(d, pair) for pair in d.pairs) if s is not None]
    if not switches:
        return []
    for s in switches:
        s.pair.dropped[:] = [c for c in s.pair.dropped if c.name != s.old_key]
        for r in s.rekeys:
            r.pair.dropped[:] = [c for c in r.pair.dropped if c.name != r.old_column]
            r.pair.added[:] = [c for c in r.pair.added if c.name != r.new_column]
            r.pair.old = replace(r.pair.old, indexes=tuple(i for i in r.pair.old.indexes if i not in r.old_indexes))
            r.pair.new = replace(r.pair.new, indexes=tuple(i for i in r.pair.new.indexes if i not in r.new_indexes))
    d.changes = [_change(d, s, new_pointers) for s in switches] + describe(d, old_pointers, new_pointers)
    return switches


def _surrogate(table: Table) -> Column | None:
    """The table's key when schemarel made it up (a uuid filled by the database), else None."""
    if len(table.primary_key.columns) != 1:
        return None
    key = table.column(table.primary_key.columns[0])
    return key if key.default is not None and key.default.kind == "uuid" and not key.path else None


def _switch(d: Diff, root: TablePair) -> KeySwitch | None:
    old_key = _surrogate(root.old)
    if root.new.parent is not None or old_key is None or len(root.new.primary_key.columns) != 1:
        return None
    new_key = root.new.primary_key.columns[0]
    if new_key not in root.columns or old_key.name not in {c.name for c in root.dropped}:
        return None
    rekeys: list[Rekey] = []
    # (old table name, old key column) whose referencing columns follow the switch, with the pair it is on
    switched: list[tuple[TablePair, str, str]] = [(root, old_key.name, new_key)]
    while switched:
        parent, old_col, new_col = switched.pop(0)
        for pair in d.pairs:
            for fk in pair.old.foreign_keys:
                if (fk.ref_table, fk.ref_columns) != (parent.old.name, (old_col,)):
                    continue
                new_fk = next(
                    (f for f in pair.new.foreign_keys if (f.ref_table, f.ref_columns) == (parent.new.name, (new_col,))),
                    None,
                )
                added, dropped = {c.name for c in pair.added}, {c.name for c in pair.dropped}
                if new_fk is None or len(fk.columns) != 1 or len(new_fk.columns) != 1:
                    return None  # a reference the switch cannot follow: left to the ordinary diff (refused)
                if fk.columns[0] not in dropped or new_fk.columns[0] not in added:
                    return None
                old_ix = tuple(i for i in pair.old.indexes if fk.columns[0] in i.columns)
                new_ix = tuple(i for i in pair.new.indexes if new_fk.columns[0] in i.columns)
                rekey = Rekey(pair, fk, new_fk, parent, old_ix, new_ix)
                rekeys.append(rekey)
                if rekey.keyed:
                    if pair.old.primary_key.columns != (rekey.old_column,):
                        return None  # a composite key holding the parent's: not followed
                    switched.append((pair, rekey.old_column, rekey.new_column))
    return KeySwitch(root, old_key.name, new_key, tuple(rekeys))


def _change(d: Diff, s: KeySwitch, new_pointers: Mapping[str, str]) -> Change:
    root = s.pair
    key = root.new.column(s.new_key)
    # a string key compares exactly on MySQL/MariaDB: values the column's collation takes as equal until then
    # ('a', 'A') are distinct keys
    exact = key.type.kind in ("text", "varchar") and exact_string(d.new, root.new, key)
    return Change(
        "alter",
        "primary key",
        root.new.name,
        s.old_key,
        s.new_key,
        pointer=new_pointers.get(root.new.name, ""),
        undo_destructive=f"gives `{root.old.name}.{s.old_key}` fresh values: the surrogate keys it held before "
        "the upgrade are not kept",
        check=("key", root.old.name, root.old.column(root.columns[s.new_key]).name, *([True] if exact else [])),
    )


# -- the ops --------------------------------------------------------------------------------------------------
def operations(s: KeySwitch, old_md: sa.MetaData, new_md: sa.MetaData) -> mo.Custom:
    """The switch as one op (a Group of batch blocks and fills) paired with its downgrade."""
    up = _direction(s, old_md, new_md, forward=True)
    down = _direction(s, old_md, new_md, forward=False)
    return mo.paired(up, down)


def _direction(s: KeySwitch, old_md: sa.MetaData, new_md: sa.MetaData, forward: bool) -> mo.Group:
    """Upgrade (forward) or downgrade: the same steps with the old and new sides exchanged. "From" is the
    side the step starts on (old for the upgrade), "to" the side it ends on."""

    def side(pair: TablePair, start: bool) -> Table:
        return pair.old if start == forward else pair.new

    def fk(r: Rekey, start: bool) -> ForeignKey:
        return r.old_fk if start == forward else r.new_fk

    def indexes(r: Rekey, start: bool) -> tuple[Constraint, ...]:
        return r.old_indexes if start == forward else r.new_indexes

    def column(pair: TablePair, col: str, start: bool) -> sa.Column[Any]:
        return (old_md if start == forward else new_md).tables[side(pair, start).name].c[col]

    root, t_root = s.pair, s.pair.new.name  # tables have their new names while the switch runs
    surrogate = old_md.tables[root.old.name].c[s.old_key]
    steps: list[ops.MigrateOperation] = []
    # 1. each follower gets its new column, nullable until filled
    for r in s.rekeys:
        added = column(r.pair, fk(r, False).columns[0], False)._copy()
        added.nullable = True
        steps.append(ops.ModifyTableOps(r.pair.new.name, [ops.AddColumnOp(r.pair.new.name, added)]))
    if not forward:  # the surrogate comes back with fresh values (the ones it held are gone)
        bare = sa.Column(s.old_key, surrogate.type, nullable=True)
        steps.append(ops.ModifyTableOps(t_root, [ops.AddColumnOp(t_root, bare)]))
        steps.append(mo.Code(f"op.execute(sa.table({py_literal(t_root)}, sa.column({py_literal(s.old_key)}))"
                             f".update().values({{{py_literal(s.old_key)}: uuid_default()}}))"))  # fmt: skip
    # 2. fill them: each row looks its parent up by the key it refers to now (parents first: a 1:1 table's
    # new key is filled before its own children look it up)
    for r in s.rekeys:
        start, end = fk(r, True), fk(r, False)
        lines = _fill(r.pair.new.name, start.columns[0], end.columns[0], r.parent.new.name, start.ref_columns[0],
                      end.ref_columns[0])  # fmt: skip
        steps.append(mo.Code(*lines))
    # 3. the old references go, children first (a key is dropped only once nothing refers to it)
    for r in reversed(s.rekeys):
        t = r.pair.new.name
        start, end = fk(r, True), fk(r, False)
        new_col = column(r.pair, end.columns[0], False)
        block: list[ops.MigrateOperation] = [ops.DropConstraintOp(conv(start.name), t, type_="foreignkey")]
        block += [ops.DropIndexOp(conv(ix.name), table_name=t) for ix in indexes(r, True)]
        if r.keyed:
            block.append(ops.DropConstraintOp(conv(side(r.pair, True).primary_key.name), t, type_="primary"))
        block.append(
            ops.AlterColumnOp(
                t, new_col.name, existing_type=new_col.type, existing_nullable=True, modify_nullable=False
            )
        )
        gone = column(r.pair, start.columns[0], True)._copy()
        block.append(ops.DropColumnOp.from_column_and_tablename(None, t, gone))
        if r.keyed:
            block.append(CreatePrimaryKey(conv(side(r.pair, False).primary_key.name), t, [new_col.name]))
        steps.append(ops.ModifyTableOps(t, block))
    # 4. the root changes key (MariaDB keeps a key uuid in its uuid type, a document's as hex text: converted).
    # A string keeps its type in the model: the `recollate` phase, before the switch and after its reverse,
    # gives it its MySQL spelling as a key (collation, varchar(255) for text), so the switch finds it so.
    kept = root.old.column(root.columns[s.new_key])
    as_key = new_md.tables[root.new.name].c[s.new_key].type
    as_property = (
        as_key if same_text(kept, root.new.column(s.new_key)) else old_md.tables[root.old.name].c[kept.name].type
    )
    retype = _mariadb(as_property) != _mariadb(as_key)
    uuid_key = root.new.column(s.new_key).type.kind == "uuid"  # the only key MariaDB spells with dashes
    if forward and retype:
        steps.append(mo.Branch([], [], [ops.ModifyTableOps(t_root, [_retype(t_root, s.new_key, as_property, as_key)])]))
    block = [ops.DropConstraintOp(conv(side(root, True).primary_key.name), t_root, type_="primary")]
    if forward:
        block.append(ops.DropColumnOp.from_column_and_tablename(None, t_root, surrogate._copy()))
    else:
        refill = surrogate.server_default
        block.append(ops.AlterColumnOp(t_root, s.old_key, existing_type=surrogate.type, existing_nullable=True,
                                       modify_nullable=False, modify_server_default=refill))  # fmt: skip
    new_key = s.new_key if forward else s.old_key
    block.append(CreatePrimaryKey(conv(side(root, False).primary_key.name), t_root, [new_key]))
    steps.append(ops.ModifyTableOps(t_root, block))
    if not forward and retype and not uuid_key:
        steps.append(mo.Branch([], [], [ops.ModifyTableOps(t_root, [_retype(t_root, s.new_key, as_key, as_property)])]))
    elif not forward and retype:  # via text long enough for the dashes
        dashed = sa.String(36)
        unhyphen = mo.Code(f"op.execute(sa.table({py_literal(t_root)}, sa.column({py_literal(s.new_key)})).update()"
                           f".values({{{py_literal(s.new_key)}: sa.func.replace(sa.column({py_literal(s.new_key)}), "
                           "'-', '')}))")  # fmt: skip
        mysql_steps = [
            ops.ModifyTableOps(t_root, [_retype(t_root, s.new_key, as_key, dashed)]),
            unhyphen,
            ops.ModifyTableOps(t_root, [_retype(t_root, s.new_key, dashed, as_property)]),
        ]
        steps.append(mo.Branch([], [], mysql_steps))
    # 5. the new references, parents first (a key exists before anything refers to it)
    for r in s.rekeys:
        end = fk(r, False)
        create = ops.CreateForeignKeyOp(conv(end.name), r.pair.new.name, r.parent.new.name, list(end.columns),
                                        list(end.ref_columns), ondelete=end.ondelete)  # fmt: skip
        made = [ops.CreateIndexOp(conv(ix.name), r.pair.new.name, list(ix.columns)) for ix in indexes(r, False)]
        steps.append(ops.ModifyTableOps(r.pair.new.name, [*made, create]))
    return mo.Group(*steps)


def _mariadb(type_: Any) -> str:
    return str(type_.compile(dialect=mariadb.MariaDBDialect()))


def _retype(table: str, column: str, before: Any, after: Any) -> ops.AlterColumnOp:
    return ops.AlterColumnOp(table, column, existing_type=before, existing_nullable=False, modify_type=after)


def _fill(table: str, old_col: str, new_col: str, parent: str, parent_old: str, parent_new: str) -> list[str]:
    """`UPDATE table SET new_col = (SELECT parent_new FROM parent WHERE parent_old = table.old_col)`, in
    SQLAlchemy so that each dialect quotes the names."""
    q = py_literal
    return [
        f"child = sa.table({q(table)}, sa.column({q(old_col)}), sa.column({q(new_col)}))",
        f"parent = sa.table({q(parent)}, sa.column({q(parent_old)}), sa.column({q(parent_new)}))",
        "op.execute(",
        f"    child.update().values({{{q(new_col)}: sa.select(parent.c[{q(parent_new)}])"
        f".where(parent.c[{q(parent_old)}] == child.c[{q(old_col)}]).scalar_subquery()}})",
        ")",
    ]
