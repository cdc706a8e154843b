"""Data moves that generated revisions run inside their upgrade/downgrade: backfills, moved columns, renamed values.

They reflect the tables they touch, so values are bound with the column types the database really has (a
PostgreSQL enum, SQLite's text), and they are plain SQLAlchemy Core: the same call works on every dialect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa


def _table(bind: sa.Connection, name: str) -> sa.Table:
    return sa.Table(name, sa.MetaData(), autoload_with=bind)


def backfill(bind: sa.Connection, table: str, column: str, value: Any) -> None:
    """Set `column` to `value` where it is NULL (before the column becomes NOT NULL)."""
    t = _table(bind, table)
    bind.execute(t.update().where(t.c[column].is_(None)).values({column: value}))


def copy_to_parent(
    bind: sa.Connection, child: str, child_key: str, parent: str, parent_key: str, columns: Sequence[str]
) -> None:
    """Copy `columns` of a 1:1 table into the same-named columns of its parent (an object becomes flattened)."""
    c, p = _table(bind, child), _table(bind, parent)
    link = c.c[child_key] == p.c[parent_key]
    values = {col: sa.select(c.c[col]).where(link).scalar_subquery() for col in columns}
    bind.execute(p.update().where(sa.exists().where(link)).values(values))


def copy_to_child(
    bind: sa.Connection, parent: str, parent_key: str, child: str, child_key: str, columns: Sequence[str]
) -> None:
    """Insert a 1:1 row for each parent row holding a value in `columns` (a flattened object gets its table)."""
    p, c = _table(bind, parent), _table(bind, child)
    present = sa.or_(*(p.c[col].is_not(None) for col in columns))
    rows = sa.select(p.c[parent_key], *(p.c[col] for col in columns)).where(present)
    bind.execute(c.insert().from_select([child_key, *columns], rows))


def rename_values(bind: sa.Connection, table: str, column: str, renames: Mapping[str, str]) -> None:
    """Rewrite stored enum values (previous → new) of one column."""
    t = _table(bind, table)
    for before, after in renames.items():
        bind.execute(t.update().where(t.c[column] == before).values({column: after}))
