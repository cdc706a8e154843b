"""The data moves revisions run: backfill NULLs, copy columns between a 1:1 table and its parent, rename values,
move what a row keeps under a renamed property's JSON pointer.

Online they run on the revision's connection; offline (`--sql`) they are written into the script, with
literal values (nothing can be reflected there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
import sqlalchemy.engine.mock


def _offline(bind: Any) -> bool:
    return isinstance(bind, sa.engine.mock.MockConnection)


def _table(bind: Any, name: str, *columns: str) -> sa.TableClause:
    """The table as the database has it (its column types bind the values right: a PostgreSQL enum is no
    varchar); offline, where nothing can be reflected, its name and columns (values are then literals)."""
    if _offline(bind):
        return sa.table(name, *(sa.column(c) for c in columns))
    return sa.Table(name, sa.MetaData(), autoload_with=bind)


def _value(bind: Any, value: Any) -> Any:
    """A value to bind: offline it is written as a literal, typed by its Python type (the column has none)."""
    return sa.literal(value) if _offline(bind) else value


def _run(bind: Any, statement: sa.Executable) -> None:
    if _offline(bind):
        from alembic import op

        op.execute(statement)  # written into the --sql script
    else:
        bind.execute(statement)


def backfill(bind: sa.Connection, table: str, column: str, value: Any) -> None:
    """Set `column` to `value` where it is NULL (before the column becomes NOT NULL)."""
    t = _table(bind, table, column)
    _run(bind, t.update().where(t.c[column].is_(None)).values({column: _value(bind, value)}))


def copy_to_parent(
    bind: sa.Connection, child: str, child_key: str, parent: str, parent_key: str, columns: Sequence[str]
) -> None:
    """Copy `columns` of a 1:1 table into the same-named columns of its parent (an object becomes flattened)."""
    c, p = _table(bind, child, child_key, *columns), _table(bind, parent, parent_key, *columns)
    link = c.c[child_key] == p.c[parent_key]
    values = {col: sa.select(c.c[col]).where(link).scalar_subquery() for col in columns}
    _run(bind, p.update().where(sa.exists().where(link)).values(values))


def copy_to_child(
    bind: sa.Connection, parent: str, parent_key: str, child: str, child_key: str, columns: Sequence[str]
) -> None:
    """Insert a 1:1 row for each parent row holding a value in `columns` (a flattened object gets its table)."""
    p, c = _table(bind, parent, parent_key, *columns), _table(bind, child, child_key, *columns)
    present = sa.or_(*(p.c[col].is_not(None) for col in columns))
    rows = sa.select(p.c[parent_key], *(p.c[col] for col in columns)).where(present)
    _run(bind, c.insert().from_select([child_key, *columns], rows))


def rename_values(bind: sa.Connection, table: str, column: str, renames: Mapping[str, str]) -> None:
    """Rewrite stored enum values (previous → new) of one column, all in one UPDATE: along a chain (`a → b`,
    `b → c`) a row renamed from `a` is not renamed again."""
    if not renames:
        return
    t = _table(bind, table, column)
    c = t.c[column]
    whens = [(c == _value(bind, before), _value(bind, after)) for before, after in renames.items()]
    olds = [_value(bind, before) for before in renames]
    _run(bind, t.update().where(c.in_(olds)).values({column: sa.case(*whens, else_=c)}))


def rename_pointers(bind: sa.Connection, table: str, columns: Sequence[str], renames: Sequence[Sequence[str]]) -> None:
    """In the JSON `columns` that key a row's values by relative JSON pointer (presence marks, spellings), move
    each `(before, after)` pointer's value to `after`: a renamed property keeps its `null` and its spelling.

    One UPDATE per column and pointer, the same online and in a `--sql` script (SQLite's rehearsal writes the
    statements it runs); the keys are literals, as no JSON path can be bound as a parameter everywhere."""
    quote = bind.dialect.identifier_preparer.quote
    for name in columns:
        for before, after in renames:
            sql = _move_key(bind.dialect.name, quote(table), quote(name), before, after)
            _run(bind, sa.text(sql.replace(":", "\\:")))  # a colon in a pointer is no bound parameter


def _move_key(dialect: str, table: str, c: str, before: str, after: str) -> str:
    """The UPDATE moving key `before` of JSON column `c` to `after`, the others as they are, in their order."""
    if dialect == "postgresql":
        a, b = _lit(before), _lit(after)
        value = f"({c} - {a}) || jsonb_build_object({b}, {c} -> {a})"
        return f"UPDATE {table} SET {c} = {value} WHERE jsonb_exists({c}, {a})"
    if dialect == "sqlite":  # json_each gives scalars as SQL values: true, false and objects go back as JSON
        a, b = _lit(before), _lit(after)
        value = (
            "CASE WHEN type IN ('true', 'false', 'object', 'array') THEN json(CASE type WHEN 'true' THEN 'true' "
            "WHEN 'false' THEN 'false' ELSE value END) ELSE value END"
        )
        rebuilt = f"SELECT json_group_object(CASE key WHEN {a} THEN {b} ELSE key END, {value}) FROM json_each({c})"
        return f"UPDATE {table} SET {c} = ({rebuilt}) WHERE EXISTS (SELECT 1 FROM json_each({c}) WHERE key = {a})"
    a, b = _json_path(before), _json_path(after)  # MySQL and MariaDB: a path names the key, quoted in it
    value = f"JSON_INSERT(JSON_REMOVE({c}, {a}), {b}, JSON_EXTRACT({c}, {a}))"
    return f"UPDATE {table} SET {c} = {value} WHERE JSON_CONTAINS_PATH({c}, 'one', {a})"


def _lit(text: str, backslashes: bool = False) -> str:
    """An SQL string literal; `backslashes`: MySQL's, where a backslash escapes."""
    return "'" + (text.replace("\\", "\\\\") if backslashes else text).replace("'", "''") + "'"


def _json_path(key: str) -> str:
    """A MySQL JSON path naming one member, whatever characters its key holds, as a string literal."""
    return _lit('$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"', backslashes=True)
