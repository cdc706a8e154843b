"""The Jinja environment: where templates are found, the escaping filters they lay text out with, and rendering
with a template's own failure named by its file and line."""

from __future__ import annotations

import os
import traceback
from pathlib import Path
from typing import Any

import jinja2

from schemarel import text
from schemarel.errors import SchemarelError


class TemplateFailed(SchemarelError):
    """A template does not compile or fails while rendering (a user's `--templates` most likely): exit 2."""


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


def render(env: jinja2.Environment, name: str, **context: Any) -> str:
    """Template `name` rendered with `context`; a template that fails is a TemplateFailed naming the template
    file and line where it failed (its syntax error's, else the innermost template frame's) and why."""
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateError as exc:
        raise TemplateFailed(_where(exc, name)) from None


def _where(exc: jinja2.TemplateError, name: str) -> str:
    file, line = (exc.filename, exc.lineno) if isinstance(exc, jinja2.TemplateSyntaxError) else (None, None)
    if file is None:  # Jinja rewrites the traceback of a failed render: its frames are the templates' lines
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
        file, line = (frames[-1].filename, frames[-1].lineno) if frames else (name, None)
    try:  # a user's --templates folder as they named it, the shipped ones in full (or on another drive)
        shown = os.path.relpath(file) if os.path.isabs(file) else file
    except ValueError:
        shown = file
    file = file if shown.startswith("..") else shown
    return f"template {file}{f', line {line}' if line else ''}: {exc.message or exc}"
