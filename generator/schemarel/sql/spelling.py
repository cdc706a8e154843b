"""Column types as text, without importing SQLAlchemy: the type each column gets, and how docs spell it.

`schemarel check` renders every doc and model on each run; keeping SQLAlchemy off that path halves its start-up.
PostgreSQL's spellings (`kinds.KINDS`) are what SQLAlchemy's compiler prints (tests/test_sqltypes.py holds them to it);
other dialects are compiled by SQLAlchemy (`metadata.dialect_type`, `metadata.dialect_default`).
"""

from __future__ import annotations

from collections.abc import Mapping

from schemarel.ir import Column, ColumnType, Database, EnumType, Table
from schemarel.sql.kinds import KINDS, MYSQL, SAType, mysql_string
from schemarel.text import md_code

# SQLite autoincrements only an INTEGER PRIMARY KEY
SERIAL = SAType("BigInteger").with_variant(SAType("Integer"), "sqlite")
# MySQL cannot index a TEXT column without a prefix length: a text column in a key is varchar(255) there;
# and it caps a row's varchars at 65,535 bytes (4 per character in utf8mb4): long ones are TEXT there.
MYSQL_KEY_LENGTH = 255
MYSQL_LONG_VARCHAR = 4096
MYSQL_ROW_CHARS = 12_000
MYSQL_TEXT_BYTES = 65_535  # what TEXT holds; utf8mb4 takes up to 4 bytes a character


def mysql_longtext(t: ColumnType) -> bool:
    """Whether a varchar MySQL keeps as TEXT needs LONGTEXT there to hold `maxLength` characters."""
    return (t.length or 0) * 4 > MYSQL_TEXT_BYTES


POSTGRES_DEFAULTS = {"uuid": "gen_random_uuid()", "now": "now()"}


def is_serial(column: Column) -> bool:
    return column.default is not None and column.default.kind == "sequence"


def needs_literal(default: str) -> bool:
    """A string default that must be a SQLAlchemy literal (`sa.literal`), not a plain string: Alembic puts a
    plain one between quotes unescaped when it compares defaults, and MySQL reads backslashes as escapes."""
    return "'" in default or "\\" in default


def type_spec(column: Column, enums: Mapping[str, EnumType], keyed: bool | str = False, exact: bool = True) -> SAType:
    """The column's SQLAlchemy type as data (`keyed`: see `keyed_columns`; `exact`: a string column compares
    exactly on MySQL, see `kinds.MYSQL_EXACT` and `inexact_columns`): models write it, metadata builds it."""
    t = column.type
    if t.kind == "enum":
        assert t.enum is not None
        return SAType("Enum", tuple(enums[t.enum].values), (("name", t.enum), ("create_constraint", True)))
    if is_serial(column):
        return SERIAL
    if t.kind == "uuid" and not keyed:  # MariaDB's uuid type refuses some uuids: a document's are kept as hex
        return SAType("Uuid").with_variant(SAType("Uuid", kwargs=(("native_uuid", False),)), *MYSQL)
    if keyed is True and t.kind == "text":
        key = mysql_string("VARCHAR", True, MYSQL_KEY_LENGTH) if exact else SAType("String", (MYSQL_KEY_LENGTH,))
        return SAType("Text").with_variant(key, *MYSQL)
    if keyed == "text" and t.kind == "varchar":
        long = "LONGTEXT" if mysql_longtext(t) else "TEXT"
        kept = mysql_string(long, True) if exact else SAType(f"mysql.{long}" if long == "LONGTEXT" else "Text")
        return SAType("String", (t.length,)).with_variant(kept, *MYSQL)
    if not exact and t.kind == "varchar":
        return SAType("String", (t.length,))
    if not exact and t.kind == "text":
        return SAType("Text").with_variant(SAType("mysql.LONGTEXT"), *MYSQL)
    build = KINDS[t.kind].sa
    assert build is not None, t.kind
    return build(t)


def type_expr(column: Column, enums: Mapping[str, EnumType], keyed: bool | str = False, exact: bool = True) -> str:
    """Python source that builds the column's SQLAlchemy type."""
    return type_spec(column, enums, keyed, exact).source()


def inexact_columns(table: Table) -> frozenset[str]:
    """Columns of foreign keys to another system's tables: MySQL wants a foreign key's column in its key's
    collation, and that table (not schemarel's) has the server's, so these keep it."""
    return frozenset(c for fk in table.foreign_keys if fk.external for c in fk.columns)


def keyed_columns(table: Table) -> dict[str, bool | str]:
    """Column name → True for columns in a key (primary, foreign, unique, index), "text" for the long varchars
    MySQL must keep as TEXT."""
    keyed: dict[str, bool | str] = dict.fromkeys(table.primary_key.columns, True)
    for columns in (*(g.columns for g in table.foreign_keys), *(g.columns for g in (*table.uniques, *table.indexes))):
        keyed.update(dict.fromkeys(columns, True))
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


def display_type(column: Column, enums: Mapping[str, EnumType]) -> str:
    """The column's type as docs show it: PostgreSQL's spelling (`metadata.dialect_type` for other dialects)."""
    if is_serial(column):
        return "bigserial"
    spell = KINDS[column.type.kind].postgres
    if spell is None:  # an enum: PostgreSQL's type is named after it
        return column.type.enum or "enum"
    return spell(column.type)


def display_default(column: Column) -> str:
    """The default as docs show it (Markdown, PostgreSQL's spelling): `—` for none, `sequence` for a serial key."""
    d = column.default
    if d is None:
        return "—"
    if d.kind == "sequence":
        return "sequence"
    if d.kind in POSTGRES_DEFAULTS:
        sql = POSTGRES_DEFAULTS[d.kind]
    elif isinstance(d.value, bool):
        sql = "true" if d.value else "false"
    elif isinstance(d.value, int | float):
        sql = repr(d.value)
    else:
        sql = "'" + str(d.value).replace("'", "''") + "'"
    return md_code_cell(sql)


def md_code_cell(sql: str) -> str:
    """SQL as Markdown code in a table cell: a pipe would end the cell, even in code."""
    return md_code(sql).replace("|", "\\|")
