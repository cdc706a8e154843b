"""Operations Alembic has no op for (per-dialect branches, enum value changes, data moves), and their renderers.

Each is an Alembic `MigrateOperation` whose `reverse()` is given when it is built, so downgrades are derived
the same way as for Alembic's own ops; inner Alembic ops are still rendered by Alembic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate.render import render_op, renderers
from alembic.operations import ops
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import conv

from schemarel import naming
from schemarel.ir import Check
from schemarel.sql.checks import DIALECT_ONLY, python_source
from schemarel.text import py_literal

DIALECT = "op.get_bind().dialect.name"


class Code(ops.MigrateOperation):
    """Python statements of the revision body; `undo` is what the downgrade runs instead."""

    def __init__(self, *lines: str) -> None:
        self.lines = lines
        self.undo: ops.MigrateOperation | None = None

    def reverse(self) -> ops.MigrateOperation:
        return self.undo or Code()


class Group(ops.MigrateOperation):
    """Operations that run in this order both ways: the downgrade runs `undo`, not their reverses."""

    def __init__(self, *operations: ops.MigrateOperation) -> None:
        self.ops = operations
        self.undo: ops.MigrateOperation | None = None

    def reverse(self) -> ops.MigrateOperation:
        return self.undo or Code()


class Branch(ops.MigrateOperation):
    """Operations that differ per dialect: PostgreSQL, SQLite, and the others (MySQL/MariaDB)."""

    def __init__(
        self,
        postgresql: Sequence[ops.MigrateOperation],
        sqlite: Sequence[ops.MigrateOperation],
        other: Sequence[ops.MigrateOperation] | None = None,
    ) -> None:
        self.postgresql = list(postgresql)
        self.sqlite = list(sqlite)
        self.other = list(sqlite if other is None else other)
        self.undo: ops.MigrateOperation | None = None

    def reverse(self) -> ops.MigrateOperation:
        return self.undo or Code()


class CreateTable(ops.CreateTableOp):
    """Alembic's create_table of a table of the metadata built for this revision, rendered from that table.

    Alembic's renderer asks the op for a Table and gets a copy of every column, constraint and referenced table
    in a new MetaData (most of the cost of a big first revision); this op's table is already that Table, built
    by `build_metadata` for this revision alone and never changed after, so it is handed over as it is.
    """

    table: sa.Table

    @classmethod
    def of(cls, table: sa.Table) -> CreateTable:
        op = cls.from_table(table)  # Alembic's constructor of the op, with this class
        assert isinstance(op, CreateTable)
        op.table = table
        return op

    def to_table(self, migration_context: Any = None) -> sa.Table:
        return self.table if migration_context is None else super().to_table(migration_context)


class RenameTable(ops.RenameTableOp):
    def reverse(self) -> RenameTable:
        return RenameTable(self.new_table_name, self.table_name)


Custom = Code | Group | Branch


def paired(up: Custom, down: Custom) -> Custom:
    """Make `down` the reverse of `up` and the other way round."""
    up.undo, down.undo = down, up
    return up


@renderers.dispatch_for(Code)
def _render_code(autogen_context: Any, op: Code) -> list[str]:
    return list(op.lines)


@renderers.dispatch_for(RenameTable)
def _render_rename_table(autogen_context: Any, op: RenameTable) -> str:
    return f"op.rename_table({op.table_name!r}, {op.new_table_name!r})"


@renderers.dispatch_for(Group)
def _render_group(autogen_context: Any, op: Group) -> list[str]:
    return [line for o in op.ops for line in render_op(autogen_context, o)]


@renderers.dispatch_for(Branch)
def _render_branch(autogen_context: Any, op: Branch) -> list[str]:
    def lines(operations: list[ops.MigrateOperation]) -> list[str]:
        return [line for o in operations for line in render_op(autogen_context, o)] or ["pass"]

    pg, lite, other = lines(op.postgresql), lines(op.sqlite), lines(op.other)
    if pg == lite == other:
        return pg
    if pg == lite == ["pass"]:  # MySQL/MariaDB only
        return [f'if {DIALECT} not in ("postgresql", "sqlite"):', *other, ""]
    out = [f'if {DIALECT} == "postgresql":', *pg]
    if lite == other == ["pass"]:
        return [*out, ""]
    if lite != other:
        out += [f'elif {DIALECT} == "sqlite":', *lite]
    return [*out, "else:", *other, ""]


# -- SQL spelled for PostgreSQL (its branch only) -----------------------------------------------------------
def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def bq(name: str) -> str:
    """A MySQL/MariaDB identifier."""
    return "`" + name.replace("`", "``") + "`"


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def pg(sql: str) -> ops.ExecuteSQLOp:
    return ops.ExecuteSQLOp(sql)


def enum_type(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, create_constraint=True)


def sqlite_enum_check(table: str, enum: str) -> conv:
    """The CHECK that stands for an enum on SQLite, named by the naming convention when the type was created."""
    return conv(f"ck_{table}__{enum}")


# -- enum types ---------------------------------------------------------------------------------------------
def create_enum(name: str, values: Sequence[str]) -> Code:
    """CREATE TYPE before a column of an existing table uses it (create_table creates its own)."""
    args = ", ".join(py_literal(v) for v in values)
    create = Code(f"sa.Enum({args}, name={py_literal(name)}).create(op.get_bind(), checkfirst=True)")
    return create


def drop_enum(name: str) -> Code:
    return Code(
        f'if {DIALECT} == "postgresql":',
        f"sa.Enum(name={py_literal(name)}).drop(op.get_bind(), checkfirst=True)",
        "",
    )


def enum_lifecycle(name: str, values: Sequence[str], create: bool) -> Custom:
    up, down = create_enum(name, values), drop_enum(name)
    return paired(up, down) if create else paired(down, up)


def drop_enum_column(table: str, column: sa.Column[Any], check: conv) -> Branch:
    """Drop a column of an enum type; on SQLite the CHECK that stands for the enum names the column: it goes
    first."""
    drop = ops.DropColumnOp.from_column_and_tablename(None, table, column)
    drop_check = ops.DropConstraintOp(check, table, type_="check")
    plain = [ops.ModifyTableOps(table, [drop])]  # a native enum type on PostgreSQL and MySQL: no CHECK
    return Branch(plain, [ops.ModifyTableOps(table, [drop_check, drop])], plain)


def change_enum_values(
    table: str,
    column: str,
    name: str,
    before: Sequence[str],
    after: Sequence[str],
    renames: dict[str, str],
    nullable: bool,
    defaults: tuple[str | None, str | None],
    comment: str | None = None,
) -> Branch:
    """Give enum `name` the values `after`, renaming stored values (`renames`: previous → new) on the way.

    The column's default (before, after) changes here too: it may name a value that only one side has.
    MySQL restates the whole column (MODIFY): its comment and default are given, or they would go."""
    old_default, default = defaults
    renamed = [renames.get(v, v) for v in before]
    if _is_subsequence(renamed, after) and not set(renames.values()) & set(before):
        # values renamed in the catalog (PostgreSQL 10+) and added: no table rewrite; only removals swap the type
        postgresql: list[ops.MigrateOperation] = [
            pg(f"ALTER TYPE {q(name)} RENAME VALUE {lit(a)} TO {lit(b)}") for a, b in renames.items()
        ]
        if renamed != list(after):
            postgresql.append(_pg_add_values(name, renamed, after))
        if default is not None and default != old_default:
            postgresql.append(pg(f"ALTER TABLE {q(table)} ALTER COLUMN {q(column)} SET DEFAULT {lit(default)}"))
    else:
        postgresql = [pg(sql) for sql in _pg_swap(table, column, name, after, renames, default)]
    union = [*before, *(v for v in after if v not in before)]
    steps: list[tuple[Sequence[str], Sequence[str]]] = [(before, after)]
    if renames:
        steps = [(before, union), (union, after)]
    sqlite: list[ops.MigrateOperation] = []
    other: list[ops.MigrateOperation] = []
    for i, (old_values, new_values) in enumerate(steps):
        alter = ops.AlterColumnOp(
            table,
            column,
            existing_type=enum_type(old_values, name),
            existing_nullable=nullable,
            modify_type=enum_type(new_values, name),
            modify_server_default=default if i == len(steps) - 1 and default != old_default else False,
            existing_server_default=old_default,
            existing_comment=comment,
        )
        drop_check = ops.DropConstraintOp(sqlite_enum_check(table, name), table, type_="check")
        sqlite.append(ops.ModifyTableOps(table, [drop_check, alter]))
        other.append(ops.ModifyTableOps(table, [alter]))
        if i == 0 and renames:
            move = rename_values(table, column, renames)
            sqlite.append(move)
            other.append(move)
    return Branch(postgresql, sqlite, other)


def _is_subsequence(short: Sequence[str], long: Sequence[str]) -> bool:
    it = iter(long)
    return all(v in it for v in short)


def _pg_add_values(name: str, before: Sequence[str], after: Sequence[str]) -> Code:
    # ADD VALUE may not run inside a transaction block before PostgreSQL 12, and a value added in a
    # transaction cannot be used before it commits: add them on their own, autocommitted.
    lines = ["with op.get_context().autocommit_block():"]
    for i, value in enumerate(after):
        if value in before:
            continue
        place = f"AFTER {lit(after[i - 1])}" if i else f"BEFORE {lit(after[1])}"
        lines.append(f"op.execute({py_literal(f'ALTER TYPE {q(name)} ADD VALUE IF NOT EXISTS {lit(value)} {place}')})")
    return Code(*lines, "")


def _pg_swap(
    table: str, column: str, name: str, values: Sequence[str], renames: dict[str, str], default: str | None
) -> list[str]:
    """PostgreSQL cannot drop or rename values in place for all versions: build the new type, cast, drop the old."""
    old = naming.shorten(f"{name}_old")
    col = q(column)
    cases = " ".join(f"WHEN {lit(a)} THEN {lit(b)}" for a, b in renames.items())
    text = f"CASE {col}::text {cases} ELSE {col}::text END" if renames else f"{col}::text"
    alter = f"ALTER TABLE {q(table)} ALTER COLUMN {col}"
    sql = [
        f"ALTER TYPE {q(name)} RENAME TO {q(old)}",
        f"CREATE TYPE {q(name)} AS ENUM ({', '.join(lit(v) for v in values)})",
        f"{alter} DROP DEFAULT",
        f"{alter} TYPE {q(name)} USING ({text})::{q(name)}",
    ]
    if default is not None:
        sql.append(f"{alter} SET DEFAULT {lit(default)}")
    return [*sql, f"DROP TYPE {q(old)}"]


# -- column types -------------------------------------------------------------------------------------------
# PostgreSQL casts within these by itself (numbers by assignment casts: through text a double of 1e15 or more,
# spelled `1e+15`, is no bigint)
_IMPLICIT = ({"text", "varchar"}, {"smallint", "integer", "bigint", "float", "numeric"})


def change_type(
    table: str,
    column: str,
    kinds: tuple[str, str],
    before: sa.types.TypeEngine[Any],
    after: sa.types.TypeEngine[Any],
    nullable: bool,
    sqlite_check: conv | None = None,
    existing: dict[str, Any] | None = None,
) -> Branch:
    """A column type change; PostgreSQL gets an explicit cast only where it has no assignment cast, so that a
    value too long for a narrowed varchar fails the upgrade instead of being cut."""
    pg_type = after.compile(dialect=postgresql.dialect())  # type: ignore[no-untyped-call]
    sql = f"ALTER TABLE {q(table)} ALTER COLUMN {q(column)} TYPE {pg_type}"
    if not any(set(kinds) <= group for group in _IMPLICIT) and kinds[0] != kinds[1]:
        sql += f" USING {q(column)}::text::{pg_type}"
    # `existing`: the column's comment and default, which MySQL's MODIFY would drop unless restated
    alter = ops.AlterColumnOp(
        table, column, existing_type=before, existing_nullable=nullable, modify_type=after, **(existing or {})
    )
    sqlite: list[ops.MigrateOperation] = [alter]
    if sqlite_check is not None:  # an enum's CHECK goes with its type
        sqlite.insert(0, ops.DropConstraintOp(sqlite_check, table, type_="check"))
    return Branch([pg(sql)], [ops.ModifyTableOps(table, sqlite)], [ops.ModifyTableOps(table, [alter])])


# -- renames ------------------------------------------------------------------------------------------------
class Renames:
    """Everything one table renames, in one direction: columns, constraints, indexes, enum types."""

    def __init__(self, table: str, old_table: str) -> None:
        self.table = table  # the name the table has once RenameTable ran
        self.old_table = old_table
        self.columns: list[tuple[str, str, sa.Column[Any]]] = []  # (from, to, column as it is before)
        self.constraints: list[tuple[str, str, str]] = []  # (kind: pk/fk/unique/check, from, to)
        self.uniques: list[tuple[str, str, tuple[str, ...]]] = []  # (from, to, columns after)
        self.indexes: list[tuple[str, str, tuple[str, ...]]] = []
        self.checks: list[tuple[str, str, Check]] = []  # (from, to, the check)
        # (column as named before the renames, from, to, values, nullable)
        self.enums: list[tuple[str, str, str, Sequence[str], bool]] = []

    def __bool__(self) -> bool:
        return any((self.columns, self.constraints, self.uniques, self.indexes, self.checks, self.enums))

    def branch(self) -> Branch:
        t = self.table
        postgresql: list[ops.MigrateOperation] = [
            ops.ModifyTableOps(t, [self._rename_column(*c) for c in self.columns])
        ]
        kinds = [*self.constraints, *(("unique", a, b) for a, b, _ in self.uniques)]
        kinds += [("check", a, b) for a, b, _ in self.checks]
        postgresql += [pg(f"ALTER TABLE {q(t)} RENAME CONSTRAINT {q(a)} TO {q(b)}") for _, a, b in kinds]
        postgresql += [pg(f"ALTER INDEX {q(a)} RENAME TO {q(b)}") for a, b, _ in self.indexes]
        postgresql += [pg(f"ALTER TYPE {q(a)} RENAME TO {q(b)}") for _, a, b, _, _ in self.enums]
        # elsewhere a constraint is renamed by dropping and adding it, inside SQLite's table rebuild
        columns: list[ops.MigrateOperation] = [self._rename_column(*c) for c in self.columns]
        portable: list[ops.MigrateOperation] = []
        for a, b, cols in self.uniques:
            portable += [
                ops.DropConstraintOp(conv(a), t, type_="unique"),
                ops.CreateUniqueConstraintOp(conv(b), t, cols),
            ]
        for a, b, check in self.checks:
            portable += [check_op(replace(check, name=a), create=False), check_op(replace(check, name=b), create=True)]
        for a, b, cols in self.indexes:
            portable += [ops.DropIndexOp(conv(a), table_name=t), ops.CreateIndexOp(conv(b), t, list(cols))]
        # MySQL/MariaDB rename an index in place: dropping one that a foreign key needs is refused there
        mysql: list[ops.MigrateOperation] = [check_op(replace(c, name=a), create=False) for a, _, c in self.checks]
        mysql += [check_op(replace(c, name=b), create=True) for _, b, c in self.checks]
        renamed = [*((a, b) for a, b, _ in self.uniques), *((a, b) for a, b, _ in self.indexes)]
        mysql += [Code(f"op.execute({py_literal(f'ALTER TABLE {bq(t)} RENAME INDEX {bq(a)} TO {bq(b)}')})")
                  for a, b in renamed]  # fmt: skip
        # SQLite's batch knows a column by its name before the batch: retype enums, then rename columns
        sqlite: list[ops.MigrateOperation] = []
        for column, a, b, values, nullable in self.enums:
            sqlite.insert(0, ops.DropConstraintOp(sqlite_enum_check(self.old_table, a), t, type_="check"))
            sqlite.append(
                ops.AlterColumnOp(
                    t,
                    column,
                    existing_type=enum_type(values, a),
                    existing_nullable=nullable,
                    modify_type=enum_type(values, b),
                )
            )
        sqlite += columns
        # a batch resolves new constraints against the columns' names before it: constraints go in a second one
        batches = [ops.ModifyTableOps(t, step) for step in (sqlite, portable) if step]
        others = [ops.ModifyTableOps(t, step) for step in (columns, mysql) if step]
        return Branch(
            [o for o in postgresql if not isinstance(o, ops.ModifyTableOps) or o.ops],
            batches,
            others,
        )

    def _rename_column(self, before: str, after: str, column: sa.Column[Any]) -> ops.AlterColumnOp:
        return ops.AlterColumnOp(
            self.table,
            before,
            modify_name=after,
            existing_type=column.type,
            existing_nullable=column.nullable,
            existing_server_default=column.server_default,
            existing_comment=column.comment,
        )


def check_op(check: Check, create: bool) -> Custom:
    """Create or drop a CHECK in a batch block (SQLite rebuilds the table); a rule only some dialects can
    express (a regex) runs there alone."""
    make = f"batch_op.create_check_constraint(batch_op.f({check.name!r}), {python_source(check)})"
    drop = f"batch_op.drop_constraint(batch_op.f({check.name!r}), type_='check')"
    dialects = DIALECT_ONLY.get(check.rule)

    def code(line: str) -> Code:
        # the printer Alembic renders with indents after a colon and dedents at an empty line
        return Code(f"if {DIALECT} in {dialects!r}:", line, "") if dialects else Code(line)

    return paired(code(make), code(drop)) if create else paired(code(drop), code(make))


# -- data ---------------------------------------------------------------------------------------------------
def backfill(table: str, column: str, value: Any) -> Code:
    """Fill NULLs with the new default before NOT NULL; the downgrade leaves the values."""
    return Code(f"backfill(op.get_bind(), {table!r}, {column!r}, {value!r})")


def rename_values(table: str, column: str, renames: dict[str, str]) -> Code:
    """Rename the stored values of a column (previous → new), along a chain each row once."""
    return Code(f"rename_values(op.get_bind(), {table!r}, {column!r}, {renames!r})")


def rename_pointers(table: str, columns: Sequence[str], pointers: Sequence[tuple[str, str]], way: int) -> Code:
    """Move the values the rows of `table` keep under renamed properties' pointers (`way` -1: back)."""
    names = ", ".join(py_literal(c) for c in columns)
    renames = ", ".join(f"({py_literal(a)}, {py_literal(b)})" for a, b in (p[::way] for p in pointers))
    return Code(f"rename_pointers(op.get_bind(), {py_literal(table)}, [{names}], [{renames}])")


def move_columns(kind: str, child: str, child_key: str, parent: str, parent_key: str, columns: Sequence[str]) -> Custom:
    to_parent = Code(
        f"copy_to_parent(op.get_bind(), {child!r}, {child_key!r}, {parent!r}, {parent_key!r}, {list(columns)!r})"
    )
    to_child = Code(
        f"copy_to_child(op.get_bind(), {parent!r}, {parent_key!r}, {child!r}, {child_key!r}, {list(columns)!r})"
    )
    return paired(to_parent, to_child) if kind == "flatten" else paired(to_child, to_parent)
