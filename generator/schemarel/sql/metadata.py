"""The IR as SQLAlchemy objects: column types, server defaults and `MetaData` tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.sql.elements import conv

from schemarel.ir import Column, ColumnType, Database, EnumType, Table
from schemarel.sql import checks
from schemarel.sql.spelling import (
    MYSQL,
    MYSQL_KEY_LENGTH,
    external_tables,
    is_serial,
    keyed_columns,
    mysql_longtext,
    needs_literal,
)
from schemarel.support import boolean_default, uuid_default

_SIMPLE: Mapping[str, Callable[[ColumnType], sa.types.TypeEngine[Any]]] = {
    "uuid": lambda t: sa.Uuid(),
    # MySQL's TEXT holds 64 KiB, DATETIME and TIME whole seconds: what JSON Schema allows needs more there
    "text": lambda t: sa.Text().with_variant(mysql.LONGTEXT(), *MYSQL),
    "varchar": lambda t: sa.String(t.length),
    "boolean": lambda t: sa.Boolean(),
    "smallint": lambda t: sa.SmallInteger(),
    "integer": lambda t: sa.Integer(),
    "bigint": lambda t: sa.BigInteger(),
    "float": lambda t: sa.Double(),
    "numeric": lambda t: sa.Numeric(t.precision, t.scale),
    "date": lambda t: sa.Date(),
    "datetime": lambda t: sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), *MYSQL),
    "time": lambda t: sa.Time().with_variant(mysql.TIME(fsp=6), *MYSQL),
    "json": lambda t: sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
}


def sa_type(column: Column, enums: Mapping[str, EnumType], keyed: bool | str = False) -> sa.types.TypeEngine[Any]:
    """The SQLAlchemy type; `keyed` is True for a column in a key, "text" for one MySQL keeps as TEXT."""
    t = column.type
    if t.kind == "enum":
        assert t.enum is not None
        return sa.Enum(*enums[t.enum].values, name=t.enum, create_constraint=True)
    if is_serial(column):
        # SQLite autoincrements only an INTEGER PRIMARY KEY
        return sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    if t.kind == "uuid" and not keyed:  # MariaDB's uuid type refuses some uuids: a document's are kept as hex
        return sa.Uuid().with_variant(sa.Uuid(native_uuid=False), *MYSQL)
    if keyed is True and t.kind == "text":
        return sa.Text().with_variant(sa.String(MYSQL_KEY_LENGTH), *MYSQL)
    if keyed == "text" and t.kind == "varchar":
        return sa.String(t.length).with_variant(mysql.LONGTEXT() if mysql_longtext(t) else sa.Text(), *MYSQL)
    return _SIMPLE[t.kind](t)


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
        sa.Table(name, md, sa.Column(column, sa_type(Column(column, column_type, False), {}, True), primary_key=True))
    for table in db.tables:
        build_table(table, md, enums)
    return md


def build_table(table: Table, md: sa.MetaData, enums: Mapping[str, EnumType]) -> sa.Table:
    items: list[Any] = []
    keyed = keyed_columns(table)
    for col in table.columns:
        items.append(
            sa.Column(
                col.name,
                sa_type(col, enums, keyed.get(col.name, False)),
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


def postgres_dialect() -> sa.engine.Dialect:
    return postgresql.dialect()  # type: ignore[no-any-return]
