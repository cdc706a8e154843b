"""The upgrade of a revision as ops, in phases, each op paired with its reverse (the downgrade's).

The upgrade runs in phases so that each step finds what it needs: renames first (then every later step
uses the new names), dropped constraints, enum values, new tables, new columns, MySQL/MariaDB collations, key
switches, data moves, column alterations, dropped columns and tables, new constraints. The downgrade is the
reverse of each op, in reverse order, as Alembic derives it. Each phase hands its ops to the Carrier, which
puts the Changes they make on them (schemarel.migrate.carry).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.dialects import mysql
from sqlalchemy.sql.elements import conv

from schemarel.errors import pointer
from schemarel.ir import Column, ForeignKey, Table
from schemarel.migrate import carry, keyswitch
from schemarel.migrate import ops as mo
from schemarel.migrate.diff import Diff, same_text
from schemarel.migrate.match import (
    TablePair,
    fresh_objects,
    kept_name_moves,
    match_constraints,
    match_foreign_keys,
    object_moves,
)


class Builder:
    """The upgrade's ops, phase by phase, each paired with its reverse and carrying the Changes it makes."""

    def __init__(
        self,
        d: Diff,
        old_md: sa.MetaData,
        new_md: sa.MetaData,
        carrier: carry.Carrier | None = None,
        switches: Sequence[keyswitch.KeySwitch] = (),
    ) -> None:
        self.d = d
        self.switches = switches
        self.carrier = carrier or carry.Carrier(d)
        self.old_md = old_md
        self.new_md = new_md
        self.old_enums = {e.name: e for e in d.old.enums}
        self.new_enums = {e.name: e for e in d.new.enums}
        self.moved = {(m.parent, c) for m in d.moves if m.kind == "flatten" for c in m.columns}
        self.enum_columns = {(e.table, e.column) for e in d.enums if e.old.values != e.new.values}

    def build(self) -> list[ops.MigrateOperation]:
        up: list[ops.MigrateOperation] = []
        take = self.carrier.take
        for pair in self.d.pairs:
            up += take("renames", pair.new.name, self.renames(pair))
        for pair in self.d.pairs:
            up += take("drop_constraints", pair.new.name, self.drop_constraints(pair))
        for change in self.d.enums:
            if change.old.values != change.new.values:
                up += take("enum_values", change, [self.enum_values(change)])
        for table in self.d.added_tables:
            up += take("create_table", table.name, [_table_op(self.new_md.tables[table.name], create=True)])
        for pair in self.d.pairs:
            up += take("add_columns", pair.new.name, self.add_columns(pair))
        # MariaDB refuses to change the collation of a column a foreign key ties to another (even with its
        # checks off): such keys go while both ends change, on MySQL/MariaDB only, and come back after. A phase
        # of its own before the key switch, whose new foreign keys need the column they refer to in its final
        # collation (and whose reverse gives the old key back before that column leaves it on the way down)
        tied = self.recollated_foreign_keys()
        if tied:
            up.append(mo.paired(_foreign_keys(tied, create=False), _foreign_keys(tied, create=True)))
        for pair in self.d.pairs:
            up += take("recollate", pair.new.name, self.recollate(pair))
        if tied:
            up.append(mo.paired(_foreign_keys(tied, create=True), _foreign_keys(tied, create=False)))
        for switch in self.switches:  # after new columns (a follower's may be a new table's), before alterations
            up += take("key_switch", switch, [keyswitch.operations(switch, self.old_md, self.new_md)])
        for move in self.d.moves:
            child_key = move.child.primary_key.columns[0]
            moving = mo.move_columns(move.kind, move.child.name, child_key, move.parent, move.parent_key, move.columns)
            up += take("move", move, [moving])
        for pair in self.d.pairs:
            up += take("alter_columns", pair.new.name, self.alter_columns(pair))
        for checked in self.d.checked:  # between the old CHECK's drop and the new one's creation, in the new type
            renames = dict(checked.renames)
            back = mo.rename_values(checked.table, checked.column, {b: a for a, b in renames.items()})
            up += take(
                "stored_values", checked, [mo.paired(mo.rename_values(checked.table, checked.column, renames), back)]
            )
        for pair in self.d.pairs:
            up += take("drop_columns", pair.new.name, self.drop_columns(pair))
        for table in reversed(self.d.dropped_tables):
            up += take("drop_table", table.name, [_table_op(self.old_md.tables[table.name], create=False)])
            up += [mo.paired(mo.drop_enum(e), mo.Code()) for e in _enums_of(table)]
        for pair in self.d.pairs:
            up += take("add_constraints", pair.new.name, self.add_constraints(pair))
        return up

    def recollated_foreign_keys(self) -> list[tuple[str, ForeignKey]]:
        """(table, key) of the foreign keys kept by this revision whose columns, or the ones they refer to,
        change collation on MySQL/MariaDB."""
        changing = {c.name for c in self.d.changes if c.what == "collation"}
        tied = []
        for pair in self.d.pairs:
            for _, fk in match_foreign_keys(pair):
                ends = [f"{pair.new.name}.{c}" for c in fk.columns] + [f"{fk.ref_table}.{c}" for c in fk.ref_columns]
                if not fk.external and changing.intersection(ends):
                    tied.append((pair.new.name, fk))
        return tied

    # -- renames ----------------------------------------------------------------------------------------------
    def renames(self, pair: TablePair) -> list[ops.MigrateOperation]:
        old, new = pair.old, pair.new
        forward, backward = mo.Renames(new.name, old.name), mo.Renames(old.name, new.name)
        old_t = self.old_md.tables[old.name]
        for before, after in pair.renamed_columns():
            forward.columns.append((before, after, old_t.c[before]))
            backward.columns.append((after, before, old_t.c[before]))
        named = [("pk", old.primary_key.name, new.primary_key.name)]
        named += [("fk", o.name, n.name) for o, n in match_foreign_keys(pair)]
        for kind, a, b in named:
            if a != b:
                forward.constraints.append((kind, a, b))
                backward.constraints.append((kind, b, a))
        for o, n in match_constraints(pair, old.uniques, new.uniques):
            if o.name != n.name:
                forward.uniques.append((o.name, n.name, n.columns))
                backward.uniques.append((n.name, o.name, o.columns))
        for o, n in match_constraints(pair, old.indexes, new.indexes):
            if o.name != n.name:
                forward.indexes.append((o.name, n.name, n.columns))
                backward.indexes.append((n.name, o.name, o.columns))
        old_checks = {c.sqltext: c.name for c in old.checks}
        for check in new.checks:
            if old_checks.get(check.sqltext, check.name) != check.name:
                forward.checks.append((old_checks[check.sqltext], check.name, check))
                backward.checks.append((check.name, old_checks[check.sqltext], check))
        for change in self.d.enums:
            if change.table == new.name and change.old.name != change.new.name:
                nullable = new.column(change.column).nullable
                before = pair.columns[change.column]
                forward.enums.append((before, change.old.name, change.new.name, change.old.values, nullable))
                backward.enums.append((change.column, change.new.name, change.old.name, change.old.values, nullable))
        result: list[ops.MigrateOperation] = []
        if old.name != new.name:
            # renamed back before its constraints on the way down, so SQLite's CHECK names follow the table
            up = mo.Group(mo.RenameTable(old.name, new.name), *([forward.branch()] if forward else []))
            down = mo.Group(mo.RenameTable(new.name, old.name), *([backward.branch()] if backward else []))
            result.append(mo.paired(up, down))
        elif forward:
            result.append(mo.paired(forward.branch(), backward.branch()))
        columns, pointers = self.moved_pointers(pair)
        if columns and pointers:  # after the table's rename; on the way down, before it
            result.append(mo.paired(*(mo.rename_pointers(new.name, columns, pointers, way) for way in (1, -1))))
        return result

    def moved_pointers(self, pair: TablePair) -> tuple[list[str], list[tuple[str, str]]]:
        """The JSON columns of `pair`'s rows keyed by relative pointer (presence marks, spellings), and the
        (before, after) pointers of the properties this revision renames in them: a renamed column, or a renamed
        child table whose property these rows mark."""
        old, new = pair.old, pair.new
        moved = [(c.previous_path, c.path) for c in map(new.column, dict(pair.renamed_columns()).values())]
        moved += [
            (p.new.previous_path, p.new.parent_path)
            for p in self.d.pairs
            if p.new.parent == new.name and p.old.name != p.new.name
        ]
        moved += kept_name_moves(pair, self.d.pairs, self.d.old_pointers, self.d.new_pointers)
        fresh = fresh_objects(pair, self.d.pairs, self.d.old_pointers, self.d.new_pointers)
        moved = object_moves(new, fresh, [(a, b) for a, b in moved if a and b])
        pointers = list(dict.fromkeys((pointer(*a)[1:], pointer(*b)[1:]) for a, b in moved))
        kept = {c.name for c in old.columns}
        # a renamed object's extras are keyed by its pointer too
        extra = new.extra_column if fresh else None
        columns = [c for c in (new.presence_column, new.spelling_column, extra) if c and c in kept]
        return columns, pointers

    # -- constraints ------------------------------------------------------------------------------------------
    def drop_constraints(self, pair: TablePair) -> list[ops.MigrateOperation]:
        t = pair.new.name
        back = {o: n for n, o in pair.columns.items()}
        drops: list[ops.MigrateOperation] = []
        adds: list[ops.MigrateOperation] = []
        matched = [o for o, _ in match_constraints(pair, pair.old.uniques, pair.new.uniques)]
        for uq in pair.old.uniques:
            if uq not in matched:
                drops.append(ops.DropConstraintOp(conv(uq.name), t, type_="unique"))
                adds.append(ops.CreateUniqueConstraintOp(conv(uq.name), t, [back.get(c, c) for c in uq.columns]))
        matched = [o for o, _ in match_constraints(pair, pair.old.indexes, pair.new.indexes)]
        for ix in pair.old.indexes:
            if ix not in matched:
                drops.append(ops.DropIndexOp(conv(ix.name), table_name=t))
                adds.append(ops.CreateIndexOp(conv(ix.name), t, [back.get(c, c) for c in ix.columns]))
        new_checks = {c.sqltext for c in pair.new.checks}
        for ck in pair.old.checks:
            if ck.sqltext not in new_checks:
                drops.append(mo.check_op(ck, create=False))
                adds.append(mo.check_op(ck, create=True))
        if not drops:
            return []
        down = mo.Group(ops.ModifyTableOps(t, list(reversed(adds))))
        return [mo.paired(mo.Group(ops.ModifyTableOps(t, drops)), down)]

    def add_constraints(self, pair: TablePair) -> list[ops.MigrateOperation]:
        t = pair.new.name
        result: list[ops.MigrateOperation] = []
        matched = [n for _, n in match_constraints(pair, pair.old.uniques, pair.new.uniques)]
        result += [
            ops.CreateUniqueConstraintOp(conv(uq.name), t, list(uq.columns))
            for uq in pair.new.uniques
            if uq not in matched
        ]
        matched = [n for _, n in match_constraints(pair, pair.old.indexes, pair.new.indexes)]
        result += [
            ops.CreateIndexOp(conv(ix.name), t, list(ix.columns)) for ix in pair.new.indexes if ix not in matched
        ]
        old_checks = {c.sqltext for c in pair.old.checks}
        result += [mo.check_op(ck, create=True) for ck in pair.new.checks if ck.sqltext not in old_checks]
        return [ops.ModifyTableOps(t, result)] if result else []

    # -- enums ------------------------------------------------------------------------------------------------
    def enum_values(self, change: Any) -> ops.MigrateOperation:
        col = self.d.new.table(change.table).column(change.column)
        old_col = next(p.old_column(col.name) for p in self.d.pairs if p.new.name == change.table)
        renames = dict(change.renames)

        def default(c: Any) -> str | None:
            return str(c.default.value) if c.default else None

        up = mo.change_enum_values(
            change.table, col.name, change.new.name, change.old.values, change.new.values, renames,
            col.nullable, (default(old_col), default(col)), old_col.comment,
        )  # fmt: skip
        down = mo.change_enum_values(
            change.table, col.name, change.new.name, change.new.values, change.old.values,
            {b: a for a, b in renames.items()}, col.nullable, (default(col), default(old_col)), col.comment,
        )  # fmt: skip
        return mo.paired(up, down)

    # -- columns ----------------------------------------------------------------------------------------------
    def add_columns(self, pair: TablePair) -> list[ops.MigrateOperation]:
        t = pair.new.name
        result: list[ops.MigrateOperation] = []
        adds: list[ops.MigrateOperation] = []
        for col in pair.added:
            column = self.new_md.tables[t].c[col.name]._copy()
            if (t, col.name) in self.moved:
                column.nullable = True  # filled by the move, then made NOT NULL if the schema says so
            if not col.type.enum:
                adds.append(ops.AddColumnOp(t, column))
                continue
            result.append(mo.enum_lifecycle(col.type.enum, self.new_enums[col.type.enum].values, create=True))
            add = mo.Group(ops.ModifyTableOps(t, [ops.AddColumnOp(t, column)]))
            result.append(mo.paired(add, mo.drop_enum_column(t, column, mo.sqlite_enum_check(t, col.type.enum))))
        return [ops.ModifyTableOps(t, adds), *result] if adds else result

    def alter_columns(self, pair: TablePair) -> list[ops.MigrateOperation]:
        t = pair.new.name
        before: list[ops.MigrateOperation] = []
        alters: list[ops.MigrateOperation] = []
        new_t = self.new_md.tables[t]
        for col in pair.new.columns:
            if (t, col.name) in self.moved and not col.nullable:
                alters.append(ops.AlterColumnOp(t, col.name, existing_type=new_t.c[col.name].type,
                                                existing_nullable=True, modify_nullable=False))  # fmt: skip
            if col.name not in pair.columns:
                continue
            old_col = pair.old_column(col.name)
            o, n = self.old_md.tables[pair.old.name].c[old_col.name], new_t.c[col.name]
            type_changed = old_col.type != col.type and not (old_col.type.kind == col.type.kind == "enum")
            default_changed = old_col.default != col.default and (t, col.name) not in self.enum_columns
            nullable_changed = old_col.nullable != col.nullable
            if not (type_changed or default_changed or nullable_changed or old_col.comment != col.comment):
                continue
            if nullable_changed and not col.nullable and col.default and col.default.kind == "literal":
                before.append(mo.paired(mo.backfill(t, col.name, col.default.value), mo.Code()))
            if type_changed:
                before += self.change_type(pair, old_col, col)
            if not (default_changed or nullable_changed or old_col.comment != col.comment):
                continue
            alters.append(
                ops.AlterColumnOp(
                    t,
                    col.name,
                    existing_type=n.type,
                    existing_nullable=o.nullable,
                    existing_server_default=o.server_default,
                    existing_comment=o.comment,
                    modify_nullable=n.nullable if nullable_changed else None,
                    modify_server_default=n.server_default if default_changed else False,
                    modify_comment=n.comment if old_col.comment != col.comment else False,
                )
            )
        result = [*before, ops.ModifyTableOps(t, alters)] if alters else before
        if pair.old.comment != pair.new.comment:
            set_comment = ops.CreateTableCommentOp(t, pair.new.comment, existing_comment=pair.old.comment)
            reset = ops.CreateTableCommentOp(t, pair.old.comment, existing_comment=pair.new.comment)
            # SQLite keeps no comments
            result.append(mo.paired(mo.Branch([set_comment], [], [set_comment]), mo.Branch([reset], [], [reset])))
        return result

    def recollate(self, pair: TablePair) -> list[ops.MigrateOperation]:
        """The kept string columns whose MySQL/MariaDB type alone changes: their collation, or a text column
        joining or leaving a key (MySQL keys it as varchar(255), keeps it as TEXT otherwise); one MySQL branch
        for the table's columns."""
        t = pair.new.name
        old_t, new_t = self.old_md.tables[pair.old.name], self.new_md.tables[t]
        retyped = [
            (old_t.c[pair.columns[c.name]], new_t.c[c.name])
            for c in pair.new.columns
            if c.name in pair.columns and same_text(pair.old_column(c.name), c)
            and _mysql_type(old_t.c[pair.columns[c.name]]) != _mysql_type(new_t.c[c.name])
        ]  # fmt: skip
        if not retyped:
            return []
        down = [(b, a) for a, b in reversed(retyped)]
        return [mo.paired(_retype(t, retyped), _retype(t, down))]

    def change_type(self, pair: TablePair, old: Column, new: Column) -> list[ops.MigrateOperation]:
        """Type change of one column; an enum type it starts using is created first, one it leaves dropped after."""
        t = pair.new.name
        o, n = self.old_md.tables[pair.old.name].c[old.name].type, self.new_md.tables[t].c[new.name].type
        kinds = (old.type.kind, new.type.kind)
        old_check = mo.sqlite_enum_check(t, old.type.enum) if old.type.enum else None
        new_check = mo.sqlite_enum_check(t, new.type.enum) if new.type.enum else None
        o_col, n_col = self.old_md.tables[pair.old.name].c[old.name], self.new_md.tables[t].c[new.name]
        up = mo.change_type(t, new.name, kinds, o, n, old.nullable, old_check, _existing(o_col))
        down = mo.change_type(t, new.name, kinds[::-1], n, o, old.nullable, new_check, _existing(n_col))
        result: list[ops.MigrateOperation] = []
        if new.type.enum:
            result.append(mo.enum_lifecycle(new.type.enum, self.new_enums[new.type.enum].values, create=True))
        result.append(mo.paired(up, down))
        if old.type.enum:
            result.append(mo.enum_lifecycle(old.type.enum, self.old_enums[old.type.enum].values, create=False))
        return result

    def drop_columns(self, pair: TablePair) -> list[ops.MigrateOperation]:
        t = pair.new.name
        result: list[ops.MigrateOperation] = []
        plain: list[ops.MigrateOperation] = []
        for col in pair.dropped:
            column = self.old_md.tables[pair.old.name].c[col.name]._copy()
            if not col.type.enum:
                plain.append(ops.DropColumnOp.from_column_and_tablename(None, t, column))
                continue
            enum = self.old_enums[col.type.enum]
            up = mo.drop_enum_column(t, column, mo.sqlite_enum_check(pair.old.name, enum.name))
            down = mo.Group(ops.ModifyTableOps(t, [ops.AddColumnOp(t, column)]))
            result += [mo.paired(up, down), mo.enum_lifecycle(enum.name, enum.values, create=False)]
        return [ops.ModifyTableOps(t, plain), *result] if plain else result


def _existing(column: sa.Column[Any]) -> dict[str, Any]:
    return {"existing_server_default": column.server_default, "existing_comment": column.comment}


def _retype(table: str, columns: Sequence[tuple[sa.Column[Any], sa.Column[Any]]]) -> mo.Branch:
    """Each column `a` of `(a, b)` gets the type of `b`, on MySQL/MariaDB only."""
    alters: list[ops.MigrateOperation] = [
        ops.AlterColumnOp(
            table, a.name, existing_type=a.type, existing_nullable=a.nullable, modify_type=b.type, **_existing(a)
        )
        for a, b in columns
    ]
    return mo.Branch([], [], [ops.ModifyTableOps(table, alters)])


def _foreign_keys(keys: Sequence[tuple[str, ForeignKey]], create: bool) -> mo.Branch:
    """The foreign keys `(table, key)` created, or dropped, on MySQL/MariaDB only."""
    made: list[ops.MigrateOperation] = [
        ops.CreateForeignKeyOp(
            conv(fk.name), table, fk.ref_table, list(fk.columns), list(fk.ref_columns), ondelete=fk.ondelete
        )  # fmt: skip
        if create
        else ops.DropConstraintOp(conv(fk.name), table, type_="foreignkey")
        for table, fk in keys
    ]
    return mo.Branch([], [], made)


def _mysql_type(column: sa.Column[Any]) -> str:
    return str(column.type.compile(dialect=mysql.dialect()))


def _enums_of(table: Table) -> list[str]:
    return [c.type.enum for c in table.columns if c.type.kind == "enum" and c.type.enum]


def _table_op(table: sa.Table, create: bool) -> mo.Custom:
    """Create a table and its indexes, or drop it: dropping a table drops its indexes, and MySQL refuses to
    drop beforehand an index that a foreign key needs."""
    indexes = [ops.CreateIndexOp.from_index(ix) for ix in sorted(table.indexes, key=lambda i: str(i.name))]
    make = mo.Group(mo.CreateTable.of(table), *indexes)
    drop = mo.Group(ops.DropTableOp.from_table(table))
    return mo.paired(make, drop) if create else mo.paired(drop, make)
