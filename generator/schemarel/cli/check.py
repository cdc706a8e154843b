"""`schemarel check`: exit 1 with a diff (or a report for machines) when generated/ is not what the schemas give."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from schemarel.cli.common import (
    debug_option,
    out_option,
    reports_errors,
    schemas_option,
    strict_option,
    templates_option,
)
from schemarel.errors import SchemarelError
from schemarel.text import terminal


@click.command()
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
    from schemarel.project import fingerprint

    if fmt == "text" and fingerprint.verified(schemas_dir, out_dir, templates_dir, strict):
        click.echo(f"{out_dir} is up to date")  # these exact inputs and outputs were verified before
        return
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
    fingerprint.record(schemas_dir, out_dir, templates_dir, strict)
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
