"""The `schemarel` command line: parses options, calls the pipeline, maps outcomes to exit codes."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from .errors import SchemarelError

F = TypeVar("F", bound=Callable[..., Any])

schemas_option = click.option(
    "--schemas",
    "schemas_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default="schemas",
    show_default=True,
    help="Directory of *.schema.json files.",
)
out_option = click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default="generated",
    show_default=True,
    help="Directory the generated files go to.",
)
templates_option = click.option(
    "--templates",
    "templates_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Directory whose templates override the shipped ones, by file name.",
)
db_option = click.option(
    "--db",
    "db_url",
    envvar="SCHEMAREL_DATABASE_URL",
    default=None,
    help="Database URL [default: SCHEMAREL_DATABASE_URL, else sqlite:///schemarel.db].",
)
debug_option = click.option("--debug", is_flag=True, help="Show a traceback on errors.")
# a relative revision such as `-1` must reach Alembic as the REVISION argument, not fail as an unknown option
REVISION_ARGUMENT = {"ignore_unknown_options": True}


def reports_errors(fn: F) -> F:
    """Turn a SchemarelError into one message on stderr and its exit code, with no traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = kwargs.pop("debug", False)
        try:
            return fn(*args, **kwargs)
        except SchemarelError as exc:
            if debug:
                traceback.print_exc()
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="schemarel")
def main() -> None:
    """Turn the JSON Schemas of schemas/ into tables, SQLAlchemy models, Alembic migrations and docs."""


@main.command()
@schemas_option
@out_option
@templates_option
@click.option("-m", "--message", default=None, help="Message of the new revision, if one is written.")
@click.option(
    "--allow-destructive",
    is_flag=True,
    help="Write a revision that drops tables or columns, narrows types, removes enum values or adds NOT NULL.",
)
@debug_option
@reports_errors
def generate(
    schemas_dir: Path, out_dir: Path, templates_dir: Path | None, message: str | None, allow_destructive: bool
) -> None:
    """Write generated/ from the schemas; a new migration revision only when the tables changed."""
    from .output import write_tree
    from .project import Settings, build

    gen = build(Settings(schemas_dir, out_dir, templates_dir, message, allow_destructive))
    changes = write_tree(out_dir, gen.files)
    if gen.new_revision:
        click.echo(f"new revision {gen.new_revision.id}: {gen.new_revision.message}")
    for change in changes:
        click.echo(
            f"{ {'missing': 'wrote', 'changed': 'updated', 'extra': 'removed'}[change.kind]:8} {out_dir / change.path}"
        )
    if not changes:
        click.echo(f"{out_dir} is up to date")


@main.command()
@schemas_option
@out_option
@templates_option
@debug_option
@reports_errors
def check(schemas_dir: Path, out_dir: Path, templates_dir: Path | None) -> None:
    """Exit 1 with a diff when generated/ is not what the schemas produce (for CI)."""
    from .output import drift
    from .project import Settings, build

    gen = build(Settings(schemas_dir, out_dir, templates_dir), write_revision=False)
    problems = drift(out_dir, gen.files)
    if gen.pending_change:
        click.secho(
            f"{out_dir}: the schema changed but no revision was generated; run `schemarel generate`",
            fg="red",
            err=True,
        )
    for problem in problems:
        if problem.kind == "changed":
            click.echo(problem.diff, nl=False)
        else:
            what = "is missing" if problem.kind == "missing" else "should not be there"
            click.secho(f"{out_dir / problem.path} {what}", fg="red", err=True)
    if problems or gen.pending_change:
        click.secho(f"{out_dir} is stale: run `schemarel generate` and commit the result", fg="red", err=True)
        sys.exit(1)
    click.echo(f"{out_dir} is up to date")


def _alembic(out_dir: Path, db_url: str | None, action: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from .errors import SchemarelError
    from .project import DEFAULT_URL

    ini = out_dir / "alembic.ini"
    if not ini.is_file():
        raise SchemarelError(f"{ini} not found: run `schemarel generate` first (or pass --out)")
    config = Config(str(ini))
    url = db_url or DEFAULT_URL
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    try:
        getattr(command, action)(config, revision)
    except CommandError as exc:
        raise SchemarelError(str(exc)) from None
    except SchemarelError:
        raise
    except SQLAlchemyError as exc:
        err = SchemarelError(
            f"{action} to {revision} failed on {_safe(url)}: {exc.__class__.__name__}: {_first_line(exc)}"
        )
        err.exit_code = 1
        raise err from None


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<database>"


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else repr(orig)


@main.command(context_settings=REVISION_ARGUMENT)
@click.argument("revision", default="head")
@out_option
@db_option
@debug_option
@reports_errors
def upgrade(revision: str, out_dir: Path, db_url: str | None) -> None:
    """Apply migrations up to REVISION (default: head; Alembic syntax: +1, a revision id)."""
    _alembic(out_dir, db_url, "upgrade", revision)


@main.command(context_settings=REVISION_ARGUMENT)
@click.argument("revision")
@out_option
@db_option
@debug_option
@reports_errors
def downgrade(revision: str, out_dir: Path, db_url: str | None) -> None:
    """Revert migrations down to REVISION (Alembic syntax: -1, base, a revision id)."""
    _alembic(out_dir, db_url, "downgrade", revision)


if __name__ == "__main__":  # pragma: no cover
    main(prog_name=os.path.basename(sys.argv[0]))
