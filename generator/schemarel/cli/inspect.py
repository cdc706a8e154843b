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
@click.option(
    "--example",
    "examples",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="A document of SCHEMA (JSON file): the share of its text stored in JSON columns is shown.",
)
@debug_option
@reports_errors
def inspect(schema: str | None, schemas_dir: Path, dialect: str, fmt: str, examples: tuple[Path, ...]) -> None:
    """Show the tables, columns, constraints and warnings SCHEMA (default: all) maps to, and how much of it is
    stored as JSON; writes nothing."""
    import json

    from schemarel.cli.inspection import plan, render
    from schemarel.ir import Database
    from schemarel.normalize.normalizer import normalize
    from schemarel.runtime.exactjson import loads
    from schemarel.runtime.values import problems
    from schemarel.schema.loader import load_schemas

    sources = load_schemas(schemas_dir)
    if examples and schema is None:
        raise click.UsageError("--example needs the SCHEMA its documents are of")
    documents = []
    for path in examples:
        # read as `load` and the Store read a document: the text parsed exactly, then refused where it gives a
        # key twice, a NaN or an Infinity, or a lone surrogate (each named by its pointer)
        try:
            document = loads(path.read_bytes())
        except ValueError as exc:
            raise click.BadParameter(f"{path}: not a JSON document ({exc})", param_hint="--example") from None
        invalid = problems(document).invalid
        if invalid:
            said = "; ".join(str(v) for v in invalid)
            raise click.BadParameter(f"{path}: not a JSON document ({said})", param_hint="--example")
        documents.append(document)
    report = plan(Database(tuple(normalize(s) for s in sources)), sources, schema, dialect, tuple(documents))
    if fmt == "json":
        click.echo(json.dumps(report, indent=2))
    else:
        render(report)
