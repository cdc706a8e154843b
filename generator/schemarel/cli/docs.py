"""`schemarel docs --site`: the static, offline docs site built from generated/docs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from schemarel.cli.common import debug_option, out_option, reports_errors, schemas_option
from schemarel.naming import counted


@click.command()
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
    made = f"{counted(site.pages, 'page')}, {counted(site.diagrams, 'diagram')} as SVG"
    click.echo(f"built {site_dir}/index.html: {made}")
