"""Whether the database is at the models' revision, and missing tables or columns as an error that says what to run."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from schemarel.errors import MigrationRequired

VERSION_TABLE = "alembic_version"  # Alembic's default, which generated/migrations/env.py keeps
UPGRADE = "run `schemarel upgrade`"
# a table or column the statement names is not in the database: PostgreSQL's SQLSTATEs, SQLite's and MySQL's words
_MISSING_SQLSTATES = {"42P01", "42703"}
_MISSING_WORDS = re.compile(r"no such table|no such column|has no column named|doesn't exist|Unknown column")


def check_revision(conn: sa.Connection, revision: str | None, command: str = "schemarel") -> None:
    """Raise MigrationRequired unless the database's Alembic revision is `revision` (None: nothing to check).

    `command`: how the message spells the command to run (the CLI adds the options it was given, such as
    `schemarel --db URL`, so that what the message says to run is what reaches that database).
    """
    if revision is None:
        return
    upgrade = f"run `{_with(command, 'upgrade')}`"
    try:
        found = [str(v) for v in conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()]
    except sa.exc.DBAPIError as exc:
        if not missing_object(exc):
            raise
        raise MigrationRequired(
            f"the database was never upgraded (it has no {VERSION_TABLE} table), the models are at {revision}: "
            f"{upgrade}"
        ) from None
    if found == [revision]:
        return
    if not found:
        raise MigrationRequired(f"the database has no revision applied, the models are at {revision}: {upgrade}")
    current = found[0]
    if _number(current) < _number(revision):
        raise MigrationRequired(f"the database is at {current}, the models at {revision}: {upgrade}")
    raise MigrationRequired(
        f"the database is at {current}, newer than the models ({revision}): deploy the code generated with "
        f"{current}, or run `{_with(command, 'downgrade')} {revision}`"
    )


def _with(command: str, action: str) -> str:
    """`schemarel --db URL` and `upgrade` → `schemarel upgrade --db URL`."""
    program, _, options = command.partition(" ")
    return " ".join(filter(None, [program, action, options]))


def _number(revision: str) -> tuple[int, str]:
    return (int(revision), revision) if revision.isdigit() else (-1, revision)


def missing_object(exc: BaseException) -> bool:
    """Whether a driver error says a table or column does not exist."""
    orig: Any = exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None else exc
    if getattr(orig, "sqlstate", None) in _MISSING_SQLSTATES:
        return True
    return bool(_MISSING_WORDS.search(str(orig)))


def migration_required(exc: BaseException) -> MigrationRequired | None:
    """The error to raise instead of a driver's "no such table" (or column), else None."""
    orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None else exc
    # a driver's own error (a raw DB-API call) or SQLAlchemy's wrapper of one
    if not ({"Error", "DBAPIError"} & {c.__name__ for c in type(orig).__mro__}) or not missing_object(exc):
        return None
    lines = str(orig).strip().splitlines()
    detail = lines[0] if lines else type(exc).__name__
    return MigrationRequired(f"the database lacks the models' tables or columns ({detail}): {UPGRADE} first")
