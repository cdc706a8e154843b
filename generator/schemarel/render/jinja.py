"""The Jinja environment: where templates are found, and the escaping filters they lay text out with."""

from __future__ import annotations

from pathlib import Path

import jinja2

from schemarel import text


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
    # the only ways templates put schema text into a file: one filter per context (schemarel/text.py)
    env.filters.update(
        py=text.py_literal,
        docstring=text.docstring,
        docstring_line=text.docstring_line,
        docstring_text=text.docstring_text,
        py_comment=text.py_comment,
        md_cell=text.md_cell,
        md_inline=text.md_inline,
        md_block=text.md_block,
        md_code=text.md_code,
        md_cell_code=text.md_cell_code,
        md_url=text.md_url,
        mermaid_label=text.mermaid_label,
        mermaid_name=text.mermaid_name,
    )
    return env
