"""What every command shares: the common options, errors as one message and an exit code, database names."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from schemarel.errors import SchemarelError

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
    type=click.Path(path_type=Path),  # a file or a link there is refused by schemarel, saying which
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
strict_option = click.option(
    "--strict",
    is_flag=True,
    help="Refuse two properties of one object that map to the same column, instead of renaming the later one.",
)
debug_option = click.option("--debug", is_flag=True, help="Show a traceback on errors.")
# a relative revision such as `-1` must reach Alembic as the REVISION argument, not fail as an unknown option
REVISION_ARGUMENT = {"ignore_unknown_options": True}


def reports_errors(fn: F) -> F:
    """Turn a SchemarelError into one message on stderr and its exit code, with no traceback.

    Whatever is printed on an error has the secrets of the command's database URL hidden.
    """

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from schemarel.cli.guards import crash, report

        debug = kwargs.pop("debug", False)
        url = kwargs.get("db_url")
        try:
            return fn(*args, **kwargs)
        except SchemarelError as exc:
            report(exc, url, debug)
        except (click.ClickException, click.Abort):
            raise
        except Exception:
            crash(url)
            raise

    return wrapper  # type: ignore[return-value]


schema_name_option = click.option(
    "--schema",
    "schema",
    required=True,
    metavar="NAME",
    help="The schema's file stem: `customer` for schemas/customer.schema.json.",
)


def first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else repr(orig)


sql_option = click.option(
    "--sql", is_flag=True, help="Print the SQL script for the --db URL's dialect instead of running it (FROM:TO)."
)
