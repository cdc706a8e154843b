"""Escaping schema text for each place it is written: Python literals and docstrings, Markdown cells and code."""

from __future__ import annotations

import re
import unicodedata
from typing import Any


def py_literal(value: Any) -> str:
    """A Python literal for a string, number, bool or None (`repr` escapes quotes and newlines)."""
    return repr(value)


def docstring(text: str) -> str:
    """A triple-quoted docstring that means `text`, whatever quotes or backslashes it holds."""
    return '"""' + docstring_text(text) + '"""'


def docstring_line(text: str) -> str:
    """`docstring`, on one line: line breaks as escapes, so that a formatter re-indenting docstring lines cannot
    change what `__doc__` holds."""
    body = "".join(ch.encode("unicode_escape").decode() if _breaks(ch) else ch for ch in docstring_text(text))
    if body.startswith('"'):  # `""""`: a formatter would put a space after the opening quotes
        body = "\\" + body
    return '"""' + body + '"""'


def _breaks(ch: str) -> bool:
    """Control characters and line or paragraph separators: a formatter may take them for line ends."""
    return ch != "\t" and unicodedata.category(ch) in ("Cc", "Zl", "Zp")


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
