"""The keys the runtime makes on the client for documents' rows: UUID version 7 (RFC 9562), time-ordered.

A version 7 uuid starts with the Unix time in milliseconds (uuid_utils adds a counter, so the keys one process
makes increase strictly), so key order is creation order, which is the order rows land in the heap: a page of
documents read in key order (keyset pagination, `items()`, `export`) visits a few neighbouring blocks of each
table instead of rows scattered over all of them (with random, version 4, keys an export of 200,000 documents
visited 60 times as many heap blocks), and B-tree inserts stay on the index's right edge. The column type is
`uuid` either way, so keys already stored (version 4, or any other) stay valid and mix with these. The cost:
a key reveals when its document was created, to the millisecond.
"""

from __future__ import annotations

import uuid

from uuid_utils.compat import uuid7

__all__ = ["new_key"]


def new_key() -> uuid.UUID:
    """A new time-ordered key (a stdlib `uuid.UUID`, version 7)."""
    return uuid7()
