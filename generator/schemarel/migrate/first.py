"""The first revision (no earlier model) planned straight from the IR, without SQLAlchemy or Alembic.

A first revision only creates tables, and importing SQLAlchemy and Alembic, building the metadata and having
Alembic render it cost most of a big first `generate`. This writes the text Alembic writes for the same
ops (`plan.plan(None, …)`: each table's `create_table` and `create_index`, each `drop_table` back, the render
hook of `body` for what Alembic cannot spell portably), so the Plans are equal; tests/test_first_revision.py
holds them equal on every schema it has and on drawn ones. Where the IR holds anything this does not spell
as Alembic would (a type it does not know, a name SQLAlchemy would refuse or read otherwise), `plan` returns
None and the caller plans as for any other revision.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from schemarel.ir import Column, Database, EnumType, Table
from schemarel.migrate.diff import Change, diff
from schemarel.migrate.planned import Plan, assemble, finish
from schemarel.sql.checks import constraint_source
from schemarel.sql.kinds import SAType
from schemarel.sql.spelling import external_tables, inexact_columns, is_serial, keyed_columns, needs_literal, type_spec

# SQLAlchemy's types that columns get (`kinds.KINDS`, `spelling.type_spec`), each with the names of its
# positional arguments: SQLAlchemy's repr names every argument that differs from its default (None for all)
_ARGUMENTS: Mapping[str, tuple[str, ...]] = {
    "Uuid": (), "Text": (), "String": ("length",), "Boolean": (), "SmallInteger": (), "Integer": (),
    "BigInteger": (), "Double": (), "Numeric": ("precision", "scale"), "Date": (), "DateTime": (), "Time": (),
    "mysql.LONGTEXT": (), "mysql.TEXT": (), "mysql.VARCHAR": (), "mysql.DATETIME": (), "mysql.TIME": (),
}  # fmt: skip
_JSON = ("JSON", "postgresql.JSONB")  # spelled by the render hook (`body._render_item`), variants and all
_JSON_SOURCE = 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
_TRAILING_SPACES = re.compile(r" +$", re.MULTILINE)


class _Unspelled(Exception):
    """The IR holds something only Alembic's rendering is known to spell: the general planner plans it."""


def plan(new: Database, new_pointers: Mapping[str, str]) -> Plan | None:
    """The Plan of the revision that creates `new` in an empty database, as `plan.plan(None, new, …)` gives
    it; None where only that can say (the caller then plans that way)."""
    if not _plain(new):
        return None
    d = diff(Database(()), new, {}, new_pointers)
    enums = {e.name: e for e in new.enums}
    imports: set[str] = set()
    try:
        created = [text for table in d.added_tables for text in _create(table, enums, imports)]
    except _Unspelled:
        return None
    dropped = [f"op.drop_table({table.name!r})" for table in reversed(d.added_tables)]
    upgrade, downgrade = _body(created, imports), _body(dropped, imports)
    return assemble(d, upgrade, downgrade, _carried(d.added_tables, d.changes), imports)


def _plain(db: Database) -> bool:
    """Whether SQLAlchemy would build the metadata without complaint and Alembic read it back as written:
    names given, unique and found where they are used; foreign keys whose targets a dot cannot split otherwise."""
    names = [t.name for t in db.tables]
    external = [t for t, _, _ in external_tables(db)]  # declared once each, beside the tables
    if not all(names) or len({*names, *external}) != len(names) + len(external):
        return False
    enums = {e.name for e in db.enums}
    for table in db.tables:
        columns = [c.name for c in table.columns]
        known = set(columns)
        if not all(columns) or len(known) != len(columns):
            return False
        if any(c.type.kind == "enum" and c.type.enum not in enums for c in table.columns):
            return False
        groups = [table.primary_key, *table.uniques, *table.indexes]
        if any(not g.columns or not known.issuperset(g.columns) for g in groups):
            return False
        index_names = [ix.name for ix in table.indexes]
        if len(set(index_names)) != len(index_names):  # Alembic orders indexes by name: a tie has no order
            return False
        for fk in table.foreign_keys:
            if not fk.columns or len(fk.columns) != len(fk.ref_columns) or not known.issuperset(fk.columns):
                return False
            if "." in fk.ref_table or any("." in c for c in fk.ref_columns):
                return False
    return True


def _carried(added: Sequence[Table], changes: Sequence[Change]) -> list[Change]:
    """The changes in the order the ops carry them (`carry.Carrier`): each table's with its create_table,
    then any no op took."""
    pending = list(changes)
    carried: list[Change] = []
    for table in added:
        key = ("add", "table", table.name)
        carried += [c for c in pending if (c.action, c.what, c.name) == key]
        pending = [c for c in pending if (c.action, c.what, c.name) != key]
    return carried + pending


def _body(operations: Sequence[str], imports: set[str]) -> str:
    """The ops' text as `body.render` gives it: each line indented once, trailing spaces dropped."""
    if not operations:
        return "    pass\n"
    code = "    " + "\n".join(operations).replace("\n", "\n    ")
    return finish(_TRAILING_SPACES.sub("", code), imports)


def _create(table: Table, enums: Mapping[str, EnumType], imports: set[str]) -> list[str]:
    """`op.create_table(…)` of the table, then `op.create_index(…)` of each index by name (`phases._table_op`)."""
    keyed = keyed_columns(table)
    key = set(table.primary_key.columns)
    inexact = inexact_columns(table)
    args = [_column(c, enums, keyed.get(c.name, False), c.name in key, c.name not in inexact, imports)
            for c in table.columns]  # fmt: skip
    args += sorted(_constraints(table))  # Alembic sorts the constraints by their text
    text = f"op.create_table({table.name!r},\n" + ",\n".join(args)
    if table.comment is not None:
        text += f",\ncomment={table.comment!r}"
    indexes = [
        f"op.create_index(op.f({ix.name!r}), {table.name!r}, [{_names(ix.columns)}], unique=False)"
        for ix in sorted(table.indexes, key=lambda ix: ix.name)
    ]
    return [text + "\n)", *indexes]


def _constraints(table: Table) -> list[str]:
    pk = table.primary_key
    found = [f"sa.PrimaryKeyConstraint({_names(pk.columns)}{_named(pk.name)})"]
    for fk in table.foreign_keys:
        refs = ", ".join(repr(f"{fk.ref_table}.{c}") for c in fk.ref_columns)
        options = [f"name=op.f({fk.name!r})"] if fk.name else []
        options += [f"ondelete={fk.ondelete!r}"] if fk.ondelete else []
        found.append(f"sa.ForeignKeyConstraint([{_names(fk.columns)}], [{refs}], {', '.join(options)})")
    found += [f"sa.UniqueConstraint({_names(uq.columns)}{_named(uq.name)})" for uq in table.uniques]
    found += [constraint_source(ck, f"op.f({ck.name!r})") for ck in table.checks]  # the render hook's
    return found


def _names(names: Sequence[str]) -> str:
    return ", ".join(map(repr, names))


def _named(name: str) -> str:
    return f", name=op.f({name!r})" if name else ""


def _column(
    column: Column, enums: Mapping[str, EnumType], keyed: bool | str, key: bool, exact: bool, imports: set[str]
) -> str:
    """`sa.Column(…)` as Alembic renders the column `metadata.build_table` builds."""
    options = []
    default = _server_default(column, imports)
    if default is not None:
        options.append(f"server_default={default}")
    if is_serial(column):
        options.append("autoincrement=True")
    elif key:
        options.append("autoincrement=False")
    options.append(f"nullable={column.nullable}")
    if column.comment is not None:
        options.append(f"comment={column.comment!r}")
    spelled = _type(type_spec(column, enums, keyed, exact), imports)
    return f"sa.Column({column.name!r}, {spelled}, {', '.join(options)})"


def _server_default(column: Column, imports: set[str]) -> str | None:
    """The `server_default=` of `metadata.server_default(column)` as the render hook or Alembic spells it."""
    d = column.default
    if d is None or d.kind == "sequence":
        return None
    if d.kind == "uuid":
        imports.add("from schemarel.support import uuid_default")
        return "uuid_default()"
    if d.kind == "now":
        return "sa.func.now()"
    if isinstance(d.value, bool):
        imports.add("from schemarel.support import boolean_default")
        return f"boolean_default({d.value})"
    if isinstance(d.value, int | float):  # `sa.text(repr(value))`, compiled back to the same text
        return f"sa.text({repr(d.value)!r})"
    text = str(d.value)
    if needs_literal(text):
        return f"sa.literal({text!r}, sa.Text())"
    return repr(text)  # Alembic strips one quote at either end first: `needs_literal` left none


def _type(t: SAType, imports: set[str]) -> str:
    """The type as Alembic renders it: the hook's JSON, else SQLAlchemy's repr with the variants by dialect."""
    if t.name in _JSON:
        imports.add("from sqlalchemy.dialects import postgresql")
        return _JSON_SOURCE
    by_dialect: dict[str, SAType] = {}
    for other, dialects in t.variants:
        for dialect in dialects:
            if dialect in by_dialect or other.variants:  # SQLAlchemy refuses the one, Alembic skips the other
                raise _Unspelled(t.name)
            by_dialect[dialect] = other
    text = _repr(t)
    for dialect in sorted(by_dialect):
        text += f".with_variant({_type(by_dialect[dialect], imports)}, {dialect!r})"
    return text


def _repr(t: SAType) -> str:
    """SQLAlchemy's repr of the type (its arguments that differ from their defaults), with its module."""
    head = t.name if "." in t.name else f"sa.{t.name}"
    if t.name == "Enum":  # Enum(*labels, name=…, create_constraint=True), as `type_spec` builds it
        name = dict(t.kwargs).get("name")
        if not t.args or not all(isinstance(a, str) for a in t.args) or not isinstance(name, str) or not name:
            raise _Unspelled(t.name)
        if t.kwargs != (("name", name), ("create_constraint", True)):
            raise _Unspelled(t.name)
        return f"{head}({_names(t.args)}, name={name!r}, create_constraint=True)"
    names = _ARGUMENTS.get(t.name)
    if names is None or len(t.args) > len(names):
        raise _Unspelled(t.name)
    args = [f"{n}={a!r}" for n, a in zip(names, t.args, strict=False) if a is not None]
    return f"{head}({', '.join([*args, *(f'{k}={v!r}' for k, v in t.kwargs)])})"
