"""Column types as text, without importing SQLAlchemy: model source, Python annotations, and how docs spell them.

`schemarel check` renders every doc and model on each run; keeping SQLAlchemy off that path halves its start-up.
PostgreSQL's spellings below are what SQLAlchemy's compiler prints (tests/test_sqltypes.py holds them to it);
other dialects are compiled by SQLAlchemy on demand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from schemarel.ir import Column, ColumnType, Database, EnumType, Table
from schemarel.text import md_code

# The same types as Python source for the generated models (`sa.` is SQLAlchemy, `postgresql.` its dialect).
_SIMPLE_EXPR: Mapping[str, Callable[[ColumnType], str]] = {
    "uuid": lambda t: "sa.Uuid()",
    "text": lambda t: "sa.Text().with_variant(mysql.LONGTEXT(), 'mysql', 'mariadb')",
    "varchar": lambda t: f"sa.String({t.length})",
    "boolean": lambda t: "sa.Boolean()",
    "smallint": lambda t: "sa.SmallInteger()",
    "integer": lambda t: "sa.Integer()",
    "bigint": lambda t: "sa.BigInteger()",
    "float": lambda t: "sa.Double()",
    "numeric": lambda t: f"sa.Numeric({t.precision}, {t.scale})",
    "date": lambda t: "sa.Date()",
    "datetime": lambda t: "sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')",
    "time": lambda t: "sa.Time().with_variant(mysql.TIME(fsp=6), 'mysql', 'mariadb')",
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
# MySQL cannot index a TEXT column without a prefix length: a text column in a key is varchar(255) there;
# and it caps a row's varchars at 65,535 bytes (4 per character in utf8mb4): long ones are TEXT there.
MYSQL = ("mysql", "mariadb")
MYSQL_KEY_LENGTH = 255
MYSQL_LONG_VARCHAR = 4096
MYSQL_ROW_CHARS = 12_000
MYSQL_TEXT_BYTES = 65_535  # what TEXT holds; utf8mb4 takes up to 4 bytes a character


def mysql_longtext(t: ColumnType) -> bool:
    """Whether a varchar MySQL keeps as TEXT needs LONGTEXT there to hold `maxLength` characters."""
    return (t.length or 0) * 4 > MYSQL_TEXT_BYTES


# How PostgreSQL's DDL spells each type (the docs' primary dialect).
POSTGRES_SPELLING: Mapping[str, Callable[[ColumnType], str]] = {
    "uuid": lambda t: "uuid",
    "text": lambda t: "text",
    "varchar": lambda t: f"varchar({t.length})" if t.length else "varchar",
    "boolean": lambda t: "boolean",
    "smallint": lambda t: "smallint",
    "integer": lambda t: "integer",
    "bigint": lambda t: "bigint",
    "float": lambda t: "double precision",
    "numeric": lambda t: f"numeric({t.precision}, {t.scale})" if t.precision is not None else "numeric",
    "date": lambda t: "date",
    "datetime": lambda t: "timestamp with time zone",
    "time": lambda t: "time without time zone",
    "json": lambda t: "jsonb",
}
POSTGRES_DEFAULTS = {"uuid": "gen_random_uuid()", "now": "now()"}


def is_serial(column: Column) -> bool:
    return column.default is not None and column.default.kind == "sequence"


def needs_literal(default: str) -> bool:
    """A string default that must be a SQLAlchemy literal (`sa.literal`), not a plain string: Alembic puts a
    plain one between quotes unescaped when it compares defaults, and MySQL reads backslashes as escapes."""
    return "'" in default or "\\" in default


def type_expr(column: Column, enums: Mapping[str, EnumType], keyed: bool | str = False) -> str:
    """Python source that builds the column's SQLAlchemy type (`keyed`: see `keyed_columns`)."""
    t = column.type
    if t.kind == "enum":
        assert t.enum is not None
        values = ", ".join(py_str(v) for v in enums[t.enum].values)
        return f"sa.Enum({values}, name={py_str(t.enum)}, create_constraint=True)"
    if is_serial(column):
        return SERIAL
    if t.kind == "uuid" and not keyed:
        return "sa.Uuid().with_variant(sa.Uuid(native_uuid=False), 'mysql', 'mariadb')"
    if keyed is True and t.kind == "text":
        return f"sa.Text().with_variant(sa.String({MYSQL_KEY_LENGTH}), {', '.join(map(repr, MYSQL))})"
    if keyed == "text" and t.kind == "varchar":
        long = "mysql.LONGTEXT()" if mysql_longtext(t) else "sa.Text()"
        return f"sa.String({t.length}).with_variant({long}, {', '.join(map(repr, MYSQL))})"
    return _SIMPLE_EXPR[t.kind](t)


def keyed_columns(table: Table) -> dict[str, bool | str]:
    """Column name → True for columns in a key (primary, foreign, unique, index), "text" for the long varchars
    MySQL must keep as TEXT."""
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


def display_type(column: Column, enums: Mapping[str, EnumType], dialect: Any = None) -> str:
    """The column's type as docs show it: PostgreSQL's spelling unless `dialect` says otherwise."""
    if is_serial(column):
        return "bigserial"
    if column.type.kind == "enum":
        return column.type.enum or "enum"
    spell = POSTGRES_SPELLING.get(column.type.kind)
    if (dialect is None or dialect.name == "postgresql") and spell:
        return spell(column.type)
    from schemarel.sql.metadata import compiled_type, postgres_dialect

    return compiled_type(column, enums, dialect or postgres_dialect())


def display_default(column: Column, dialect: Any = None) -> str:
    """The default as docs show it (Markdown): `—` for none, `sequence` for a serial key, else code."""
    d = column.default
    if d is None:
        return "—"
    if d.kind == "sequence":
        return "sequence"
    if dialect is not None and dialect.name != "postgresql":
        from schemarel.sql.metadata import compiled_default

        sql = compiled_default(column, dialect)
    elif d.kind in POSTGRES_DEFAULTS:
        sql = POSTGRES_DEFAULTS[d.kind]
    elif isinstance(d.value, bool):
        sql = "true" if d.value else "false"
    elif isinstance(d.value, int | float):
        sql = repr(d.value)
    else:
        sql = "'" + str(d.value).replace("'", "''") + "'"
    return md_code(sql).replace("|", "\\|")  # a pipe would end the table cell, even in code
