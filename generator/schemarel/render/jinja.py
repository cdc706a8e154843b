"""The Jinja environment: where templates are found, and the escaping filters they lay text out with."""

from __future__ import annotations

from pathlib import Path

import jinja2

from schemarel.text import docstring, docstring_line, docstring_text, md_block, md_cell, md_code, md_inline, py_literal


def shipped_templates() -> Path:
    """Templates inside the installed wheel, or the repository's `templates/` in a source checkout."""
    packaged = Path(__file__).resolve().parent.parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "templates"


def environment(user_templates: Path | None = None) -> jinja2.Environment:
    search = [str(user_templates)] if user_templates else []
    search.append(str(shipped_templates()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        # compiled templates are cached per user in the temp dir (keyed by source checksum): compiling
        # them is a fifth of a `schemarel check`, and a stale entry can never be used
        bytecode_cache=jinja2.FileSystemBytecodeCache(),
    )
    env.filters.update(
        py=py_literal,
        docstring=docstring,
        docstring_line=docstring_line,
        docstring_text=docstring_text,
        md_cell=md_cell,
        md_inline=md_inline,
        md_block=md_block,
        md_code=md_code,
    )
    return env
