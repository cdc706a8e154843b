"""The IR as SQLAlchemy objects: column types, `MetaData` tables, and type names per dialect for docs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import conv

from . import checks
from .ir import Column, ColumnType, Database, EnumType, Table
from .render import md_code
from .sqlfuncs import boolean_default, uuid_default

_SIMPLE: Mapping[str, Callable[[ColumnType], sa.types.TypeEngine[Any]]] = {
    "uuid": lambda t: sa.Uuid(),
    "text": lambda t: sa.Text(),
    "varchar": lambda t: sa.String(t.length),
    "boolean": lambda t: sa.Boolean(),
    "smallint": lambda t: sa.SmallInteger(),
    "integer": lambda t: sa.Integer(),
    "bigint": lambda t: sa.BigInteger(),
    "float": lambda t: sa.Double(),
    "numeric": lambda t: sa.Numeric(t.precision, t.scale),
    "date": lambda t: sa.Date(),
    "datetime": lambda t: sa.DateTime(timezone=True),
    "time": lambda t: sa.Time(),
    "json": lambda t: sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
}

# The same types as Python source for the generated models (`sa.` is SQLAlchemy, `postgresql.` its dialect).
_SIMPLE_EXPR: Mapping[str, Callable[[ColumnType], str]] = {
    "uuid": lambda t: "sa.Uuid()",
    "text": lambda t: "sa.Text()",
    "varchar": lambda t: f"sa.String({t.length})",
    "boolean": lambda t: "sa.Boolean()",
    "smallint": lambda t: "sa.SmallInteger()",
    "integer": lambda t: "sa.Integer()",
    "bigint": lambda t: "sa.BigInteger()",
    "float": lambda t: "sa.Double()",
    "numeric": lambda t: f"sa.Numeric({t.precision}, {t.scale})",
    "date": lambda t: "sa.Date()",
    "datetime": lambda t: "sa.DateTime(timezone=True)",
    "time": lambda t: "sa.Time()",
    "json": lambda t: 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")',
}

PYTHON_TYPES: Mapping[str, str] = {
    "uuid": "uuid.UUID",
    "text": "str",
    "varchar": "str",
    "enum": "str",
    "boolean": "bool",
    "smallint": "int",
    "integer": "int",
    "bigint": "int",
    "float": "float",
    "numeric": "decimal.Decimal",
    "date": "datetime.date",
    "datetime": "datetime.datetime",
    "time": "datetime.time",
    "json": "Any",
}

SERIAL = 'sa.BigInteger().with_variant(sa.Integer(), "sqlite")'
# MySQL cannot index a TEXT column without a prefix length: a text column in a key is varchar(255) there.
MYSQL_KEY_LENGTH = 255
_MYSQL = ("mysql", "mariadb")
MYSQL_LONG_VARCHAR = 4096
MYSQL_ROW_CHARS = 12_000


def sa_type(column: Column, enums: Mapping[str, EnumType], keyed: bool | str = False) -> sa.types.TypeEngine[Any]:
    """The SQLAlchemy type; `keyed` is True for a column in a key, "text" for one MySQL keeps as TEXT."""
    t = column.type
    if t.kind == "enum":
        assert t.enum is not None
        return sa.Enum(*enums[t.enum].values, name=t.enum, create_constraint=True)
    if _is_serial(column):
        # SQLite autoincrements only an INTEGER PRIMARY KEY
        return sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    if keyed is True and t.kind == "text":
        return sa.Text().with_variant(sa.String(MYSQL_KEY_LENGTH), *_MYSQL)
    if keyed == "text" and t.kind == "varchar":
        return sa.String(t.length).with_variant(sa.Text(), *_MYSQL)
    return _SIMPLE[t.kind](t)


def type_expr(column: Column, enums: Mapping[str, EnumType], keyed: bool | str = False) -> str:
    """Python source that builds the column's SQLAlchemy type."""
    t = column.type
    if t.kind == "enum":
        assert t.enum is not None
        values = ", ".join(py_str(v) for v in enums[t.enum].values)
        return f"sa.Enum({values}, name={py_str(t.enum)}, create_constraint=True)"
    if _is_serial(column):
        return SERIAL
    if keyed is True and t.kind == "text":
        return f"sa.Text().with_variant(sa.String({MYSQL_KEY_LENGTH}), {', '.join(map(repr, _MYSQL))})"
    if keyed == "text" and t.kind == "varchar":
        return f"sa.String({t.length}).with_variant(sa.Text(), {', '.join(map(repr, _MYSQL))})"
    return _SIMPLE_EXPR[t.kind](t)


def keyed_columns(table: Table) -> dict[str, bool | str]:
    """Column name → True for columns in a key (primary, foreign, unique, index), "text" for the long varchars
    MySQL must keep as TEXT: it caps a row's varchars at 65,535 bytes (4 per character in utf8mb4)."""
    keyed: dict[str, bool | str] = dict.fromkeys(table.primary_key.columns, True)
    for group in (*table.foreign_keys, *table.uniques, *table.indexes):
        keyed.update(dict.fromkeys(group.columns, True))
    varchars = sorted(
        (c for c in table.columns if c.type.kind == "varchar" and c.name not in keyed),
        key=lambda c: (-(c.type.length or 0), c.name),
    )
    total = sum(c.type.length or 0 for c in table.columns if c.type.kind in ("varchar", "enum"))
    for column in varchars:
        if total <= MYSQL_ROW_CHARS and (column.type.length or 0) <= MYSQL_LONG_VARCHAR:
            break
        keyed[column.name] = "text"
        total -= column.type.length or 0
    return keyed


def py_str(value: str) -> str:
    """A Python string literal; `repr` escapes quotes, backslashes, newlines and non-printables."""
    return repr(value)


def _is_serial(column: Column) -> bool:
    return column.default is not None and column.default.kind == "sequence"


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
    return str(d.value)


def build_metadata(db: Database, metadata: sa.MetaData | None = None) -> sa.MetaData:
    """Tables of the whole database as SQLAlchemy Core objects, with every name explicit."""
    md = metadata or sa.MetaData()
    enums = {e.name: e for e in db.enums}
    for name, column, column_type in external_tables(db):
        sa.Table(name, md, sa.Column(column, _SIMPLE[column_type.kind](column_type), primary_key=True))
    for table in db.tables:
        build_table(table, md, enums)
    return md


def external_tables(db: Database) -> list[tuple[str, str, ColumnType]]:
    """Tables other systems own that foreign keys point at: (table, key column, its type), sorted.

    They are declared only so that SQLAlchemy can resolve the foreign keys; nothing creates or drops them.
    """
    found: dict[tuple[str, str], ColumnType] = {}
    for table in db.tables:
        for fk in table.foreign_keys:
            if fk.external:
                found.setdefault((fk.ref_table, fk.ref_columns[0]), table.column(fk.columns[0]).type)
    return [(t, c, found[(t, c)]) for t, c in sorted(found)]


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
                autoincrement=_is_serial(col) or (False if col.name in table.primary_key.columns else "auto"),
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


def display_type(column: Column, enums: Mapping[str, EnumType], dialect: sa.engine.Dialect | None = None) -> str:
    """The column's type as the docs show it: PostgreSQL's spelling, `bigserial` for a sequence key."""
    if _is_serial(column):
        return "bigserial"
    if column.type.kind == "enum":
        return column.type.enum or "enum"
    compiled = sa_type(column, enums).compile(dialect=dialect or postgresql.dialect())
    return compiled.lower()


def display_default(column: Column, dialect: sa.engine.Dialect | None = None) -> str:
    """The default as the docs show it (Markdown): `—` for none, `sequence` for a serial key, else code."""
    d = column.default
    if d is None:
        return "—"
    if d.kind == "sequence":
        return "sequence"
    value = server_default(column)
    if isinstance(value, str):
        sql = "'" + value.replace("'", "''") + "'"
    else:
        sql = str(value.compile(dialect=dialect or postgresql.dialect()))
    return md_code(sql).replace("|", "\\|")  # a pipe would end the table cell, even in code
