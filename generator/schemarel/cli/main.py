"""The `schemarel` command line: parses options, calls the pipeline, maps outcomes to exit codes."""

from __future__ import annotations

import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from schemarel.errors import SchemarelError
from schemarel.text import terminal

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="schemarel")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Turn the JSON Schemas of schemas/ into tables, SQLAlchemy models, Alembic migrations and docs.

    Defaults come from [tool.schemarel] in the nearest pyproject.toml; options override them.
    """
    from schemarel.project.config import default_map, load_settings

    if os.environ.get("NO_COLOR"):
        ctx.color = False  # https://no-color.org: any non-empty value
    try:
        ctx.default_map = default_map(load_settings(), main.commands)  # type: ignore[attr-defined]
    except SchemarelError as exc:
        click.secho(f"error: {terminal(str(exc))}", fg="red", err=True)
        sys.exit(exc.exit_code)


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
@click.option(
    "--rebase",
    is_flag=True,
    help="After a git merge where both branches generated a revision: move this branch's after the other's.",
)
@click.option(
    "--rehash",
    is_flag=True,
    help="Record the committed revisions as they now are in history.sum (after editing one on purpose).",
)
@click.option("--watch", is_flag=True, help="Keep running; regenerate whenever a schema or template is saved.")
@click.option(
    "--interval", type=click.FloatRange(min=0.05), default=0.5, show_default=True, help="Seconds between polls."
)
@strict_option
@debug_option
@reports_errors
def generate(
    schemas_dir: Path,
    out_dir: Path,
    templates_dir: Path | None,
    message: str | None,
    allow_destructive: bool,
    rebase: bool,
    rehash: bool,
    watch: bool,
    interval: float,
    strict: bool,
) -> None:
    """Write generated/ from the schemas; a new migration revision only when the tables changed."""
    from schemarel.project.config import output_owner
    from schemarel.render.ownership import replaceable

    replaceable(out_dir, output_owner("generate", schemas_dir, templates_dir))  # before any work, and the watch
    if rebase:
        _rebase(schemas_dir, out_dir, templates_dir, message, allow_destructive)
        return
    if watch:
        from schemarel.cli.watch import watch_and_generate

        settings = (schemas_dir, out_dir, templates_dir, message, allow_destructive, False, strict)
        watch_and_generate(schemas_dir, templates_dir, interval, lambda: _generate(*settings))
        return
    _generate(schemas_dir, out_dir, templates_dir, message, allow_destructive, rehash, strict)


def _generate(
    schemas_dir: Path,
    out_dir: Path,
    templates_dir: Path | None,
    message: str | None,
    allow_destructive: bool,
    rehash: bool = False,
    strict: bool = False,
) -> None:
    from schemarel.project.config import output_owner
    from schemarel.project.pipeline import Settings, build
    from schemarel.render.output import write_tree

    gen = build(Settings(schemas_dir, out_dir, templates_dir, message, allow_destructive, rehash, strict))
    for warning in gen.database.warnings:
        click.secho(f"warning: {terminal(str(warning))}", fg="yellow", err=True)
    changes = write_tree(out_dir, gen.files, output_owner("generate", schemas_dir, templates_dir))
    if gen.new_revision:
        click.echo(f"new revision {gen.new_revision.id}: {terminal(gen.new_revision.message)}")
    verbs = {"missing": "wrote", "changed": "updated", "extra": "removed"}  # a link or special file: replaced
    for change in changes:
        click.echo(f"{verbs.get(change.kind, 'replaced'):8} " + terminal(str(out_dir / change.path)))
    if not changes:
        click.echo(f"{out_dir} is up to date")


def _rebase(
    schemas_dir: Path, out_dir: Path, templates_dir: Path | None, message: str | None, allow_destructive: bool
) -> None:
    from schemarel.project.config import output_owner
    from schemarel.project.pipeline import Settings
    from schemarel.project.revisions import rebase
    from schemarel.render.output import write_tree

    result = rebase(Settings(schemas_dir, out_dir, templates_dir, message, allow_destructive))
    changes = write_tree(out_dir, result.generation.files, output_owner("generate", schemas_dir, templates_dir))
    new = result.generation.new_revision
    for rev in result.moved:
        after = f"{result.after.id} ({result.after.message})" if result.after else "the base"
        click.echo(f"moving   this branch's revision {rev.id} ({rev.message}) after the other branch's {after}")
    click.echo(f"new revision {new.id}: {new.message}" if new else "no revision needed: the other branch's has it all")
    for change in changes:
        click.echo(
            f"{ {'missing': 'wrote', 'changed': 'updated', 'extra': 'removed'}[change.kind]:8} {out_dir / change.path}"
        )
    click.echo(f"now `git add {out_dir}` and commit the merge")


@main.command()
@schemas_option
@out_option
@templates_option
@click.option("-m", "--message", required=True, help="What the revision does (its file name comes from it).")
@debug_option
@reports_errors
def revision(schemas_dir: Path, out_dir: Path, templates_dir: Path | None, message: str) -> None:
    """Add an empty hand-written revision at the head (data migrations, views, grants): fill in its bodies."""
    from schemarel.project.pipeline import Settings
    from schemarel.project.revisions import add_manual_revision

    path = add_manual_revision(Settings(schemas_dir, out_dir, templates_dir), message)
    click.echo(f"wrote    {path}: fill in upgrade() and downgrade(); schemarel keeps it as written")


@main.command()
@schemas_option
@out_option
@templates_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "github", "json"]),
    default="text",
    show_default=True,
    help="text: diffs for people; github: workflow annotations; json: a machine-readable report.",
)
@strict_option
@debug_option
@reports_errors
def check(schemas_dir: Path, out_dir: Path, templates_dir: Path | None, fmt: str, strict: bool) -> None:
    """Exit 1 with a diff when generated/ is not what the schemas produce (for CI)."""
    from schemarel.project.pipeline import Settings, build
    from schemarel.render.output import drift

    settings = Settings(schemas_dir, out_dir, templates_dir, strict=strict)
    if fmt != "text":
        _check_report(fmt, settings)
    gen = build(settings, write_revision=False)
    problems = drift(out_dir, gen.files)
    if gen.pending_change:
        click.secho(
            f"{out_dir}: the schema changed but no revision was generated; run `schemarel generate`",
            fg="red",
            err=True,
        )
    for problem in problems:
        if problem.kind == "changed":
            click.echo(terminal(problem.diff), nl=False)
        else:
            what = {
                "missing": "is missing",
                "extra": "should not be there",
                "symlink": "is a symbolic link (not read: schemarel writes only regular files)",
                "special": "is not a regular file (not read)",
            }[problem.kind]
            click.secho(f"{terminal(str(out_dir / problem.path))} {what}", fg="red", err=True)
    if problems or gen.pending_change:
        click.secho(f"{out_dir} is stale: run `schemarel generate` and commit the result", fg="red", err=True)
        sys.exit(1)
    click.echo(f"{out_dir} is up to date")


def _check_report(fmt: str, settings: Any) -> None:
    from schemarel.cli import reports
    from schemarel.project.pipeline import build
    from schemarel.render.output import drift

    try:
        gen = build(settings, write_revision=False)
    except SchemarelError as exc:
        click.echo(terminal(reports.error(fmt, exc)), nl=False)
        sys.exit(exc.exit_code)
    result = reports.CheckResult(
        settings.out_dir,
        drift(settings.out_dir, gen.files),
        reports.unrevised_schemas(gen.database, gen.recorded_database) if gen.pending_change else [],
    )
    click.echo(terminal(reports.github(result) if fmt == "github" else reports.as_json(result)), nl=False)
    sys.exit(1 if result.stale else 0)


@main.command()
@out_option
@schemas_option
@click.option(
    "--site",
    "site_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Directory to write the static site to: a new or empty one, or one schemarel built (replaced whole).",
)
@debug_option
@reports_errors
def docs(out_dir: Path, schemas_dir: Path, site_dir: Path) -> None:
    """Build a static, offline site (MkDocs, diagrams as SVG) from the Markdown in generated/docs."""
    from schemarel.project.config import output_owner
    from schemarel.render.site import SiteSources, build_site

    progress = (lambda line: click.echo(line, err=True)) if sys.stderr.isatty() else (lambda line: None)
    sources = SiteSources(out_dir / "docs", schemas_dir, out_dir.resolve().parent)
    site = build_site(sources, site_dir, output_owner("site", schemas_dir, out_dir=out_dir), progress)
    click.echo(f"built {site_dir}/index.html: {site.pages} pages, {site.diagrams} diagram(s) as SVG")


@main.command()
@click.argument("schema", required=False)
@schemas_option
@click.option(
    "--dialect",
    type=click.Choice(["postgresql", "sqlite", "mysql"]),
    default="postgresql",
    show_default=True,
    help="Dialect whose type names are shown.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@debug_option
@reports_errors
def inspect(schema: str | None, schemas_dir: Path, dialect: str, fmt: str) -> None:
    """Show the tables, columns, constraints and warnings SCHEMA (default: all) maps to; writes nothing."""
    import json

    from schemarel.cli.inspection import plan, render
    from schemarel.ir import Database
    from schemarel.normalize.normalizer import normalize
    from schemarel.schema.loader import load_schemas

    sources = load_schemas(schemas_dir)
    report = plan(Database(tuple(normalize(s) for s in sources)), sources, schema, dialect)
    if fmt == "json":
        click.echo(json.dumps(report, indent=2))
    else:
        render(report)


def _alembic(out_dir: Path, db_url: str | None, action: str, revision: str, sql: bool = False) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from schemarel.errors import SchemarelError
    from schemarel.project.pipeline import DEFAULT_URL
    from schemarel.urls import redact

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
            f"{action} to {revision} failed on {redact(url)}: {exc.__class__.__name__}: {_first_line(exc)}"
        )
        err.exit_code = 1
        raise err from None


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else repr(orig)


sql_option = click.option(
    "--sql", is_flag=True, help="Print the SQL script for the --db URL's dialect instead of running it (FROM:TO)."
)


@main.command(context_settings=REVISION_ARGUMENT)
@click.argument("revision", default="head")
@out_option
@db_option
@sql_option
@debug_option
@reports_errors
def upgrade(revision: str, out_dir: Path, db_url: str | None, sql: bool) -> None:
    """Apply migrations up to REVISION (default: head; Alembic syntax: +1, a revision id)."""
    _alembic(out_dir, db_url, "upgrade", revision, sql)


@main.command(context_settings=REVISION_ARGUMENT)
@click.argument("revision")
@out_option
@db_option
@sql_option
@debug_option
@reports_errors
def downgrade(revision: str, out_dir: Path, db_url: str | None, sql: bool) -> None:
    """Revert migrations down to REVISION (Alembic syntax: -1, base, a revision id; with --sql, FROM:TO)."""
    _alembic(out_dir, db_url, "downgrade", revision, sql)


schema_name_option = click.option(
    "--schema",
    "schema",
    required=True,
    metavar="NAME",
    help="The schema's file stem: `customer` for schemas/customer.schema.json.",
)


@contextmanager
def _store(schemas_dir: Path, db_url: str | None, schema: str) -> Iterator[Any]:
    """A Store on the database; a database failure becomes one message (exit 1) instead of a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    from schemarel.project.pipeline import DEFAULT_URL
    from schemarel.runtime.store import Store
    from schemarel.urls import redact

    url = db_url or DEFAULT_URL
    try:
        with Store(url, schema, schemas_dir=schemas_dir) as store:
            yield store
    except SchemarelError:  # already says what went wrong (a QueryError is also a ValueError)
        raise
    except (SQLAlchemyError, ValueError) as exc:  # ValueError: a URL SQLAlchemy cannot read (a port "abc")
        text = _first_line(exc)
        hint = "; run `schemarel upgrade` first" if "does not exist" in text or "no such table" in text else ""
        err = SchemarelError(f"{redact(url)}: {exc.__class__.__name__}: {text}{hint}")
        err.exit_code = 1
        raise err from None


def _where(text: str | None) -> dict[str, Any] | None:
    """`--where`: a JSON object of filters (runtime/query.py), or a usage error."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--where") from None
    if not isinstance(value, dict):
        raise click.BadParameter('a JSON object of filters, such as {"lastName": "Lovelace"}', param_hint="--where")
    return value


def _progress(length: int | None, label: str) -> Any:
    """A progress bar on stderr when it is a terminal, else nothing."""
    if length is None or not sys.stderr.isatty():
        return nullcontext(None)
    # redrawn every 0.5 % (not on each of a million lines)
    return click.progressbar(length=length, label=label, file=sys.stderr, update_min_steps=max(1, length // 200))


@main.command()
@click.argument("file", metavar="FILE")
@schema_name_option
@schemas_option
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
def load(
    file: str,
    schema: str,
    schemas_dir: Path,
    db_url: str | None,
    batch_size: int,
    rejects_path: Path | None,
    all_or_nothing: bool,
) -> None:
    """Load NDJSON documents of schema NAME from FILE (- for stdin); invalid lines go to a reject file."""
    from schemarel.cli.guards import rejects_file
    from schemarel.project.pipeline import DEFAULT_URL
    from schemarel.runtime.ndjson import Loader, Reject

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
        rejects = rejects_file(file, rejects_path, _stat(stream), schemas_dir, db_url or DEFAULT_URL)
        rejects_path = rejects.path
        stack.callback(rejects.close)

        def reject(item: Reject) -> None:
            rejects.write(item)
            if len(shown) < 5:
                shown.append(item)

        size = None if stdin else os.fstat(stream.fileno()).st_size
        start = time.perf_counter()
        with _store(schemas_dir, db_url, schema) as store, _progress(size, f"loading {schema}") as bar:
            loader = Loader(store, reject, batch_size, all_or_nothing, bar.update if bar else None)
            result = loader.run(stream)
        elapsed = time.perf_counter() - start
    where = "<stdin>" if stdin else file
    for item in shown:
        click.secho(terminal(f"{where}:{item.line}: " + "; ".join(item.reasons)), fg="red", err=True)
    if all_or_nothing and result.rejected:
        raise SchemarelError(f"nothing loaded: {result.rejected} invalid line(s), listed in {rejects_path}")
    rate = result.loaded / elapsed if elapsed > 0 else 0.0
    click.echo(f"loaded {_documents(result.loaded, schema)} in {elapsed:.2f} s ({rate:,.0f} documents/s)")
    if result.rejected:
        click.secho(f"rejected {result.rejected} line(s), listed in {rejects_path}", fg="red", err=True)
        sys.exit(1)


def _stat(stream: Any) -> os.stat_result | None:
    """The input's device and inode; None for a stream that is no file (a test's in-memory stdin)."""
    try:
        return os.fstat(stream.fileno())
    except (OSError, ValueError):
        return None


@main.command()
@schema_name_option
@schemas_option
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
def export(schema: str, schemas_dir: Path, db_url: str | None, with_ids: bool, where: str | None) -> None:
    """Write every document of schema NAME (or those matching --where) to stdout, one JSON line each, by id."""
    from schemarel.runtime.ndjson import export as export_documents

    filters = _where(where)
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n", write_through=False)
    try:
        with _store(schemas_dir, db_url, schema) as store:
            export_documents(store, out, with_ids, filters)
    finally:
        out.flush()
        out.detach()


@main.command()
@schema_name_option
@schemas_option
@db_option
@click.option("--batch-size", type=click.IntRange(1), default=10_000, show_default=True, help="Rows per transaction.")
@click.option(
    "--workers", type=click.IntRange(1), default=2, show_default=True, help="Batches under way at once (not SQLite)."
)
@debug_option
@reports_errors
def backfill(schema: str, schemas_dir: Path, db_url: str | None, batch_size: int, workers: int) -> None:
    """Create the default NAME document for every row of the table it references that has none."""
    from schemarel.runtime.backfill import Backfill, BackfillResult

    start = time.perf_counter()
    with _store(schemas_dir, db_url, schema) as store, ExitStack() as stack:
        plan = Backfill(store, batch_size, workers)
        bars: list[Any] = []

        def progress(result: BackfillResult, total: int) -> None:
            if not bars:
                bars.append(stack.enter_context(_progress(total, f"backfilling {schema}")))
            if bars[0] is not None:
                bars[0].update(result.referenced - bars[0].pos)

        result = plan.run(progress)
    elapsed = time.perf_counter() - start
    click.echo(
        f"created {_documents(result.created, schema)} for {result.referenced} rows of {plan.parent.name} "
        f"({result.referenced - result.created} had one already) in {elapsed:.2f} s"
    )


def _documents(count: int, schema: str) -> str:
    return f"{count} {schema} document{'' if count == 1 else 's'}"


if __name__ == "__main__":  # pragma: no cover
    main(prog_name=os.path.basename(sys.argv[0]))
