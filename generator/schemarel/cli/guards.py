"""What the commands protect besides output folders: the files a reject file may not be, a database URL's secrets."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from schemarel.errors import SchemarelError
from schemarel.text import terminal
from schemarel.urls import scrub, secrets

if TYPE_CHECKING:
    from schemarel.runtime.ndjson import RejectsFile


def rejects_file(
    file: str,
    explicit: Path | None,
    source: os.stat_result | None,
    schemas_dir: Path,
    db_url: str,
    out_dir: Path | None = None,
) -> RejectsFile:
    """The reject file of `load FILE` (`-` is stdin), refused now if it is the input, the database, a schema or
    a generated file."""
    from schemarel.runtime.ndjson import RejectsFile

    stdin = file == "-"
    path = explicit or Path("rejects.ndjson" if stdin else f"{file}.rejects.ndjson")
    keep = [("the database", Path(database))] if (database := sqlite_file(db_url)) else []
    return RejectsFile(
        path,
        source,
        "<stdin>" if stdin else file,
        keep=keep,
        keep_dirs=[("the schemas folder", schemas_dir)] + ([("the generated folder", out_dir)] if out_dir else []),
        follow=explicit is not None,
    )


def sqlite_file(url: str) -> str | None:
    """The file of an SQLite URL; None for another database, one in memory, or an SQLite `file:` URI."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # an unreadable URL fails later, with its own message
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.query.get("uri") or parsed.database.startswith("file:"):  # an SQLite URI: not a plain path
        return None
    return parsed.database


def report(exc: SchemarelError, url: str | None, debug: bool) -> NoReturn:
    """Print a SchemarelError (with the traceback under --debug), the database URL's secrets hidden; exit."""
    if debug:
        click.echo(scrub(traceback.format_exc(), url), err=True, nl=False)
    click.secho(f"error: {terminal(scrub(str(exc), url))}", fg="red", err=True)
    sys.exit(exc.exit_code)


def crash(url: str | None) -> None:
    """An unexpected error: Python's traceback as it would print it, unless the database URL carries secrets.

    Then the same traceback is printed with them hidden (exit 1, as an uncaught exception would).
    """
    if not url or not secrets(url):
        return
    click.echo(scrub(traceback.format_exc(), url), err=True, nl=False)
    sys.exit(1)
