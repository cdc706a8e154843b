"""Planner statistics after bulk loads: ANALYZE the tables a large write filled, on PostgreSQL, at once.

Why: right after a bulk load PostgreSQL has no statistics for the new rows until autovacuum gets to the table
(up to `autovacuum_naptime`, a minute by default, and longer on a busy server). Meanwhile the planner guesses,
and guesses badly for the statements that read documents back by parent keys (a whole child table scanned per
page of an export: measured 85 ms a page at 20,000 documents, 19× the time for 10× the data). ANALYZE samples
at most 300 × `default_statistics_target` rows per table (30,000 by default), so it costs tens of milliseconds
a table whatever its size: paid once per load of at least `ANALYZE_AFTER` documents, where it is a few percent
of the load at most; smaller writes leave it to autovacuum.

Only the key columns are analyzed (each table's key, the key of its parent, the links of recursive properties):
the reads by key are what goes wrong without statistics, and the row counts (`reltuples`) are set all the same.
Computing every column's statistics took about three times as long (95 ms against 34 ms for the four tables of
20,000 CustomerProfile documents). Autovacuum still analyzes every column later: a column list does not reset
its count of changed rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from schemarel.runtime.tablemap import TableMap

if TYPE_CHECKING:
    import sqlalchemy as sa

ANALYZE_AFTER = 10_000  # documents written by one bulk call


def analyze_after_load(engine: sa.Engine, tables: Sequence[TableMap], written: int) -> bool:
    """ANALYZE `tables` when `written` documents were just loaded into them (PostgreSQL; sync engines: an
    AsyncStore's loads are left to autovacuum); whether it ran."""
    if written < ANALYZE_AFTER or engine.dialect.name != "postgresql" or engine.dialect.is_async:
        return False
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(analyze_sql(tables, engine.dialect.identifier_preparer.quote))
    return True


def analyze_sql(tables: Sequence[TableMap], quote: Callable[[str], str]) -> str:
    """The ANALYZE of the key columns of `tables`, names quoted by `quote`."""
    names = ", ".join(f"{quote(tm.table.name)} ({', '.join(map(quote, key_columns(tm)))})" for tm in tables)
    return f"ANALYZE {names}"


def key_columns(tm: TableMap) -> list[str]:
    """The columns reads find rows by: the table's key, its parent's key, the links of recursive properties."""
    found = [tm.key, *([tm.fk] if tm.fk else []), *(ref.column for ref in tm.links)]
    return list(dict.fromkeys(found))
