"""How the typed stores of generated/documents/ open a Store: the runtime is imported then, not before."""

from __future__ import annotations

from typing import Any


def open_store(db: Any, schema: str, generated: Any, *, asynchronous: bool = False, check: bool = True) -> Any:
    """A Store (or AsyncStore) of `schema` on the model of the generated package at `generated`.

    The typed stores of `generated/documents/` open their store here, so that generated code keeps importing
    `schemarel.support` only; the runtime is imported when a store is opened, not when generated code is.
    """
    if asynchronous:
        from schemarel.runtime.async_store import AsyncStore

        return AsyncStore(db, schema, source=generated, check=check)
    from schemarel.runtime.store import Store

    return Store(db, schema, source=generated, check=check)
