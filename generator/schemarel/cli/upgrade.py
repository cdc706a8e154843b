"""`schemarel upgrade` and `downgrade`: Alembic's commands on the generated environment, failures as one message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from schemarel.cli.common import (
    REVISION_ARGUMENT,
    db_option,
    debug_option,
    first_line,
    out_option,
    reports_errors,
    sql_option,
)


def _alembic(out_dir: Path, db_url: str | None, action: str, revision: str, sql: bool = False) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from schemarel.errors import SchemarelError
    from schemarel.urls import DEFAULT_URL, redact

    ini = out_dir / "alembic.ini"
    if not ini.is_file():
        raise SchemarelError(f"{ini} not found: run `schemarel generate` first (or pass --out)")
    config = Config(str(ini))
    url = db_url or DEFAULT_URL
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["without_models"] = True  # env.py: an upgrade needs no models
    if not sql:  # a script touches no database
        from schemarel.cli.guards import refuse_foreign_sqlite

        refuse_foreign_sqlite(url, creates=True)
    try:
        if sql:
            _script_range(config, action, revision)
        getattr(command, action)(config, revision, sql=sql)
    except (CommandError, RevisionError) as exc:  # RevisionError: an unknown id met outside Alembic's commands
        raise SchemarelError(str(exc)) from None
    except SchemarelError:
        raise
    except (SQLAlchemyError, ValueError) as exc:  # ValueError: a URL SQLAlchemy cannot read (a port "abc")
        err = SchemarelError(
            f"{action} to {revision} failed on {redact(url)}: {exc.__class__.__name__}: {first_line(exc)}"
        )
        err.exit_code = 1
        raise err from None


def _script_range(config: Any, action: str, revision: str) -> None:
    """Before a `--sql` script is written: its revisions exist, and `FROM:TO` goes the command's way (an upgrade
    to an earlier revision printed the downgrade's script on SQLite and an empty one elsewhere, exit 0)."""
    from alembic.script import ScriptDirectory

    from schemarel.errors import SchemarelError

    script = ScriptDirectory.from_config(config)
    chain = [r.revision for r in script.walk_revisions()]  # head first

    def place(rev: str) -> int | None:  # how far below the head; None for a relative step (Alembic's to read)
        if rev in ("head", "heads"):
            return 0
        if rev == "base":
            return len(chain)
        if rev[:1] in "+-" or not rev:
            return None
        found = script.get_revision(rev)  # raises for an unknown id, before any line of the script
        return chain.index(found.revision) if found is not None and found.revision in chain else None

    start, _, destination = revision.rpartition(":")
    here, there = (place(start) if start else None), place(destination)
    if here is None or there is None or (there <= here if action == "upgrade" else there >= here):
        return
    other = "downgrade" if action == "upgrade" else "upgrade"
    raise SchemarelError(
        f"{action} {revision} --sql: {destination} is {'below' if action == 'upgrade' else 'above'} {start}, so "
        f"there is nothing to {action}; the script from {start} to {destination} is `schemarel {other} "
        f"{revision} --sql`"
    )


@click.command(context_settings=REVISION_ARGUMENT)
@click.argument("revision", default="head")
@out_option
@db_option
@sql_option
@debug_option
@reports_errors
def upgrade(revision: str, out_dir: Path, db_url: str | None, sql: bool) -> None:
    """Apply migrations up to REVISION (default: head; Alembic syntax: +1, a revision id)."""
    _alembic(out_dir, db_url, "upgrade", revision, sql)


@click.command(context_settings=REVISION_ARGUMENT)
@click.argument("revision")
@out_option
@db_option
@sql_option
@debug_option
@reports_errors
def downgrade(revision: str, out_dir: Path, db_url: str | None, sql: bool) -> None:
    """Revert migrations down to REVISION (Alembic syntax: -1, base, a revision id; with --sql, FROM:TO)."""
    _alembic(out_dir, db_url, "downgrade", revision, sql)
