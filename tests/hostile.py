"""Hypothesis strategies for hostile schema text, and a schema that puts it everywhere schema text can go."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import strategies as st

LONE_SURROGATES = [chr(0xD800), chr(0xDFFF)]
# Pieces that have broken generated code or pages: quote runs, escapes Python reads in strings, characters
# a parser or a terminal treats specially, Markdown/HTML/Mermaid syntax.
FRAGMENTS = [
    '"', '"""', "'''", "'", "\\", "\\N{", "\\N{BULLET}", "\\x", "\\x4", "\\u12", "\\U0001", "\x00", "\r", "\n", "\r\n",
    "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1b[31m", "\x9b", "\u202e", "\u2066", "#", "{", "}", "{{", "%",
    "%%", "`", "```", "<img src=x onerror=alert(1)>", "<script>", "[x](javascript:alert(1))", "](",
    "[a]: javascript:alert(1)", "&#58;", "&lt;", "|", "\t", " ", "import os", "os.system('id')", ";", ":", "end",
    "class", "__import__", "\\\\", '\\"', "x", "\u00e9", "\U0001f600", *LONE_SURROGATES,
]  # fmt: skip
ANY_CHAR = st.characters(codec=None, exclude_categories=())  # surrogates and controls included

hostile_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(ANY_CHAR, max_size=4)), max_size=8).map("".join)
_PATH_FRAGMENTS = [f for f in FRAGMENTS if "/" not in f and "\x00" not in f and f not in LONE_SURROGATES]
# what a file name can hold on Linux (no `/`, no NUL; lone surrogates are no UTF-8 path)
file_stem = (
    st.lists(
        st.one_of(
            st.sampled_from(_PATH_FRAGMENTS),
            st.text(st.characters(exclude_characters="/\x00", exclude_categories=["Cs"]), max_size=4),
        ),
        min_size=1,
        max_size=5,
    )
    .map("".join)
    .filter(lambda s: not s.startswith(".") and 0 < len(s.encode()) < 120)
)


def hostile_schema(title: str, text: str, name: str, value: str) -> dict[str, Any]:
    """A schema with `title`/`text` in every title and description, `name` as property names (of a column, an
    object table and an array table) and `value` as enum value, default, example and (escaped) pattern."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "description": text,
        "type": "object",
        "required": ["plain"],
        "properties": {
            "plain": {"type": "string", "title": title, "description": text, "default": value, "examples": [value]},
            name: {"type": "string", "description": text, "enum": sorted({value, "other"})},
            "patterned": {"type": "string", "pattern": "^" + re.escape(value), "description": title},
            f"{name}_obj": {
                "type": "object",
                "title": title,
                "description": text,
                "properties": {name: {"type": "string", "description": text}},
            },
            f"{name}_list": {
                "type": "array",
                "description": text,
                "items": {"type": "object", "title": title, "properties": {name: {"type": "integer"}}},
            },
        },
    }


# property names and values without lone surrogates: refusing those at load is the loader's job (issue 9's
# "no traceback" class); titles and descriptions keep them
hostile_name = hostile_text.map(lambda s: "".join(c for c in s if not 0xD800 <= ord(c) <= 0xDFFF))
