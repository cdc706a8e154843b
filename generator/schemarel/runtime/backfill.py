"""Backfill: a default document for every row of a referenced table (another system's `users`) that has none.

Set-based and batched by the referenced table's key (keyset, never OFFSET): each batch is one
`INSERT … SELECT` over a key range, in its own transaction. The unique reference decides what exists already
(`ON CONFLICT DO NOTHING` on PostgreSQL and SQLite, `INSERT IGNORE` on MariaDB/MySQL, `WHERE NOT EXISTS`
elsewhere): running it again creates nothing (idempotent), a killed run loses at most its current batch and
the next run finishes the job (resumable), and a document created meanwhile by registration code wins,
never duplicated, never a failure.

Why no `WHERE NOT EXISTS` where the conflict clause exists: right after the migration, the empty table's
fresh statistics make PostgreSQL plan the anti-join as a nested loop over a sequential scan of the table
the statement is filling, quadratic in the batch size (measured: 5 s instead of 0.3 s for a first batch of
10,000 users, and worse for larger batches). The conflict check probes the unique index per row, whatever
the statistics say.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from schemarel.errors import ConstraintViolation, SchemarelError, pointer
from schemarel.ir import ForeignKey
from schemarel.runtime.store import Store

RETRIES = 3  # a batch whose referenced rows were deleted meanwhile fails its foreign key check: run it again


@dataclass
class BackfillResult:
    referenced: int = 0  # rows of the referenced table seen
    created: int = 0
    batches: int = 0


Progress = Callable[[BackfillResult, int], None]  # (counts so far, rows of the referenced table in all)


class Backfill:
    """The plan of a backfill for one schema: which reference, which constant values, which statements."""

    def __init__(self, store: Store, batch_size: int = 10_000, workers: int = 2) -> None:
        self.store = store
        self.batch_size = batch_size
        # the database does the work; SQLite has a single writer, so more connections only wait on each other
        self.workers = 1 if store.engine.dialect.name == "sqlite" else max(1, workers)
        root = store.root
        self.fk = _unique_external_reference(store)
        self.parent = store.metadata.tables[self.fk.ref_table]
        self.parent_key = self.parent.c[self.fk.ref_columns[0]]
        table = root.sa_table
        self.column = table.c[self.fk.columns[0]]
        values = self._default_values()
        columns = [self.column, *(table.c[name] for name in values)]
        parent_key = self.parent_key
        selected = [parent_key, *(_constant(table.c[name], value) for name, value in values.items())]
        upper = parent_key <= sa.bindparam("hi", type_=parent_key.type)
        lower = parent_key > sa.bindparam("lo", type_=parent_key.type)
        self.first = self._insert(columns, sa.select(*selected).where(upper))
        self.next = self._insert(columns, sa.select(*selected).where(lower, upper))

    def _default_values(self) -> dict[str, Any]:
        """The root row of the default document: what the schema's defaults give, the reference aside."""
        store = self.store
        root = store.root
        field = next(f for f in root.fields if f.column == self.column.name)
        # the reference's value differs per row: a placeholder stands in, and what is said about it is ignored
        document: dict[str, Any] = store.mapping.with_defaults({field.path[0]: ""} if field.path else {})
        where = pointer(*field.path)
        problems = [
            v
            for v in store.validator.violations(document)
            if v.pointer != where and not v.pointer.startswith(where + "/")
        ]
        if problems:
            raise SchemarelError(
                f"cannot backfill {store.name}: a document made of defaults is not valid: "
                + "; ".join(str(p) for p in problems)
            )
        if field.path:
            document[field.path[0]] = None
        batch = store.mapping.new_batch()
        store.mapping.add(batch, document)
        if any(batch.rows[tm.index] for tm in store.mapping.tables[1:]):
            raise SchemarelError(f"cannot backfill {store.name}: its default document needs rows in child tables")
        values = store.mapping.values(root, batch.rows[0][0], store.engine.dialect)
        values.pop(self.column.name)
        if root.key_source == "client":
            if root.sa_table.c[root.key].server_default is None:
                raise SchemarelError(f"cannot backfill {store.name}: its key has no server-side default")
            values.pop(root.key)
        return values

    def _insert(self, columns: list[sa.Column[Any]], select: sa.Select[Any]) -> Any:
        table = self.store.root.sa_table
        dialect = self.store.engine.dialect.name
        if dialect in ("postgresql", "sqlite"):
            module: Any = postgresql if dialect == "postgresql" else sqlite
            stmt = module.insert(table).from_select(columns, select)
            stmt = stmt.on_conflict_do_nothing(index_elements=[self.column])
        elif dialect in ("mysql", "mariadb"):
            stmt = sa.insert(table).from_select(columns, select).prefix_with("IGNORE")
        else:
            missing = ~sa.exists().where(self.column == self.parent_key)
            stmt = sa.insert(table).from_select(columns, select.where(missing))
        return stmt.execution_options(preserve_rowcount=True)

    def run(self, progress: Progress | None = None) -> BackfillResult:
        """Fill every key range; up to `workers` ranges at once (each in its own transaction and connection)."""
        result = BackfillResult()
        total = 0
        if progress is not None:  # a scan of the whole referenced table: only for a progress report
            with self.store.engine.connect() as conn:
                total = int(conn.execute(sa.select(sa.func.count()).select_from(self.parent)).scalar_one())
        running: deque[tuple[Future[int], int]] = deque()

        def collect() -> None:
            future, count = running.popleft()
            result.created += future.result()
            result.referenced += count
            result.batches += 1
            if progress is not None:
                progress(result, total)

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            try:
                for lo, hi, count in self._ranges():
                    running.append((pool.submit(self._batch, lo, hi), count))
                    if len(running) >= self.workers:
                        collect()
                while running:
                    collect()
            except BaseException:
                pool.shutdown(cancel_futures=True)  # ranges under way finish; the next run does the rest
                raise
        return result

    def _ranges(self) -> Iterator[tuple[Any, Any, int]]:
        """Consecutive key ranges (lo, hi] of `batch_size` referenced rows each, by keyset (never OFFSET)."""
        key = self.parent_key
        window = sa.select(key).order_by(key).limit(self.batch_size)
        lo = None
        with self.store.engine.connect() as conn:
            while True:
                ids = (window if lo is None else window.where(key > lo)).subquery()
                hi, count = conn.execute(sa.select(sa.func.max(ids.c[0]), sa.func.count())).one()
                conn.rollback()  # no snapshot held open while the batches commit
                if hi is None:
                    return
                yield lo, hi, int(count)
                lo = hi

    def _batch(self, lo: Any, hi: Any) -> int:
        for attempt in range(RETRIES):
            try:
                with self.store.transaction() as conn:
                    if lo is None:
                        return int(conn.execute(self.first, {"hi": hi}).rowcount)
                    return int(conn.execute(self.next, {"lo": lo, "hi": hi}).rowcount)
            except ConstraintViolation:
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")


def backfill(
    store: Store, batch_size: int = 10_000, progress: Progress | None = None, workers: int = 2
) -> BackfillResult:
    """Create the default document for every referenced row that has none; see the module docstring."""
    return Backfill(store, batch_size, workers).run(progress)


def _unique_external_reference(store: Store) -> ForeignKey:
    table = store.root.table
    unique = {u.columns for u in table.uniques}
    found = [fk for fk in table.foreign_keys if fk.external and fk.columns in unique and len(fk.columns) == 1]
    if len(found) != 1:
        raise SchemarelError(
            f"cannot backfill {store.name}: its root table needs exactly one unique reference to a table of "
            f'another system ("x-sql": {{"references": …, "unique": true}}), it has {len(found)}'
        )
    return found[0]


def _constant(column: sa.Column[Any], value: Any) -> Any:
    if value is None or isinstance(value, sa.sql.elements.Null):
        return sa.cast(sa.null(), column.type)
    if isinstance(value, sa.sql.ClauseElement):  # a JSON value, cast already
        return value
    return sa.literal(value, type_=column.type)
