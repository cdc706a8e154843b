"""The IR as SQLAlchemy objects: column types, server defaults and `MetaData` tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import conv

from schemarel.ir import Column, Database, EnumType, Table
from schemarel.sql import checks
from schemarel.sql.spelling import (
    display_default,
    display_type,
    external_tables,
    inexact_columns,
    is_serial,
    keyed_columns,
    md_code_cell,
    needs_literal,
    type_spec,
)
from schemarel.support import boolean_default, uuid_default


def sa_type(
    column: Column, enums: Mapping[str, EnumType], keyed: bool | str = False, exact: bool = True
) -> sa.types.TypeEngine[Any]:
    """The SQLAlchemy type; `keyed` is True for a column in a key, "text" for one MySQL keeps as TEXT; `exact`:
    a string column compares exactly on MySQL (`spelling.type_spec`)."""
    built: sa.types.TypeEngine[Any] = type_spec(column, enums, keyed, exact).build()
    return built


def server_default(column: Column) -> Any:
    """The `server_default=` argument of a column, or None."""
    d = column.default
    if d is None or d.kind == "sequence":
        return None
    if d.kind == "uuid":
        return uuid_default()
    if d.kind == "now":
        return sa.func.now()
    if isinstance(d.value, bool):
        return boolean_default(d.value)
    if isinstance(d.value, int | float):
        return sa.text(repr(d.value))
    if needs_literal(str(d.value)):
        # a bound literal: each dialect escapes it its own way, and Alembic compares it as SQL
        return sa.literal(str(d.value), sa.Text())
    return str(d.value)


def build_metadata(db: Database, metadata: sa.MetaData | None = None) -> sa.MetaData:
    """Tables of the whole database as SQLAlchemy Core objects, with every name explicit."""
    md = metadata or sa.MetaData()
    enums = {e.name: e for e in db.enums}
    for name, column, column_type in external_tables(db):
        # another system's table, in the server's collation (`spelling.inexact_columns`)
        key_type = sa_type(Column(column, column_type, False), {}, True, exact=False)
        sa.Table(name, md, sa.Column(column, key_type, primary_key=True))
    for table in db.tables:
        build_table(table, md, enums, db.exact_text)
    return md


def build_table(table: Table, md: sa.MetaData, enums: Mapping[str, EnumType], exact: bool = True) -> sa.Table:
    items: list[Any] = []
    keyed = keyed_columns(table)
    inexact = inexact_columns(table)
    for col in table.columns:
        items.append(
            sa.Column(
                col.name,
                sa_type(col, enums, keyed.get(col.name, False), exact and col.name not in inexact),
                nullable=col.nullable,
                server_default=server_default(col),
                autoincrement=is_serial(col) or (False if col.name in table.primary_key.columns else "auto"),
                comment=col.comment,
            )
        )
    items.append(sa.PrimaryKeyConstraint(*table.primary_key.columns, name=conv(table.primary_key.name)))
    for fk in table.foreign_keys:
        items.append(
            sa.ForeignKeyConstraint(
                list(fk.columns),
                [f"{fk.ref_table}.{c}" for c in fk.ref_columns],
                name=conv(fk.name),
                ondelete=fk.ondelete,
            )
        )
    for uq in table.uniques:
        items.append(sa.UniqueConstraint(*uq.columns, name=conv(uq.name)))
    for ix in table.indexes:
        items.append(sa.Index(conv(ix.name), *ix.columns))
    for ck in table.checks:
        items.append(checks.constraint(ck))
    return sa.Table(table.name, md, *items, comment=table.comment)


def compiled_type(column: Column, enums: Mapping[str, EnumType], dialect: sa.engine.Dialect) -> str:
    """The column's type as `dialect` spells it in DDL, lower case."""
    return str(sa_type(column, enums).compile(dialect=dialect)).lower()


def compiled_default(column: Column, dialect: sa.engine.Dialect) -> str:
    """The column's server default as `dialect` spells it in DDL."""
    value = server_default(column)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    # DDL inlines a default: bound literals render as SQL literals, as CREATE TABLE would write them
    return str(value.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def dialect_type(column: Column, enums: Mapping[str, EnumType], dialect: sa.engine.Dialect) -> str:
    """The column's type as `dialect` spells it (PostgreSQL's without compiling, as the docs show it)."""
    if dialect.name == "postgresql":
        return display_type(column, enums)
    return compiled_type(column, enums, dialect)


def dialect_default(column: Column, dialect: sa.engine.Dialect) -> str:
    """The column's default as `dialect` spells it, in Markdown (see `spelling.display_default`)."""
    if dialect.name == "postgresql" or column.default is None or column.default.kind == "sequence":
        return display_default(column)
    return md_code_cell(compiled_default(column, dialect))
