"""The stable surface generated models and revisions import: SQL defaults, preconditions, data moves.

Generated code imports nothing of schemarel but this module, and revisions are history that is never
rewritten, so every public name here is frozen: `uuid_default`, `boolean_default` (server defaults),
`MissingExternalTable`, `require_tables`, `DataLoss`, `protect_data` (preconditions), `backfill`,
`copy_to_parent`, `copy_to_child`, `rename_values` (data moves), `migrate`, `migration_engine`,
`offline_options`, `rehearse`, `compare_server_default`, `MigrationFailed` (what env.py runs), `open_store`
(the typed stores of generated/documents/). Add names; never remove or re-sign one
(tests/test_support_surface.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
import sqlalchemy.engine.mock
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Boolean, Uuid

# preconditions, and how the generated env.py runs migrations: implemented in modules of their own
from schemarel.migrating import (
    MigrationFailed,
    compare_server_default,
    migrate,
    migration_engine,
    offline_options,
    rehearse,
)
from schemarel.preconditions import DataLoss, MissingExternalTable, protect_data, require_tables

__all__ = [
    "DataLoss",
    "MigrationFailed",
    "MissingExternalTable",
    "backfill",
    "boolean_default",
    "compare_server_default",
    "copy_to_child",
    "copy_to_parent",
    "migrate",
    "migration_engine",
    "offline_options",
    "open_store",
    "protect_data",
    "rehearse",
    "rename_values",
    "require_tables",
    "uuid_default",
]


# --- datamove ---
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
    """Rewrite stored enum values (previous → new) of one column."""
    t = _table(bind, table, column)
    for before, after in renames.items():
        _run(bind, t.update().where(t.c[column] == _value(bind, before)).values({column: _value(bind, after)}))


# --- stores ---
def open_store(db: Any, schema: str, generated: Any, *, asynchronous: bool = False, check: bool = True) -> Any:
    """A Store (or AsyncStore) of `schema` on the model of the generated package at `generated`.

    The typed stores of `generated/documents/` open their store here, so that generated code keeps importing
    this module only; the runtime is imported when a store is opened, not when generated code is.
    """
    if asynchronous:
        from schemarel.runtime.async_store import AsyncStore

        return AsyncStore(db, schema, source=generated, check=check)
    from schemarel.runtime.store import Store

    return Store(db, schema, source=generated, check=check)


# --- sqlfuncs ---
class uuid_default(FunctionElement[Any]):  # noqa: N801 - reads like the SQL function it stands for
    """A fresh random uuid, in the form SQLAlchemy's `Uuid` type stores on each dialect."""

    type = Uuid()
    inherit_cache = True
    name = "uuid_default"


@compiles(uuid_default, "postgresql")
def _pg(element: uuid_default, compiler: Any, **kw: Any) -> str:
    return "gen_random_uuid()"


@compiles(uuid_default, "sqlite")
def _sqlite(element: uuid_default, compiler: Any, **kw: Any) -> str:
    # Uuid is CHAR(32) of hex digits on SQLite; an expression default must be parenthesized there
    return "(lower(hex(randomblob(16))))"


@compiles(uuid_default, "mysql")
@compiles(uuid_default, "mariadb")
def _mysql(element: uuid_default, compiler: Any, **kw: Any) -> str:
    dialect = compiler.dialect
    # offline (`--sql` with a mariadb:// URL) the version is unknown: SQLAlchemy's MariaDB Uuid is native then
    if getattr(dialect, "is_mariadb", False) and (dialect.server_version_info or (10, 7)) >= (10, 7):
        return "uuid()"  # MariaDB 10.7+ stores Uuid in its native uuid type
    return "(replace(uuid(), '-', ''))"


class boolean_default(FunctionElement[Any]):  # noqa: N801
    """A boolean server default, spelled as each dialect reads it back (`1`/`0` on MySQL and SQLite)."""

    type = Boolean()
    inherit_cache = True
    name = "boolean_default"

    def __init__(self, value: bool) -> None:
        super().__init__()
        self.value = bool(value)


@compiles(boolean_default)
def _boolean(element: boolean_default, compiler: Any, **kw: Any) -> str:
    if compiler.dialect.supports_native_boolean and compiler.dialect.name not in ("mysql", "mariadb"):
        return "true" if element.value else "false"
    return "1" if element.value else "0"


@compiles(uuid_default)
def _default(element: uuid_default, compiler: Any, **kw: Any) -> str:
    raise NotImplementedError(f"no server-side uuid default for {compiler.dialect.name}")
