"""`Loader`'s transactions: the first few batches smaller (writing starts sooner), then `batch_size` each."""

from __future__ import annotations

import itertools
import json
from collections import Counter

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from runtime_helpers import customer, open_store
from schemarel.runtime.ndjson import FIRST_BATCHES, Loader, Reject, _batch_limits


@given(st.integers(1, 5000))
def test_batch_sizes_grow_to_the_batch_size_and_stay(batch_size: int) -> None:
    smaller = [size for size in FIRST_BATCHES if size < batch_size]
    sizes = list(itertools.islice(_batch_limits(batch_size), len(smaller) + 3))
    assert sizes == [*smaller, batch_size, batch_size, batch_size]
    assert smaller == sorted(smaller)


def test_a_load_commits_each_batch_in_its_own_transaction(postgres_url: str) -> None:
    """1,234 lines (3 of them bad JSON) in batches of 1,000: transactions of 100, 250, 500 and the rest,
    counted by the transaction id (`xmin`) that wrote each row, in line order (a batch counts documents, not lines)."""
    store = open_store(postgres_url, "customer")
    bad = {50, 300, 900}
    lines = [b"{" if i in bad else json.dumps(customer(i)).encode() for i in range(1, 1235)]
    try:
        rejected: list[Reject] = []
        result = Loader(store, rejected.append, batch_size=1000, keep_ids=True).run(lines)
        assert (result.loaded, [r.line for r in rejected]) == (1231, sorted(bad))
        table = store.metadata.tables["customer_profiles"]
        with store.engine.connect() as conn:
            xmin = dict(conn.execute(sa.select(table.c.id, sa.column("xmin").cast(sa.Text)).select_from(table)).all())
        per_transaction = Counter(xmin[doc_id] for doc_id in result.ids)
        assert [per_transaction[x] for x in dict.fromkeys(xmin[doc_id] for doc_id in result.ids)] == [
            100,
            250,
            500,
            381,
        ]
    finally:
        store.close()
