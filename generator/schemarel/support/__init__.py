"""The stable surface generated models and revisions import: SQL defaults, preconditions, data moves.

Generated code imports nothing of schemarel but this package, and revisions are history that is never
rewritten, so every public name here is frozen: `uuid_default`, `boolean_default` (server defaults),
`MissingExternalTable`, `require_tables`, `DataLoss`, `protect_data` (preconditions), `backfill`,
`copy_to_parent`, `copy_to_child`, `rename_values`, `rename_pointers` (data moves), `migrate`, `migration_engine`,
`offline_options`, `rehearse`, `compare_server_default`, `MigrationFailed` (what env.py runs), `open_store`
(the typed stores of generated/documents/). Add names; never remove or re-sign one
(tests/test_support_surface.py). The modules behind them are internal: generated code names this package.

It owns what generated code runs in an application (at import, when a revision runs, when a store opens):
`sqlfuncs` (server defaults), `datamove` (data moves), `preconditions` (what a revision checks first),
`migrating` (how env.py runs migrations), `stores` (opening a typed store).

May import: schemarel.errors only (it is a core module, below every stage); `stores` imports the runtime
inside `open_store`, when an application opens a store, never at import (pyproject's contracts say so).
"""

from __future__ import annotations

from schemarel.support import collation as _collation  # noqa: F401  (registers how MySQL spells it)
from schemarel.support.datamove import backfill, copy_to_child, copy_to_parent, rename_pointers, rename_values
from schemarel.support.migrating import (
    MigrationFailed,
    compare_server_default,
    migrate,
    migration_engine,
    offline_options,
    rehearse,
)
from schemarel.support.preconditions import DataLoss, MissingExternalTable, protect_data, require_tables
from schemarel.support.sqlfuncs import boolean_default, uuid_default
from schemarel.support.stores import open_store

__all__ = [
    "DataLoss",
    "MigrationFailed",
    "MissingExternalTable",
    "backfill",
    "boolean_default",
    "compare_server_default",
    "copy_to_child",
    "copy_to_parent",
    "migrate",
    "migration_engine",
    "offline_options",
    "open_store",
    "protect_data",
    "rehearse",
    "rename_pointers",
    "rename_values",
    "require_tables",
    "uuid_default",
]
