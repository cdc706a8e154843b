"""`Loader` keeps the ids of what it loaded only when asked (a load's memory does not grow with its lines)."""

from __future__ import annotations

import json

from runtime_helpers import customer, open_store
from schemarel.runtime.ndjson import Loader, Reject


def lines(count: int) -> list[bytes]:
    return [json.dumps(customer(i)).encode() for i in range(count)] + [b'{"firstName": 1}']


def test_ids_only_when_asked(postgres_url: str) -> None:
    store = open_store(postgres_url, "customer")
    try:
        rejected: list[Reject] = []
        plain = Loader(store, rejected.append, batch_size=3).run(lines(7))
        assert (plain.loaded, plain.rejected, plain.ids) == (7, 1, [])
        kept = Loader(store, rejected.append, batch_size=3, keep_ids=True).run(lines(7))
        assert (kept.loaded, kept.rejected, len(set(kept.ids))) == (7, 1, 7)
        assert all(store.get(doc_id)["firstName"].startswith("Ada") for doc_id in kept.ids)
        assert [r.line for r in rejected] == [8, 8]
    finally:
        store.close()
