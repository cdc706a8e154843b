"""schemarel: JSON Schemas to relational tables, SQLAlchemy models, Alembic migrations, docs, and a runtime.

The public API is what this module exports (`__all__`); every other module is internal and may change.
Generated code imports only `schemarel.support`, whose names are frozen. The runtime names load lazily,
so `import schemarel` (and `schemarel check`) does not pay for SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemarel.errors import (
    ConcurrentUpdate,
    ConstraintViolation,
    DocumentInvalid,
    DocumentNotFound,
    MigrationRequired,
    SchemaError,
    SchemarelError,
    StoreError,
    ValueRejected,
    Violation,
    WriteRefused,
)

if TYPE_CHECKING:
    from schemarel.runtime.async_store import AsyncStore
    from schemarel.runtime.backfill import Backfill, BackfillResult, backfill
    from schemarel.runtime.query import Page
    from schemarel.runtime.store import Store

__version__ = "0.1.0"

__all__ = [
    "AsyncStore",
    "Backfill",
    "BackfillResult",
    "ConcurrentUpdate",
    "ConstraintViolation",
    "DocumentInvalid",
    "DocumentNotFound",
    "MigrationRequired",
    "Page",
    "SchemaError",
    "SchemarelError",
    "Store",
    "StoreError",
    "ValueRejected",
    "Violation",
    "WriteRefused",
    "__version__",
    "backfill",
]

_LAZY = {
    "Store": "schemarel.runtime.store",
    "AsyncStore": "schemarel.runtime.async_store",
    "Page": "schemarel.runtime.query",
    "Backfill": "schemarel.runtime.backfill",
    "BackfillResult": "schemarel.runtime.backfill",
    "backfill": "schemarel.runtime.backfill",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'schemarel' has no attribute {name!r}")
