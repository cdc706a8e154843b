"""The `schemarel` command group: `[tool.schemarel]` defaults, NO_COLOR, and the commands of the modules beside it."""

from __future__ import annotations

import os
import sys

import click

from schemarel.cli import check, data, docs, generate, inspect, upgrade
from schemarel.errors import SchemarelError
from schemarel.text import terminal


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
        ctx.default_map = default_map(load_settings(), main.commands)
    except SchemarelError as exc:
        click.secho(f"error: {terminal(str(exc))}", fg="red", err=True)
        sys.exit(exc.exit_code)


for command in (
    generate.generate,
    generate.revision,
    check.check,
    docs.docs,
    inspect.inspect,
    upgrade.upgrade,
    upgrade.downgrade,
    data.load,
    data.export,
    data.backfill,
):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    main(prog_name=os.path.basename(sys.argv[0]))
