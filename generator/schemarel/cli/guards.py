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
    from schemarel.runtime.loading import RejectsFile


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
    from schemarel.runtime.loading import RejectsFile

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
    if not url.lower().startswith("sqlite"):  # no other backend's name begins so (and SQLAlchemy stays unimported)
        return None
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


SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file


def refuse_foreign_sqlite(url: str, creates: bool) -> None:
    """An SQLite URL naming a file that is not an SQLite database, or a folder, is refused (exit 2) before anything
    connects, and so is, for a command that `creates` the database, a file in a folder that does not exist:
    SQLite takes a file of a few bytes (`--db sqlite:///notes.txt` holding `todo`) for an empty database and
    writes over it, and says only "unable to open database file" of a missing folder. An empty file is an empty
    database, as SQLite reads it."""
    database = sqlite_file(url)
    if database is None:
        return
    path = Path(database)
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        if creates and not path.parent.is_dir():
            message = f"the database {database} cannot be created: there is no folder {path.parent}"
            raise SchemarelError(message) from None
        return
    except IsADirectoryError:
        raise SchemarelError(f"the database {database} is a folder, not an SQLite database file") from None
    except OSError:
        return  # unreadable: SQLite says why when it opens it
    if head and head != SQLITE_HEADER:
        raise SchemarelError(
            f"the database {database} is not an SQLite database (it does not begin with SQLite's header), and "
            "schemarel writes into no other file: name a database file in --db"
        )


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
