"""The `schemarel` command group: `[tool.schemarel]` defaults, NO_COLOR, and the commands of the modules beside it."""

from __future__ import annotations

import gc
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


def run(prog_name: str | None = None) -> None:
    """The process's command line (the `schemarel` script, `python -m schemarel`): `main`, then the objects
    still alive are frozen, out of the interpreter's last collections at exit. Those walked everything the
    command built (SQLAlchemy, psycopg, the model, the store: about 0.2 s of CPU at the end of a `load`, of
    an empty one too) only to free memory the process gives back anyway; objects are still freed as their
    references go, and Python never promised to finalize objects alive at exit. In-process callers (tests,
    `CliRunner`) call `main` and keep their collector as it was."""
    try:
        main(prog_name=prog_name)
    finally:
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    run(prog_name=os.path.basename(sys.argv[0]))
