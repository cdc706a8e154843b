"""Identifiers: snake_case, singular/plural, constraint names, and deterministic shortening."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

import inflection

# PostgreSQL truncates identifiers at 63 bytes; MySQL allows 64 characters. The stricter one wins.
MAX_IDENTIFIER_BYTES = 63
_HASH_LEN = 8


# Names made only of symbols (`+1`/`-1` reactions, `.` and `*` keys) are spelled out, so they stay apart.
_SYMBOLS = {"+": "plus", "-": "minus", "*": "star", ".": "dot", "@": "at", "$": "dollar", "#": "hash", "/": "slash",
            "~": "tilde", "!": "bang", "%": "percent", "&": "and", "=": "eq", "<": "lt", ">": "gt", "?": "question",
            ":": "colon", "^": "caret", "|": "pipe", ",": "comma", ";": "semicolon"}  # fmt: skip


@functools.lru_cache(maxsize=1 << 16)  # pure, and called per path element of every table name
def snake(name: str) -> str:
    """`phoneNumbers` → `phone_numbers`, `postal-code` → `postal_code`, `Line 1` → `line_1`, `_links` →
    `_links` (a leading underscore is kept: `_id` and `id` are different properties), `+1` → `plus_1`,
    `café` → `cafe`; a name with nothing ASCII left gets a stable hash (`u_1b2c3d4e`)."""
    text = unicodedata.normalize("NFKD", name.strip()).encode("ascii", "ignore").decode()
    if re.match(r"^[+-]\d", text):
        text = f"{_SYMBOLS[text[0]]}_{text[1:]}"
    s = re.sub(r"[^0-9a-zA-Z]+", "_", inflection.underscore(text)).strip("_").lower()
    if not s:
        spelled = [_SYMBOLS.get(c) for c in text if not c.isspace()]
        if spelled and all(spelled):
            return "_".join(w for w in spelled if w)
        return "u_" + hashlib.sha256(name.encode()).hexdigest()[:_HASH_LEN]
    if text.startswith("_"):
        s = f"_{s}"
    # a leading digit would need quoting in SQL and cannot start a Python attribute
    return f"n{s}" if s[0].isdigit() else s


def _on_last_word(name: str, fn: object) -> str:
    head, _, last = name.rpartition("_")
    assert callable(fn)
    word = fn(last)
    return f"{head}_{word}" if head else word


@functools.lru_cache(maxsize=1 << 16)
def plural(snake_name: str) -> str:
    return _on_last_word(snake_name, inflection.pluralize)


@functools.lru_cache(maxsize=1 << 16)
def singular(snake_name: str) -> str:
    return _on_last_word(snake_name, inflection.singularize)


def class_name(table: str) -> str:
    """`customer_profile_phone_numbers` → `CustomerProfilePhoneNumber`."""
    return inflection.camelize(singular(table))


def shorten(name: str, limit: int = MAX_IDENTIFIER_BYTES) -> str:
    """Keep `name` if it fits; else cut it and append a stable hash of the whole name."""
    if len(name.encode()) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:_HASH_LEN]
    cut = name.encode()[: limit - _HASH_LEN - 1].decode(errors="ignore").rstrip("_")
    return f"{cut}_{digest}"


def pk_name(table: str) -> str:
    return shorten(f"pk_{table}")


def fk_name(table: str, columns: tuple[str, ...], ref_table: str) -> str:
    return shorten(f"fk_{table}__{'__'.join(columns)}__{ref_table}")


def uq_name(table: str, columns: tuple[str, ...]) -> str:
    return shorten(f"uq_{table}__{'__'.join(columns)}")


def ix_name(table: str, columns: tuple[str, ...]) -> str:
    return shorten(f"ix_{table}__{'__'.join(columns)}")


def ck_name(table: str, name: str) -> str:
    return shorten(f"ck_{table}__{name}")


def enum_name(table: str, column: str) -> str:
    return shorten(f"{table}_{column}_enum")


# The same names as the functions above, as a SQLAlchemy `MetaData(naming_convention=...)` spells them;
# `column_names` is a callable token the generated base module defines (columns joined by `__`).
NAMING_CONVENTION = {
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s__%(column_names)s__%(referred_table_name)s",
    "uq": "uq_%(table_name)s__%(column_names)s",
    "ix": "ix_%(table_name)s__%(column_names)s",
    "ck": "ck_%(table_name)s__%(constraint_name)s",
}


_NAME_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9]*([ _-][A-Za-z0-9]+){0,2}$")


def root_table_name(title: str | None, stem: str) -> str:
    """snake_case plural of the title when it reads as a name (`CustomerProfile`, `Issues opened event`),
    else of the file stem (titles like "JSON schema for the JSON Feed format" make poor table names)."""
    if title and _NAME_LIKE.match(title.strip()):
        return plural(snake(title))
    return plural(snake(stem))


def child_table_names(parent: str, path: tuple[str, ...]) -> tuple[str, ...]:
    """`<parent singular>_<property plural>` (with the path of flattened objects between them), then
    fallbacks for when another property already took that name: unpluralized, and with a hash of the path."""
    head = "_".join(snake(p) for p in path)
    first = f"{singular(parent)}_{plural(head)}"
    digest = hashlib.sha256("/".join((parent, *path)).encode()).hexdigest()[:_HASH_LEN]
    return first, f"{singular(parent)}_{head}", f"{parent}_{head}", f"{first}_{digest}"


def renamed(name: str, *candidates: str | None) -> tuple[str, ...]:
    """Possible previous names of a table or column, shortened like the name itself, without the name."""
    result: list[str] = []
    for candidate in candidates:
        short = shorten(candidate) if candidate else None
        if short and short != name and short not in result:
            result.append(short)
    return tuple(result)
