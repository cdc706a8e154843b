"""Where a value object sits in a document: its JSON pointer, for a refusal's message."""

from __future__ import annotations

from typing import Any

from schemarel.errors import pointer


def locate(document: Any, target: Any) -> str:
    """The pointer of the first place (document order) holding `target` itself (the very object, not an equal
    one: equal values elsewhere may be stored in other columns); the root's `#` when none does. Iterative: a
    document may be nested thousands of levels deep."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(document, ())]
    while stack:
        node, path = stack.pop()
        if node is target:
            return pointer(*path)
        if isinstance(node, dict):
            stack.extend((v, (*path, k)) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((v, (*path, i)) for i, v in reversed(list(enumerate(node))))
    return "#"
