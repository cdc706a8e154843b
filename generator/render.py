"""The Jinja environment: where templates are found, and the escaping filters they lay text out with."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2


def shipped_templates() -> Path:
    """Templates inside the installed wheel, or the repository's `templates/` in a source checkout."""
    packaged = Path(__file__).resolve().parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


def py_literal(value: Any) -> str:
    """A Python literal for a string, number, bool or None (`repr` escapes quotes and newlines)."""
    return repr(value)


def docstring(text: str) -> str:
    """A triple-quoted docstring that means `text`, whatever quotes or backslashes it holds."""
    return '"""' + docstring_text(text) + '"""'


def docstring_text(text: str) -> str:
    body = text.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if body.endswith('"'):
        body = body[:-1] + '\\"'
    return body


def _no_html(text: str) -> str:
    # schema text is prose, not markup: a `<tag>` in a description must show, not render
    return str(text).replace("<", "&lt;").replace(">", "&gt;")


def md_cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    return md_inline(text).replace("|", "\\|")


def md_inline(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", _no_html(text)).strip()


def md_block(text: str) -> str:
    return _no_html(text).strip()


def md_code(text: str) -> str:
    """An inline code span that survives backticks inside `text`."""
    text = str(text)
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


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
        docstring_text=docstring_text,
        md_cell=md_cell,
        md_inline=md_inline,
        md_block=md_block,
        md_code=md_code,
    )
    return env
