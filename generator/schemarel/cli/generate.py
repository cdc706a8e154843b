"""`schemarel generate` (with `--watch` and `--rebase`) and `schemarel revision`: the commands that write generated/."""

from __future__ import annotations

import gc
import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from schemarel.cli.common import (
    debug_option,
    out_option,
    reports_errors,
    schemas_option,
    strict_option,
    templates_option,
)
from schemarel.text import terminal

if TYPE_CHECKING:
    from schemarel.render.output import Drift


@click.command()
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
@click.option("-v", "--verbose", is_flag=True, help="List every warning, not one line per reason.")
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
    verbose: bool,
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

        settings = (schemas_dir, out_dir, templates_dir, message, allow_destructive, False, strict, verbose)
        watch_and_generate(schemas_dir, templates_dir, interval, lambda: _generate(*settings))
        return
    # One run: the cyclic collector would scan the growing heap of IR, metadata and syntax trees again and
    # again (a third of a big schema's time) to free little, so it rests until the run is over.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        _generate(schemas_dir, out_dir, templates_dir, message, allow_destructive, rehash, strict, verbose)
    finally:
        if was_enabled:
            _age_unscanned()
            gc.enable()


def _age_unscanned() -> None:
    """Move what the paused collector left in its youngest generation (every object the run made that is still
    alive: its modules, the cycles of its IR) to the oldest one, unscanned. Else the first allocation after
    `gc.enable()` collects that generation: a pass over the whole run's heap (about 0.05 s of a big schema's
    generate, more under load) just before the process ends. Nothing is frozen: a later full collection still
    frees the cycles. Left alone when the caller froze objects of its own, which `unfreeze` would thaw."""
    if gc.get_freeze_count() == 0:
        gc.freeze()  # every tracked object to the permanent generation …
        gc.unfreeze()  # … and back into the oldest: no collection walked them


def _generate(
    schemas_dir: Path,
    out_dir: Path,
    templates_dir: Path | None,
    message: str | None,
    allow_destructive: bool,
    rehash: bool = False,
    strict: bool = False,
    verbose: bool = False,
) -> None:
    from schemarel.cli.warnlines import grouped
    from schemarel.project import fingerprint
    from schemarel.project.config import output_owner
    from schemarel.project.pipeline import Settings, build
    from schemarel.render.output import write_tree

    gen = build(Settings(schemas_dir, out_dir, templates_dir, message, allow_destructive, rehash, strict))
    warnings = gen.database.warnings
    for line in [str(w) for w in warnings] if verbose else grouped(warnings):
        click.secho(f"warning: {terminal(line)}", fg="yellow", err=True)
    changes = write_tree(out_dir, gen.files, output_owner("generate", schemas_dir, templates_dir))
    fingerprint.record(schemas_dir, out_dir, templates_dir, strict)  # what `check` may then trust
    if gen.new_revision:
        click.echo(f"new revision {gen.new_revision.id}: {terminal(gen.new_revision.message)}")
    _report(out_dir, changes)
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
    _report(out_dir, changes)
    click.echo(f"now `git add {out_dir}` and commit the merge")


def _has_words(ctx: click.Context, param: click.Parameter, message: str) -> str:
    """A revision's message has a word: its file name is made of the message's words (`-m ''` or `-m '!!'`
    wrote `0005_.py`, a revision no name tells apart)."""
    if not re.search(r"\w", message):
        raise click.BadParameter("say what the revision does in a word or more: its file name is made of them")
    return message


@click.command()
@schemas_option
@out_option
@templates_option
@click.option(
    "-m", "--message", required=True, callback=_has_words, help="What the revision does (its file name comes from it)."
)
@debug_option
@reports_errors
def revision(schemas_dir: Path, out_dir: Path, templates_dir: Path | None, message: str) -> None:
    """Add an empty hand-written revision at the head (data migrations, views, grants): fill in its bodies."""
    from schemarel.project.pipeline import Settings
    from schemarel.project.revisions import add_manual_revision

    path = add_manual_revision(Settings(schemas_dir, out_dir, templates_dir), message)
    click.echo(f"wrote    {path}: fill in upgrade() and downgrade(); schemarel keeps it as written")


def _report(out_dir: Path, changes: list[Drift]) -> None:
    """One line per file written, updated or removed (a link or special file there: replaced)."""
    verbs = {"missing": "wrote", "changed": "updated", "extra": "removed"}
    for change in changes:
        click.echo(f"{verbs.get(change.kind, 'replaced'):8} " + terminal(str(out_dir / change.path)))
