"""The runtime's public API: store, read, replace and delete the documents of one schema in its tables."""

from __future__ import annotations

from schemarel.runtime.base import Bind
from schemarel.runtime.connect import prepare_sqlite
from schemarel.runtime.lookups import Lookups
from schemarel.runtime.writes import Writes

__all__ = ["Bind", "Store", "prepare_sqlite"]


class Store(Lookups, Writes):
    """Documents of one schema (`customer`, `profile`: the schema file's stem) in a database.

    Every write validates the document (formats included), fills the schema's `default`s in for absent required
    properties, and writes all its rows in one transaction; given `conn=` (a Connection or a Session) it runs
    inside the caller's transaction, in a SAVEPOINT, so that a failure undoes only this document.
    Reads are in `lookups.py`, writes in `writes.py`, what both stand on (transactions, keys) in `base.py`.
    """
