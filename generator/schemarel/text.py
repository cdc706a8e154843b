"""Escaping schema text for each place it is written: Python, Markdown, Mermaid, and the terminal.

Schema text (titles, descriptions, names, values, file names) is data written by others. Each context it
reaches has exactly one function here, and generated files take schema text only through them: a Python
string literal (`py_literal`), a docstring (`docstring`, `docstring_text`), a comment (`py_comment`),
Markdown (`md_inline`, `md_cell`, `md_block`, `md_code`, `md_cell_code`, `md_url`), Mermaid
(`mermaid_label`, `mermaid_name`) and a terminal line (`terminal`). tests/test_codegen_safety.py and
tests/test_docs_escaping.py prove them with generated hostile text.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
import urllib.parse
from collections.abc import Callable
from typing import Any

# Bidirectional overrides and isolates reorder what a reader sees (Trojan Source): never shown raw.
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _escape_char(char: str) -> str:
    code = ord(char)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char)
    if named:
        return named
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _unsafe(char: str) -> bool:
    """Invisible or control characters: C0/C1 controls, surrogates, line separators, bidi controls, unassigned."""
    return not char.isprintable() or char in BIDI


def _visible(text: str, keep: str = "") -> str:
    """`text` with every unsafe character (but those in `keep`) spelled as a Python-style escape."""
    if text.isprintable() and BIDI.isdisjoint(text):  # the common case, decided in C: nothing to spell
        return text
    return "".join(_escape_char(c) if _unsafe(c) and c not in keep else c for c in text)


# -- Python ------------------------------------------------------------------------------------------------
def py_literal(value: Any) -> str:
    """A Python literal for a string, number, bool, None, or a list/tuple of them.

    `repr` of a `str` escapes quotes, backslashes and every non-printable character (surrogates included),
    so the literal always means `value`; a non-finite float has no literal and is refused."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} has no Python literal")
    if isinstance(value, list | tuple):
        items = [py_literal(v) for v in value]
        if isinstance(value, tuple):
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        return "[" + ", ".join(items) + "]"
    if value is None or isinstance(value, bool | int | float | str):
        return repr(value)
    raise TypeError(f"no Python literal for {type(value).__name__}")


def docstring(text: str) -> str:
    """A triple-quoted docstring that means `text.strip()`, whatever quotes, backslashes or controls it holds."""
    return '"""' + docstring_text(text) + '"""'


def docstring_line(text: str) -> str:
    """`docstring`, on one line: line breaks as escapes, so that a formatter re-indenting docstring lines cannot
    change what `__doc__` holds."""
    body = docstring_text(text)
    if not body.isprintable():  # printable text holds no control character nor line or paragraph separator
        body = "".join(ch.encode("unicode_escape").decode() if _breaks(ch) else ch for ch in body)
    if body.startswith('"'):  # `""""`: a formatter would put a space after the opening quotes
        body = "\\" + body
    return '"""' + body + '"""'


def _breaks(ch: str) -> bool:
    """Control characters and line or paragraph separators: a formatter may take them for line ends."""
    return ch != "\t" and unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def docstring_text(text: str) -> str:
    """The body of a triple-quoted string meaning `text.strip()`: backslashes doubled, every character that is
    not printable escaped (line feeds stay, for readability), and each quote escaped when another quote or the
    closing quotes follow it, so that no run of three quotes can end the string."""
    stripped = str(text).strip()
    if stripped.isprintable() and "\\" not in stripped and '"' not in stripped:  # nothing to escape: most text
        return stripped
    body = "".join(_py_char(c) for c in stripped)
    return "".join('\\"' if c == '"' and body[i + 1 : i + 2] in ('"', "") else c for i, c in enumerate(body))


def _py_char(char: str) -> str:
    if char == "\\":
        return "\\\\"
    return _escape_char(char) if _unsafe(char) and char != "\n" else char


def py_comment(text: str) -> str:
    """Text safe after `#` in Python source: one line, controls and line breaks spelled as escapes."""
    return _visible(str(text))


# -- Markdown ----------------------------------------------------------------------------------------------
# A link destination kept live: http(s), mailto, or relative (nothing before the first `/`, `?` or `#` that
# a browser could read as a scheme, nor an entity, escape or percent sign that could spell its `:`).
_SAFE_DEST = re.compile(r"(?:https?://|mailto:)[^\s<>\"'`]*|[^\s:&\\%<>\"'`/?#()]*(?:[/?#][^\s<>\"'`]*)?", re.I)
_INLINE_LINK = re.compile(r"\]\(")
# a reference definition `[id]: dest`, anywhere (inside a list item or a quote it is one too); the destination
# may start on the next line
_REF_DEF = re.compile(r"\[([^\[\]]*)\]:[ \t]*(?:\n[ \t]*)?(\S*)")


def _dest_is_safe(body: str) -> bool:
    """Whether the text between a link's parentheses (or after `[id]:`) points somewhere safe."""
    body = body.strip(" ")
    if "\n" in body:
        return False
    return _SAFE_DEST.fullmatch(body.split(" ", 1)[0]) is not None


def _defuse_links(text: str) -> str:
    """Inline links/images and reference definitions whose destination is not safe become plain text: their
    `(` or the `]` before `:` is written as an entity, which no backslash before it can turn back into syntax."""
    out: list[str] = []
    last = 0
    for match in _INLINE_LINK.finditer(text):
        if not _dest_is_safe(_paren_body(text[match.end() :])):
            out.append(text[last : match.start()] + "]&#40;")
            last = match.end()
    text = "".join(out) + text[last:]
    # a definition's `]` (not its `[`: a `[` before it would open a new label, `[[a]: x` → `[&#91;a]: x`)
    return _REF_DEF.sub(
        lambda m: m.group(0) if _dest_is_safe(m.group(2)) else m.group(0).replace("]:", "&#93;:", 1), text
    )


def _paren_body(rest: str) -> str:
    """What follows `](` up to its matching `)` (nested parentheses balanced), or all of it."""
    depth = 0
    for i, char in enumerate(rest):
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return rest[:i]
            depth -= 1
    return rest


_BACKTICKS = re.compile(r"\\?`+")


def _closed_code_spans(text: str) -> str:
    """Backticks that open no code span closed within `text` written as entities: an open span would run on
    into whatever the page puts next (the next table cell's code, say) and turn its text into markup."""
    runs = list(_BACKTICKS.finditer(text))
    keep: set[int] = set()
    i = 0
    while i < len(runs):
        run = runs[i].group(0)
        if not run.startswith("\\"):  # an escaped backtick opens nothing: it is always written as an entity
            close = next((j for j in range(i + 1, len(runs)) if runs[j].group(0) == run), None)
            if close is not None:
                keep.update((i, close))
                i = close + 1
                continue
        i += 1
    out, last = [], 0
    for n, match in enumerate(runs):
        if n not in keep:
            out.append(text[last : match.start()] + match.group(0).replace("`", "&#96;"))
            last = match.end()
    return "".join(out) + text[last:]


def _md_text(text: str) -> str:
    # schema text is prose, not markup: a `<tag>` must show, not render; links only to safe places; code
    # spans closed where they open; controls and bidi overrides spelled out so the page shows what is there
    shown = _visible(str(text), keep="\n\t").replace("\t", " ")
    return _defuse_links(_closed_code_spans(shown.replace("<", "&lt;").replace(">", "&gt;")))


def _remembered(escape: Callable[[str], str]) -> Callable[[str], str]:
    """`escape`, its result for a str remembered: a big schema's pages repeat the same types, defaults and
    descriptions thousands of times. Other arguments (the functions take any value) are escaped each time."""
    cached = functools.lru_cache(maxsize=1 << 16)(escape)

    @functools.wraps(escape)
    def escaped(text: str) -> str:
        return cached(text) if type(text) is str else escape(text)

    return escaped


@_remembered
def md_cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    return md_inline(text).replace("|", "\\|")


@_remembered
def md_inline(text: str) -> str:
    """Text on one line of Markdown (a heading, a list item): line breaks become spaces."""
    return re.sub(r"\s*\n\s*", " ", _md_text(text)).strip()


def md_block(text: str) -> str:
    """Paragraphs of Markdown (a description): its formatting kept, raw HTML and unsafe links not."""
    return _md_text(text).strip()


@_remembered
def md_code(text: str) -> str:
    """An inline code span showing `text` on one line, whatever backticks it holds (pipes are the caller's)."""
    text = _visible(str(text))
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if not text or text.startswith("`") or text.endswith("`") else ""  # "``" is no code span
    return f"{fence}{pad}{text}{pad}{fence}"


def md_cell_code(text: str) -> str:
    """An inline code span inside a table cell (a pipe would end the cell, even in code)."""
    return md_code(text).replace("|", "\\|")


def md_url(path: str) -> str:
    """A relative path (and `#anchor`) as a Markdown link destination: spaces, parentheses, `?`, `<`... and
    everything not ASCII percent-encoded, so that it can neither end the link nor start a scheme."""
    return urllib.parse.quote(str(path).encode("utf-8", "backslashreplace"), safe="/#")


# -- Mermaid -----------------------------------------------------------------------------------------------
_MERMAID_ENTITIES = {'"': "#quot;", "#": "#35;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;",
                     "%": "#37;", "{": "#123;", "}": "#125;", ";": "#59;", "\\": "#92;"}  # fmt: skip


def mermaid_label(text: str) -> str:
    """A quoted Mermaid label showing `text` on one line: nothing in it can close the quotes or the block."""
    flat = "".join(" " if _unsafe(c) else c for c in str(text))
    return '"' + "".join(_MERMAID_ENTITIES.get(c, c) for c in flat).strip() + '"'


def mermaid_name(name: str) -> str:
    """An entity or attribute name Mermaid reads as one word (letters, digits, `_`, `-`)."""
    word = re.sub(r"[^A-Za-z0-9_-]", "_", unicodedata.normalize("NFKD", str(name)))
    return word if re.match(r"[A-Za-z_]", word) else f"_{word}"


# -- Terminal ----------------------------------------------------------------------------------------------
def terminal(text: str) -> str:
    """Text safe to print: ESC, CSI and every other control or bidi character shown as an escape (line feeds
    and tabs kept), so that schema text can neither drive the terminal nor reorder what it shows."""
    return _visible(str(text), keep="\n\t")
