"""Preconditions generated migrations check before they change a database."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from .errors import SchemarelError


class MissingExternalTable(SchemarelError):
    """A table that another system owns (and schemarel only references) is not in the database."""

    exit_code = 1


def require_tables(bind: sa.Connection, tables: Iterable[str], revision: str) -> None:
    """Fail with a clear message when a referenced, externally owned table does not exist yet."""
    inspector = sa.inspect(bind)
    missing = [t for t in tables if not inspector.has_table(t)]
    if missing:
        names = ", ".join(f"`{t}`" for t in missing)
        raise MissingExternalTable(
            f"revision {revision} references {names}, which schemarel does not create (another system owns it, "
            f'declared with "x-sql": {{"references": …}}); create it first, then run the upgrade again'
        )
