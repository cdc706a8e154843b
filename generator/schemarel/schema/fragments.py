"""`$ref` lookups with their JSON Pointer fragments read as RFC 6901 reads them, and why one leads nowhere.

Why not `referencing` alone: it reads an array index with `int()`, so `#/allOf/-1` is the last item, `#/allOf/01`,
`#/allOf/ 1` and `#/allOf/1_0` are items 1, 1 and 10, and `#/allOf/name` raises ValueError (a traceback); and
its message for a pointer that leads nowhere holds the whole schema file. Here the pointer is walked first,
strictly, and one that stops is worded by where it stops.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urldefrag

import referencing.exceptions

if TYPE_CHECKING:
    from referencing._core import Resolved, Resolver  # not re-exported by `referencing`

_INDEX = re.compile(r"0|[1-9][0-9]*")  # RFC 6901: an array index is `0` or digits without a leading zero
_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}


class Unresolved(Exception):
    """A `$ref` that cannot be followed; the message says why, in one line, naming the `$ref`."""


def lookup(resolver: Resolver[Any], ref: str) -> Resolved[Any]:
    """What `ref` points at, relative to `resolver` (which refuses remote documents); Unresolved otherwise."""
    check(resolver, ref)
    try:
        return resolver.lookup(ref)
    except referencing.exceptions.Unresolvable as exc:
        raise Unresolved(_why(ref, exc)) from None


def check(resolver: Resolver[Any], ref: str) -> None:
    """Unresolved unless `ref` leads somewhere (a pointer's path walked strictly, an anchor or a document looked
    up), relative to `resolver`."""
    try:
        # as referencing splits it: urldefrag would drop a newline or tab of the fragment (and so name another key)
        doc, fragment = ("", ref[1:]) if ref.startswith("#") else urldefrag(ref)
        if fragment.startswith("/"):
            at(resolver.lookup(doc or "#").contents, fragment)
        else:
            resolver.lookup(ref)
    except Nowhere as stop:
        raise Unresolved(f"cannot resolve $ref {_shown(ref, 200)!r}: {stop}") from None
    except referencing.exceptions.Unresolvable as exc:
        raise Unresolved(_why(ref, exc)) from None


class Nowhere(Exception):
    """A JSON pointer that leads to no value; the message says where it stops and why."""


def at(document: Any, fragment: str) -> Any:
    """The value the JSON pointer `fragment` (`/$defs/a`, percent-encoded as a URI fragment is; `` is the whole
    document) leads to in `document`; Nowhere when it leads to none."""
    node, where = document, "#"
    for raw in unquote(fragment).split("/")[1:] if fragment else ():
        if isinstance(node, list):
            if not node:
                raise Nowhere(f"{where} is an empty array")
            if not _INDEX.fullmatch(raw):
                raise Nowhere(f"{where} is an array: {_shown(raw)!r} is not an index of it (0 to {len(node) - 1})")
            if int(raw) >= len(node):
                raise Nowhere(f"{where} is an array of {len(node)}: it has no item {_shown(raw)}")
            node = node[int(raw)]
        elif isinstance(node, dict):
            key = raw.replace("~1", "/").replace("~0", "~")
            if key not in node:
                raise Nowhere(f"{where} has no {_shown(key)!r}")
            node = node[key]
        else:
            raise Nowhere(f"{where} is {_JSON_TYPES.get(type(node), 'a number')}: there is nothing under it")
        where = f"{where}/{raw}"
    return node


def _shown(text: str, longest: int = 80) -> str:
    """A pointer segment or `$ref` in a message: the schema author's text, of any length."""
    return text if len(text) <= longest else text[: longest - 1] + "…"


def _why(ref: str, exc: referencing.exceptions.Unresolvable) -> str:
    if isinstance(exc, referencing.exceptions.PointerToNowhere):  # not expected after `at`: worded briefly
        return f"cannot resolve $ref {_shown(ref, 200)!r}: it leads nowhere"
    if isinstance(exc, referencing.exceptions.InvalidAnchor):
        return (
            f"cannot resolve $ref {_shown(ref, 200)!r}: {_shown('#' + exc.anchor)!r} is neither an anchor name "
            "nor a JSON pointer (a pointer starts with '/')"
        )
    if isinstance(exc, referencing.exceptions.NoSuchAnchor):
        return f"cannot resolve $ref {_shown(ref, 200)!r}: no $anchor {_shown(exc.anchor)!r} in that schema"
    return (
        f"cannot resolve $ref {_shown(ref, 200)!r}: {_shown(exc.ref, 200)} is not a schema in the schemas directory "
        "(remote references are never fetched)"
    )
