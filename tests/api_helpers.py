"""Helpers of the API tests: the sync Store and the AsyncStore behind one blocking interface, and a schema of
every kind of filterable value."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

from schemarel import AsyncStore, Store

REPO = Path(__file__).resolve().parent.parent
GENERATED = REPO / "generated"

TICKET: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Ticket",
    "type": "object",
    "additionalProperties": False,
    "required": ["number", "status", "opened", "tags", "lines"],
    "properties": {
        "number": {"type": "integer", "x-sql": {"unique": True}},
        "status": {"type": "string", "enum": ["new", "open", "closed"], "x-sql": {"index": True}},
        "opened": {"type": "string", "format": "date-time"},
        "score": {"type": "number"},
        "urgent": {"type": "boolean"},
        "owner": {"type": "string", "maxLength": 20},
        "meta": {"type": "object"},  # free-form: one JSON column, which a merge patch merges into
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 12}},
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["sku", "qty"],
                "properties": {"sku": {"type": "string", "maxLength": 12}, "qty": {"type": "integer"}},
            },
        },
    },
}


class Blocking:
    """An AsyncStore called like a Store: each coroutine run to its end, async iterators collected."""

    def __init__(self, store: AsyncStore, loop: asyncio.AbstractEventLoop) -> None:
        self.store, self.loop, self.sync = store, loop, store.sync

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.store, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            if inspect.isasyncgen(result):
                return iter(self.loop.run_until_complete(_collect(result)))
            return self.loop.run_until_complete(result) if inspect.isawaitable(result) else result

        return call


async def _collect(items: Any) -> list[Any]:
    return [item async for item in items]


def open_either(kind: str, url: str, schema: str, **options: Any) -> Any:
    """A Store (`sync`) or a blocking AsyncStore (`async`) on `url`."""
    if kind == "sync":
        return Store(url, schema, **options)
    loop = asyncio.new_event_loop()
    return Blocking(AsyncStore(url, schema, **options), loop)


def close_either(store: Any) -> None:
    store.close()
    if isinstance(store, Blocking):
        store.loop.close()
