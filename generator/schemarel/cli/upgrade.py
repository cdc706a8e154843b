"""`schemarel upgrade` and `downgrade`: Alembic's commands on the generated environment, failures as one message."""

from __future__ import annotations

from pathlib import Path

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
    try:
        getattr(command, action)(config, revision, sql=sql)
    except CommandError as exc:
        raise SchemarelError(str(exc)) from None
    except SchemarelError:
        raise
    except (SQLAlchemyError, ValueError) as exc:  # ValueError: a URL SQLAlchemy cannot read (a port "abc")
        err = SchemarelError(
            f"{action} to {revision} failed on {redact(url)}: {exc.__class__.__name__}: {first_line(exc)}"
        )
        err.exit_code = 1
        raise err from None


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
