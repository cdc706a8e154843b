"""`schemarel docs --site`: the static, offline docs site built from generated/docs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from schemarel.cli.common import debug_option, out_option, reports_errors


@click.command()
@out_option
@click.option(
    "--site",
    "site_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write the static site to (replaced whole).",
)
@debug_option
@reports_errors
def docs(out_dir: Path, site_dir: Path) -> None:
    """Build a static, offline site (MkDocs, diagrams as SVG) from the Markdown in generated/docs."""
    from schemarel.render.site import build_site

    progress = (lambda line: click.echo(line, err=True)) if sys.stderr.isatty() else (lambda line: None)
    site = build_site(out_dir / "docs", site_dir, out_dir.resolve().parent, progress)
    click.echo(f"built {site_dir}/index.html: {site.pages} pages, {site.diagrams} diagram(s) as SVG")
