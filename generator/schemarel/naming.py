"""Identifiers: snake_case, singular/plural, constraint names, and deterministic shortening."""

from __future__ import annotations

import functools
import hashlib
import keyword
import re
import unicodedata
from collections.abc import Iterable

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


def counted(count: int, noun: str) -> str:
    """`1 row`, `0 rows`, `2 invalid lines`: a count with its noun in the number it takes (English: only 1 is
    singular); `noun` is given in the singular."""
    return f"{count:,} {noun if count == 1 else inflection.pluralize(noun)}"


@functools.lru_cache(maxsize=1 << 16)
def singular(snake_name: str) -> str:
    # inflection drops a lone `s` whole (`s` → ``): a blank name is no column or class, so such a name stays
    return _on_last_word(snake_name, inflection.singularize) or snake_name


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


def items_table_names(parent: str) -> tuple[str, ...]:
    """`<parent singular>_items` (the items of an array of arrays), then fallbacks for when the items of another
    array took it (properties `x` and `X`: their tables singularize alike): the parent's own name, and with a
    hash of it."""
    first = f"{singular(parent)}_items"
    digest = hashlib.sha256(parent.encode()).hexdigest()[:_HASH_LEN]
    return first, f"{parent}_items", f"{first}_{digest}"


def renamed(name: str, *candidates: str | None) -> tuple[str, ...]:
    """Possible previous names of a table or column, shortened like the name itself, without the name."""
    result: list[str] = []
    for candidate in candidates:
        short = shorten(candidate) if candidate else None
        if short and short != name and short not in result:
            result.append(short)
    return tuple(result)


# -- Python names of the generated models -----------------------------------------------------------------
# What a declarative class and its module already use: a column attribute, class or module of that name
# would shadow it (`metadata`, `registry` and `_sa_*` are SQLAlchemy's own; `relationship`, `Mapped`... are
# called in the class body; `Base`, `include_object`... are names of the models package). The builtins and
# typing names the attributes' annotations use (`Mapped[str]`, `Mapped[list[Child]]`, `Literal[...]`) too: an
# attribute `str` before them makes mypy read the annotation as that attribute.
ANNOTATION_NAMES = frozenset({"str", "int", "float", "bool", "list", "Literal"})
RESERVED_ATTRIBUTES = frozenset({"metadata", "registry", "type_annotation_map", "relationship", "mapped_column",
                                 "sa", "Mapped", "postgresql", "uuid", "datetime", "decimal", "Any", "uuid_default",
                                 "boolean_default", "Base", "annotations", "_is_protocol",
                                 *ANNOTATION_NAMES})  # fmt: skip
RESERVED_CLASSES = frozenset({"Base", "Mapped", "Any", "DeclarativeBase", "EXTERNAL_TABLES", "NAMING_CONVENTION"})
RESERVED_MODULES = frozenset({"base", "include_object", "metadata", "sa", "annotations"})


def _plain_identifier(name: str) -> bool:
    return name.isidentifier() and name.isascii() and not keyword.iskeyword(name)


def attribute_name(name: str) -> str:
    """The model attribute first tried for column `name`: itself when Python and SQLAlchemy leave it free;
    `class_` for a keyword or a reserved name; `col_sa_registry` for SQLAlchemy's `_sa_*` and for dunder-like
    `__x` names (which Python would mangle)."""
    if name.startswith(("_sa_", "__")):
        return f"col{name}" if name.isidentifier() else python_identifier(name, "col_")
    if not _plain_identifier(name):
        return f"{name}_" if keyword.iskeyword(name) else python_identifier(name, "col_")
    return f"{name}_" if name in RESERVED_ATTRIBUTES else name


def attribute_names(names: Iterable[str], taken: Iterable[str] = ()) -> dict[str, str]:
    """Distinct attributes for distinct column names, deterministically: a name that is free keeps itself
    first, then each other one takes its `attribute_name` plus as many `_` as it needs (`class` → `class__`
    when a column `class_` exists)."""
    names = list(names)
    used = set(taken)
    result: dict[str, str] = {}
    for name in names:
        if attribute_name(name) == name and name not in used:
            result[name] = name
            used.add(name)
    for name in names:
        if name in result:
            continue
        candidate = attribute_name(name)
        while candidate in used:
            candidate += "_"
        result[name] = candidate
        used.add(candidate)
    return result


def python_identifier(text: str, prefix: str) -> str:
    """An ASCII identifier for any text: other characters become `_`, `prefix` when it would not start one."""
    word = re.sub(r"\W", "_", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode(), flags=re.A)
    word = word or hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_LEN]
    return word if word.isidentifier() and not keyword.iskeyword(word) else f"{prefix}{word}"


def class_identifier(name: str) -> str:
    """The class for a table's CamelCase name: itself, or `NoneRow`/`BaseRow` for a keyword or reserved name."""
    if not _plain_identifier(name):
        return f"{name}Row" if keyword.iskeyword(name) else python_identifier(name, "Table")
    return f"{name}Row" if name in RESERVED_CLASSES or name.startswith("_sa_") else name


def documents_module(schema: str) -> str:
    """The typed documents module of a schema (file stem): `foo-bar` → `foo_bar`, a keyword such as `class` →
    `class_`, so that `from generated.documents import class_` can be written (`import class` cannot)."""
    module = snake(schema)
    return f"{module}_" if keyword.iskeyword(module) else module


def module_identifier(schema: str) -> str:
    """The models module of a schema (file stem): `foo-bar` → `foo_bar`, `class` → `class_`, `base` → `base_`."""
    module = snake(schema)
    if not _plain_identifier(module):
        module = f"{module}_" if keyword.iskeyword(module) else python_identifier(module, "schema_")
    return f"{module}_" if module in RESERVED_MODULES or module.startswith("__") else module
