"""`schemarel inspect`: the command; what it shows is planned and laid out in `inspection`."""

from __future__ import annotations

from pathlib import Path

import click

from schemarel.cli.common import debug_option, reports_errors, schemas_option


@click.command()
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
