"""`schemarel load`, `export` and `backfill`: documents in and out of a database through the runtime's Store."""

from __future__ import annotations

import gc
import io
import json
import math
import os
import re
import shlex
import stat
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from functools import wraps
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import click

from schemarel.cli.common import db_option, debug_option, first_line, reports_errors, schema_name_option
from schemarel.errors import SchemarelError
from schemarel.naming import counted
from schemarel.text import terminal

# the data commands read the model the migrations create: the generated package's head snapshot and schema copies
models_option = click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default="generated",
    show_default=True,
    help="The generated package whose models (its head revision) the documents are read and written with; the "
    "database must be at that revision.",
)
# on load, --schemas only keeps the reject file out of the schemas folder (documents are validated against
# the generated package's copies of the schemas)
rejects_keep_option = click.option(
    "--schemas",
    "schemas_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default="schemas",
    show_default=True,
    help="The schemas folder, which the reject file may not be written into (documents are validated against "
    "the copies in --out, not these files).",
)


F = TypeVar("F", bound=Callable[..., Any])
# in click's `ctx.meta`: whether the collector was enabled when `_quick_start` paused it, until `_started`; and
# whether `_started` froze what start-up built
STARTING, FROZE = "schemarel.starting", "schemarel.froze"


def _quick_start(fn: F) -> F:
    """The command with the cyclic garbage collector kept off what start-up builds (modules, the model, the
    store), which lives to the end: paused until `_store` has built the store, then those objects frozen (out
    of every later collection) for the rest of the command. Its passes over them were about a fifth of
    start-up's CPU, and, as documents come and go, about a tenth of a load's. A caller that paused the collector
    or froze objects itself (a test running the command in its process) gets it back as it was."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        meta = click.get_current_context().meta
        enabled = gc.isenabled()
        gc.disable()
        meta[STARTING] = enabled
        try:
            return fn(*args, **kwargs)
        finally:
            meta.pop(STARTING, None)  # start-up failed
            if meta.pop(FROZE, False):
                gc.unfreeze()
            if enabled:
                gc.enable()

    return wrapper  # type: ignore[return-value]


def _started() -> None:
    """Start-up is over: what it built is frozen (unless the caller froze objects of its own, which are left as
    they are), then the collector runs again as `_quick_start` found it."""
    meta = click.get_current_context().meta
    if STARTING not in meta:
        return
    enabled = meta.pop(STARTING)
    if gc.get_freeze_count() == 0:
        gc.freeze()  # before enabling: else the first collection goes over everything start-up made
        meta[FROZE] = True
    if enabled:
        gc.enable()


@contextmanager
def _young_collections(batch_size: int) -> Iterator[None]:
    """The collector's youngest generation collected after 20 new objects per document of a batch (instead of
    700): a batch's documents (a dozen objects each, no cycles) live until the batch is written, and each young
    collection went over them again, then the older one over those it had moved there, freeing next to nothing
    (about 7% of a load's CPU; now a few milliseconds). Cyclic garbage is still collected, about once a batch."""
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], 20 * batch_size), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


@contextmanager
def _store(out_dir: Path, db_url: str | None, schema: str, model: Any = None) -> Iterator[Any]:
    """A Store on the database with the models of `out_dir` (the generated package: its head snapshot and schema
    copies, as the application's Store uses them, never `schemas/`, which may be ahead of the migrations); the
    database must be at that head revision, else the message says what to run. A database failure becomes one
    message (exit 1) instead of a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    from schemarel.runtime.connect import engine_for
    from schemarel.runtime.dbstate import check_revision
    from schemarel.runtime.store import Store
    from schemarel.urls import DEFAULT_URL

    url = db_url or DEFAULT_URL
    engine_for(url).dispose()  # a URL no driver can read is a usage error, whatever else is missing
    if not out_dir.is_dir():
        raise SchemarelError(
            f"{out_dir} not found: the models come from the generated package; run `schemarel generate` first "
            "(or pass --out, or set `out` in [tool.schemarel])"
        )
    from schemarel.cli.guards import refuse_foreign_sqlite, sqlite_file

    refuse_foreign_sqlite(url, creates=False)
    database = sqlite_file(url)
    opened = False  # whether the command's own work began (a ValueError there is no URL's)
    try:
        with Store(url, schema, source=model or out_dir, check=False) as store:  # a model already read of it
            if database is not None and not Path(database).exists():  # connecting would create an empty file
                raise _missing(
                    f"the database was never upgraded (there is no file {database}), the models are at "
                    f"{store.revision}: run `{_upgrade()}`"
                )
            with store.engine.connect() as conn:
                check_revision(conn, store.revision, _command())
            _started()
            opened = True
            yield store
    except SchemarelError:  # already says what went wrong (a QueryError is also a ValueError)
        raise
    except (SQLAlchemyError, ValueError) as exc:  # ValueError: a URL SQLAlchemy cannot read (a port "abc")
        text = first_line(exc)
        if opened and not isinstance(exc, SQLAlchemyError):  # the command's work, not the database (--debug: where)
            err = SchemarelError(f"{exc.__class__.__name__}: {text}")
            err.exit_code = 1
            raise err from exc
        raise _database_error(url, exc) from None


def _database_error(url: str, exc: BaseException) -> SchemarelError:
    """A database's refusal to connect or to answer (SQLAlchemy's error or the driver's own), as one message
    naming the URL (its password hidden) and, where it helps, what to run (exit 1)."""
    from schemarel.urls import redact

    text = first_line(exc)
    if _NO_DATABASE.search(text):  # the server has no such database: `upgrade` cannot create one
        hint = "; create the database first, then run `schemarel upgrade`"
    elif "does not exist" in text or "no such table" in text:
        hint = "; run `schemarel upgrade` first"
    else:
        hint = ""
    err = SchemarelError(f"{redact(url)}: {exc.__class__.__name__}: {text}{hint}")
    err.exit_code = 1
    return err


# PostgreSQL's and MariaDB's words for a database the server does not have
_NO_DATABASE = re.compile(r'database "[^"]*" does not exist|Unknown database')


def _missing(message: str) -> SchemarelError:
    err = SchemarelError(message)
    err.exit_code = 1
    return err


def _upgrade() -> str:
    """The upgrade to run, with the --out and --db this command was given."""
    return _command().replace("schemarel", "schemarel upgrade", 1)


def _command() -> str:
    """`schemarel` with the --out and --db this command was given on its command line (the others reach
    `upgrade` the same way: [tool.schemarel], SCHEMAREL_DATABASE_URL), the URL's secrets hidden."""
    from click.core import ParameterSource

    from schemarel.urls import redact

    ctx = click.get_current_context()
    words = ["schemarel"]
    for option, name in (("--out", "out_dir"), ("--db", "db_url")):
        if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE:
            value = ctx.params[name]
            words += [option, shlex.quote(redact(value) if name == "db_url" else str(value))]
    return " ".join(words)


def _where(text: str | None) -> dict[str, Any] | None:
    """`--where`: a JSON object of filters (runtime/query.py), or a usage error."""
    from schemarel.schema.loader import reject_constant, reject_duplicates

    if text is None:
        return None
    try:
        value = json.loads(
            text, parse_float=_finite, parse_constant=reject_constant, object_pairs_hook=reject_duplicates
        )
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--where") from None
    except ValueError as exc:  # a number no float holds, NaN, a key given twice
        raise click.BadParameter(str(exc), param_hint="--where") from None
    if not isinstance(value, dict):
        raise click.BadParameter('a JSON object of filters, such as {"lastName": "Lovelace"}', param_hint="--where")
    return value


def _finite(text: str) -> float:
    """A JSON number of `--where` as a float, refused where a float cannot hold it (1e999 would filter by `inf`)."""
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is out of the range of a number")
    return number


def _progress(length: int | None, label: str) -> Any:
    """A progress bar on stderr when it is a terminal, else nothing."""
    if length is None or not sys.stderr.isatty():
        return nullcontext(None)
    # redrawn every 0.5 % (not on each of a million lines)
    return click.progressbar(length=length, label=label, file=sys.stderr, update_min_steps=max(1, length // 200))


@click.command()
@click.argument("file", metavar="FILE")
@schema_name_option
@models_option
@rejects_keep_option
@db_option
@click.option(
    "--batch-size", type=click.IntRange(1), default=1000, show_default=True, help="Documents per transaction."
)
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where invalid lines go, one JSON line each [default: FILE.rejects.ndjson; rejects.ndjson for stdin].",
)
@click.option("--all-or-nothing", is_flag=True, help="Load nothing if any line is invalid.")
@debug_option
@reports_errors
@_quick_start
def load(
    file: str,
    schema: str,
    out_dir: Path,
    schemas_dir: Path,
    db_url: str | None,
    batch_size: int,
    rejects_path: Path | None,
    all_or_nothing: bool,
) -> None:
    """Load NDJSON documents of schema NAME from FILE (- for stdin); invalid lines go to a reject file."""
    from schemarel.cli.guards import rejects_file
    from schemarel.runtime.loading import LoadResult, Reject
    from schemarel.urls import DEFAULT_URL

    stdin = file == "-"
    try:
        stream = sys.stdin.buffer if stdin else open(file, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise SchemarelError(f"{file}: cannot read: {exc.strerror}") from None
    shown: list[Reject] = []
    with ExitStack() as stack:
        if not stdin:
            stack.enter_context(stream)
        # the input as opened (not as named) is what the reject file may not be
        rejects = rejects_file(file, rejects_path, _stat(stream), schemas_dir, db_url or DEFAULT_URL, out_dir)
        rejects_path = rejects.path
        stack.callback(rejects.close)

        def reject(item: Reject) -> None:
            rejects.write(item)
            if len(shown) < 5:
                shown.append(item)

        size = None if stdin else os.fstat(stream.fileno()).st_size
        start = time.perf_counter()
        with _progress(size, f"loading {schema}") as bar:
            progress = bar.update if bar else None
            result = _copy_load(stream, db_url or DEFAULT_URL, out_dir, schema, reject, batch_size, all_or_nothing,
                                progress, file, rejects_path)  # fmt: skip
            if not isinstance(result, LoadResult):  # the Store's way, from the line where COPY stopped (or the first)
                from schemarel.runtime.ndjson import Loader

                rest = result
                with _store(out_dir, db_url, schema, rest.model) as store:
                    loader = Loader(store, reject, batch_size, all_or_nothing, _less(progress, rest.reread))
                    loader.result = rest.before
                    with _young_collections(batch_size), _says_where_it_stopped(loader, file, schema, rejects_path):
                        result = loader.run(rest.lines, rest.first) if rest.first > 1 else loader.run(rest.lines)
        elapsed = time.perf_counter() - start
    where = "<stdin>" if stdin else file
    for item in shown:
        click.secho(terminal(f"{where}:{item.line}: " + "; ".join(item.reasons)), fg="red", err=True)
    if all_or_nothing and result.rejected:
        raise SchemarelError(f"nothing loaded: {counted(result.rejected, 'invalid line')}, listed in {rejects_path}")
    rate = result.loaded / elapsed if elapsed > 0 else 0.0
    click.echo(f"loaded {_documents(result.loaded, schema)} in {elapsed:.2f} s ({rate:,.0f} documents/s)")
    if result.rejected:
        click.secho(f"rejected {counted(result.rejected, 'line')}, listed in {rejects_path}", fg="red", err=True)
        sys.exit(1)


class _Rest(NamedTuple):
    """What the Store's way (`ndjson.Loader`) loads on from when COPY did not load it all."""

    lines: Any  # the lines, the first of them numbered `first`
    first: int
    before: Any  # the LoadResult so far
    reread: int  # bytes of those lines the progress bar was given already
    model: Any  # the model COPY read, if it read one


def _copy_load(
    stream: Any,
    url: str,
    out_dir: Path,
    schema: str,
    reject: Callable[[Any], None],
    batch_size: int,
    all_or_nothing: bool,
    progress: Callable[[int], None] | None,
    file: str,
    rejects_path: Path,
) -> Any:
    """The load by COPY without SQLAlchemy where it can be made (runtime/copyload.py): its LoadResult, or what
    the Store's way (`ndjson.Loader`) loads on from."""
    from schemarel.runtime.loading import LoadResult

    copying = None
    if not all_or_nothing and _regular(stream):
        from schemarel.runtime.copyload import CannotConnect, copy_loader

        try:
            copying = copy_loader(url, out_dir, schema, reject, batch_size, progress)
        except CannotConnect as exc:  # said once, as the Store's way says it (it would only try again)
            from schemarel.runtime.connect import engine_for

            engine_for(url).dispose()  # a URL no driver can read is a usage error, as it is the Store's way
            raise _database_error(url, exc.cause) from None
    if copying is None:
        return _Rest(stream, 1, LoadResult(), 0, None)
    _started()
    with copying, _young_collections(batch_size), _says_where_it_stopped(copying, file, schema, rejects_path):
        rest = copying.run(stream)
    if rest is None:
        return copying.result
    return _Rest(rest, copying.result.through + 1, copying.result, copying.reread, copying.store.model)


def _less(progress: Callable[[int], None] | None, counted: int) -> Callable[[int], None] | None:
    """`progress` without the first `counted` bytes it is given: lines read again after a hand-over, which the
    bar counted when COPY read them."""
    if progress is None or not counted:
        return progress
    left = counted

    def update(size: int) -> None:
        nonlocal left
        skipped = min(size, left)
        left -= skipped
        if size > skipped:
            progress(size - skipped)

    return update


def _regular(stream: Any) -> bool:
    """Whether the input is a regular file (stdin redirected from one too): never a pipe or a terminal, where a
    read may wait for the next line with a refused batch not yet handed over (`copyload`), whose lines Ctrl-C
    would then leave unlisted."""
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError and a ValueError
        return False


@contextmanager
def _says_where_it_stopped(loader: Any, file: str, schema: str, rejects_path: Path) -> Iterator[None]:
    """A load that stops on a failure (the database, a full disk, Ctrl-C) first says what it left done, the
    failure's own message follows: the batches committed so far stay, so the lines to load again are the ones
    after the last line those batches read (`LoadResult.through`)."""
    try:
        yield
    except BaseException as exc:
        result = loader.result
        failure = "it was interrupted" if isinstance(exc, KeyboardInterrupt) else "the failure below"
        if loader.all_or_nothing or result.through == 0:
            done = "nothing was loaded"
        else:  # lines of committed batches: loaded, or rejected by the database and listed (none loaded, maybe)
            listed = f"listed in {rejects_path}" if result.rejected else ""
            state = " or ".join(filter(None, ["loaded" if result.loaded else "", listed])) or "blank"
            loaded = _documents(result.loaded, schema) if result.loaded else f"no {schema} document"
            done = (
                f"{loaded} loaded before {failure}: lines 1 to {result.through:,} are {state}, "
                f"the lines after {result.through:,} are not"
            )
            if file != "-":
                rest = shlex.join(["tail", "-n", f"+{result.through + 1}", file])
                program, _, options = _command().partition(" ")
                again = " ".join(filter(None, [program, "load - --schema", shlex.quote(schema), options]))
                done += f" (`{rest} | {again}` loads them)"
        click.secho(terminal(done), fg="red", err=True)
        raise


def _stat(stream: Any) -> os.stat_result | None:
    """The input's device and inode; None for a stream that is no file (a test's in-memory stdin)."""
    try:
        return os.fstat(stream.fileno())
    except (OSError, ValueError):
        return None


@click.command()
@schema_name_option
@models_option
@db_option
@click.option("--with-ids", is_flag=True, help='Each line as {"id": …, "document": …}.')
@click.option(
    "--where",
    "where",
    metavar="JSON",
    default=None,
    help='Only the documents matching these filters, as Store.find takes them: \'{"emails": {"endswith": "@x.org"}}\'.',
)
@debug_option
@reports_errors
@_quick_start
def export(schema: str, out_dir: Path, db_url: str | None, with_ids: bool, where: str | None) -> None:
    """Write every document of schema NAME (or those matching --where) to stdout, one JSON line each, by id."""
    from schemarel.runtime.ndjson import export as export_documents

    filters = _where(where)
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n", write_through=False)
    try:
        with _store(out_dir, db_url, schema) as store:
            export_documents(store, out, with_ids, filters)
    finally:
        out.flush()
        out.detach()


@click.command()
@schema_name_option
@models_option
@db_option
@click.option("--batch-size", type=click.IntRange(1), default=10_000, show_default=True, help="Rows per transaction.")
@click.option(
    "--workers", type=click.IntRange(1), default=2, show_default=True, help="Batches under way at once (not SQLite)."
)
@debug_option
@reports_errors
@_quick_start
def backfill(schema: str, out_dir: Path, db_url: str | None, batch_size: int, workers: int) -> None:
    """Create the default NAME document for every row of the table it references that has none."""
    from schemarel.runtime.backfill import Backfill, BackfillResult

    start = time.perf_counter()
    with _store(out_dir, db_url, schema) as store, ExitStack() as stack:
        plan = Backfill(store, batch_size, workers)
        bars: list[Any] = []

        def progress(result: BackfillResult, total: int) -> None:
            if not bars:
                bars.append(stack.enter_context(_progress(total, f"backfilling {schema}")))
            if bars[0] is not None:
                bars[0].update(result.referenced - bars[0].pos)

        # the bar's total counts the referenced table: not asked for where no bar is drawn
        result = plan.run(progress if sys.stderr.isatty() else None)
    elapsed = time.perf_counter() - start
    click.echo(
        f"created {_documents(result.created, schema)} for {counted(result.referenced, 'row')} of {plan.parent.name} "
        f"({result.referenced - result.created} had one already) in {elapsed:.2f} s"
    )


def _documents(count: int, schema: str) -> str:
    return counted(count, f"{schema} document")
