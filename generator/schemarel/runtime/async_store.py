"""The Store's API on SQLAlchemy's asyncio engine (`postgresql+psycopg://`, psycopg's async driver).

The work on each connection is the sync Store's own (`*_on` methods), run by `AsyncConnection.run_sync` in
SQLAlchemy's greenlet bridge: one code path, so both stores write and read the same rows. On psycopg's async
driver, `get`, `count`, a one-statement `create`, and `get_by` and `page` of documents held in one row (without
`conn=`) send the sync Store's compiled statements through the driver itself (`_on_driver`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.util.concurrency import greenlet_spawn

from schemarel.errors import DocumentNotFound
from schemarel.runtime import culprit
from schemarel.runtime.async_parked import AsyncParked
from schemarel.runtime.bulk import PostgresWriter
from schemarel.runtime.dbstate import check_revision
from schemarel.runtime.direct import SNAPSHOT
from schemarel.runtime.lookups import sizes, text_ids
from schemarel.runtime.marks import MISSING
from schemarel.runtime.query import Order, Page, Where, amount, terms
from schemarel.runtime.source import Source
from schemarel.runtime.store import Store

T = TypeVar("T")

AsyncBind = Any  # an AsyncConnection, or an AsyncSession (its connection is used)


class AsyncStore:
    """Documents of one schema, as `Store`, with every database method a coroutine (`find` an async iterator).

    The database's revision is checked on the first call (MigrationRequired says what to run).
    """

    def __init__(
        self,
        db: str | AsyncEngine,
        schema: str,
        *,
        source: Source = None,
        schemas_dir: str | Path | None = None,
        check: bool = True,
    ) -> None:
        self.owns_engine = not isinstance(db, AsyncEngine)
        self.engine = create_async_engine(db) if isinstance(db, str) else db
        self.sync = Store(self.engine.sync_engine, schema, source=source, schemas_dir=schemas_dir, check=False)
        self.name = schema
        self._checked = not check or self.sync.revision is None
        dialect = self.engine.dialect
        self.direct = dialect.name == "postgresql" and dialect.driver == "psycopg"  # see _direct_get
        self.parked = AsyncParked(self.engine)  # the connection of the direct one-statement calls

    async def _ready(self) -> None:
        if not self._checked:
            async with self.engine.connect() as conn:
                await conn.run_sync(check_revision, self.sync.revision)
            self._checked = True

    @asynccontextmanager
    async def transaction(
        self, conn: AsyncBind | None = None, *, one_statement: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """A transaction of its own, or a SAVEPOINT in the caller's; database refusals become typed errors."""
        await self._ready()
        try:
            if conn is not None:
                connection = conn if isinstance(conn, AsyncConnection) else await _connection(conn)
                async with connection.begin_nested():
                    yield connection
            elif one_statement:
                async with self.engine.connect() as own:
                    yield await own.execution_options(isolation_level="AUTOCOMMIT")
            else:
                async with self.engine.begin() as own:
                    yield own
        except Exception as exc:
            error = self.sync.error(exc)
            if error is exc:
                raise
            raise error from exc

    async def _read_error(self, exc: Exception, doc_id: Any = None) -> Exception:
        """`Store.read_error`: a stored value that cannot be turned into a document's named (located on a
        connection of its own, in the document `doc_id` where given), else the typed error."""
        if culprit.read_failure(exc):
            async with self.engine.connect() as own:
                found = await own.run_sync(self.sync.locate, doc_id)
            if found is not None:
                return found
        return self.sync.error(exc)

    @asynccontextmanager
    async def reading(
        self, conn: AsyncBind | None = None, one_statement: bool = False, doc_id: Any = None
    ) -> AsyncIterator[AsyncConnection]:
        """The caller's connection, or one of ours reading one snapshot (REPEATABLE READ on PostgreSQL);
        `one_statement`: the reading is a single statement (no BEGIN and COMMIT are sent)."""
        await self._ready()
        try:
            if conn is not None:
                yield conn if isinstance(conn, AsyncConnection) else await _connection(conn)
                return
            async with self.engine.connect() as own:
                if one_statement:
                    yield await own.execution_options(isolation_level="AUTOCOMMIT")
                    return
                if own.dialect.name == "postgresql":
                    own = await own.execution_options(isolation_level="REPEATABLE READ")
                async with own.begin():
                    yield own
        except Exception as exc:  # a stored value that cannot be read is named (`_read_error`)
            if not culprit.read_failure(exc) and (conn is not None or not isinstance(exc, sa.exc.DBAPIError)):
                raise
            error = await self._read_error(exc, doc_id)
            if error is exc:
                raise
            raise error from exc

    async def create(self, document: Any, *, conn: AsyncBind | None = None) -> Any:
        """Store one document; returns its id."""
        batch, doc_id = self.sync.one_batch(document)
        writer = self.sync._writer(self.engine.dialect)
        one_statement = writer.one_statement(batch)
        if one_statement and conn is None and self.direct and isinstance(writer, PostgresWriter):
            # `Store.create`'s direct path: the single `WITH … INSERT`, prepared, in autocommit mode
            sql, params = writer.one_insert(batch)

            async def insert(driver: Any) -> None:
                await driver.execute(sql, params, prepare=True)

            await self._on_driver(insert, autocommit=True)
            return self.sync.created_id(batch, doc_id)
        async with self.transaction(conn, one_statement=one_statement) as c:
            await c.run_sync(writer.write_one, batch)
        return self.sync.created_id(batch, doc_id)

    async def create_many(
        self, documents: Iterable[Any], batch_size: int = 1000, *, conn: AsyncBind | None = None
    ) -> list[Any]:
        """Store many documents, `batch_size` per transaction (or SAVEPOINT); returns their ids in order."""
        ids: list[Any] = []
        for batch in self.sync.batches(documents, batch_size):
            async with self.transaction(conn) as c:
                ids += await c.run_sync(self.sync.write, batch)
        return ids

    async def get(self, doc_id: Any, *, conn: AsyncBind | None = None) -> Any:
        subtree = self.sync.reads.subtree
        if conn is None and self.direct and subtree is not None:
            return await self._direct_get(doc_id, subtree)
        async with self.reading(conn, one_statement=self.sync.one_table, doc_id=doc_id) as c:
            return await c.run_sync(self.sync.get_on, doc_id)

    async def _direct_get(self, doc_id: Any, subtree: list[Any]) -> Any:
        """`Store.get`'s direct path on psycopg's async driver, prepared: `ReadPlan.whole`, one statement (one
        snapshot) in autocommit mode, else the statements of every table, compiled once, sent together with
        BEGIN and COMMIT (pipeline) in one REPEATABLE READ transaction (see `direct.SNAPSHOT`)."""
        reads = self.sync.reads
        params = {"root": self.sync._key(doc_id)}

        async def read(driver: Any) -> list[Any]:
            if reads.whole is not None:
                cursor = await driver.execute(reads.sql(reads.whole), params, prepare=True)
                return reads.split(await cursor.fetchall())
            return await _snapshot_rows(driver, [reads.sql(s) for s in subtree], params)

        rows = await self._on_driver(read, autocommit=reads.whole is not None, reading=True, doc_id=doc_id)
        found = reads.from_subtree(rows)
        if not found:
            raise DocumentNotFound(self.name, doc_id)
        return found[0][1]

    async def _on_driver(
        self, work: Callable[[Any], Awaitable[T]], *, autocommit: bool, reading: bool = False, doc_id: Any = None
    ) -> T:
        """`work` on psycopg's async connection itself, without the Connection and AsyncConnection around it
        (their greenlets and tasks cost a third of a call): in autocommit mode (one statement: its own
        transaction) the connection kept for it (`AsyncParked`, `work` given its cursor), else a pooled one
        handed back through a greenlet, as its reset awaits."""
        if not self._checked:  # not a coroutine per call: on a lookup of 0.1 ms every awaited frame shows
            await self._ready()
        try:
            if autocommit:
                return await self.parked.run(work)
            pooled = await self.engine.raw_connection()
            try:
                return await work(pooled.driver_connection)
            finally:
                await greenlet_spawn(pooled.close)
        except Exception as exc:  # a read's stored value that cannot be read is named (`_read_error`)
            error = await self._read_error(exc, doc_id) if reading else self.sync.error(exc)
            if error is exc:
                raise
            raise error from exc

    async def _direct_rows(self, sql: str, params: dict[str, Any]) -> list[Any]:
        """The rows of one statement of the sync store's direct path (built and compiled there, once), prepared,
        on the connection kept for one-statement calls in autocommit mode (`_on_driver`)."""

        async def read(cursor: Any) -> list[Any]:
            await cursor.execute(sql, params, prepare=True)
            return await cursor.fetchall()  # type: ignore[no-any-return]

        return await self._on_driver(read, autocommit=True, reading=True)

    async def get_by(self, *, conn: AsyncBind | None = None, **unique: Any) -> Any:
        if conn is None and self.direct and self.sync.one_table:  # `Store.get_by`'s direct path
            sql, params, path, value = self.sync.by_statement(unique)
            return self.sync.one_found(await self._direct_rows(sql, params), path, value)
        query = self.sync.by_query(unique)
        async with self.reading(conn, one_statement=self.sync.one_table) as c:
            return await c.run_sync(self.sync.get_by_on, query, unique)

    async def find(
        self,
        where: Where | None = None,
        *,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        batch_size: int = 500,
        conn: AsyncBind | None = None,
    ) -> AsyncIterator[tuple[Any, Any]]:
        """(id, document) pairs matching `where`, as `Store.find`."""
        sizes(limit, batch_size)
        conds, order = self.sync.compile(where, order_by)
        async for items in self._pages(conds, order, limit, batch_size, conn):
            for item in items:
                yield item

    def pages(
        self, where: Where | None = None, *, batch_size: int = 500, conn: AsyncBind | None = None
    ) -> AsyncIterator[list[tuple[Any, Any]]]:
        """Every (id, document) matching `where`, by id, a list of at most `batch_size` at a time (no empty
        list), in one snapshot or in the caller's `conn`; the ids of uuid keys are their text, as `Store.pages`."""
        amount("batch_size", batch_size, 1)
        conds, order = self.sync.compile(where, None)  # a bad filter raises here, not at the first page
        return self._text_pages(self._pages(conds, order, None, batch_size, conn))

    async def _text_pages(self, pages: AsyncIterator[list[tuple[Any, Any]]]) -> AsyncIterator[list[tuple[Any, Any]]]:
        async for items in pages:
            if items:
                yield text_ids(items)

    async def _pages(
        self, conds: list[Any], order: Order, limit: int | None, size: int, conn: AsyncBind | None
    ) -> AsyncIterator[list[tuple[Any, Any]]]:
        """Pages of `Store.page_on` read in one snapshot (or in the caller's `conn`), `limit` documents at most."""
        after = None
        async with self.reading(conn) as c:
            while limit is None or limit > 0:
                count = size if limit is None else min(size, limit)
                items, after = await c.run_sync(self.sync.page_on, conds, order, count, after)
                yield items
                if after is None:
                    return
                limit = None if limit is None else limit - len(items)

    async def page(
        self,
        where: Where | None = None,
        *,
        order_by: str | Sequence[str] | None = None,
        limit: int = 50,
        after: str | None = None,
        conn: AsyncBind | None = None,
    ) -> Page[Any]:
        amount("limit", limit, 1)
        if conn is None and self.direct and self.sync.one_table:  # `Store.page`'s direct path
            order = Order.parse(self.sync.paths, order_by)
            start = order.decode(after, self.sync._key) if after else None
            sql, params = self.sync.page_statement(terms(self.sync.paths, where), order, limit, start)
            items, last = self.sync.page_found(await self._direct_rows(sql, params), order, limit)
            return Page(items, order.encode(last) if last is not None else None)
        conds, order = self.sync.compile(where, order_by)
        start = order.decode(after, self.sync._key) if after else None
        async with self.reading(conn, one_statement=self.sync.one_table) as c:
            items, last = await c.run_sync(self.sync.page_on, conds, order, limit, start)
        return Page(items, order.encode(last) if last is not None else None)

    async def count(self, where: Where | None = None, *, conn: AsyncBind | None = None) -> int:
        if conn is None and self.direct:  # `Store.count`'s direct path: one statement, atomic on its own
            sql, params = self.sync.count_statement(terms(self.sync.paths, where))
            return int((await self._direct_rows(sql, params))[0][0])
        conds, _ = self.sync.compile(where, None)
        async with self.reading(conn, one_statement=self.sync.one_table) as c:
            return await c.run_sync(self.sync.count_on, conds)

    async def exists(self, doc_id: Any, *, conn: AsyncBind | None = None) -> bool:
        async with self.reading(conn, one_statement=self.sync.one_table) as c:
            return await c.run_sync(self.sync.exists_on, doc_id)

    async def replace(self, doc_id: Any, document: Any, *, conn: AsyncBind | None = None) -> None:
        document = self.sync.prepare(document)
        async with self.transaction(conn) as c:
            await c.run_sync(self.sync.replace_on, doc_id, document)

    async def patch(
        self, doc_id: Any, merge_patch: Any, *, if_match: Any = MISSING, conn: AsyncBind | None = None
    ) -> Any:
        direct = self.sync.direct_patch(merge_patch, if_match)
        async with self.transaction(conn, one_statement=direct is not None and len(self.sync.mapping.tables) == 1) as c:
            return await c.run_sync(self.sync.patch_on, doc_id, merge_patch, if_match, direct)

    async def delete(self, doc_id: Any, *, conn: AsyncBind | None = None) -> None:
        async with self.transaction(conn) as c:
            await c.run_sync(self.sync.delete_on, doc_id)

    def items(self, batch_size: int = 500, *, conn: AsyncBind | None = None) -> AsyncIterator[tuple[Any, Any]]:
        return self.find(batch_size=batch_size, conn=conn)

    async def close(self) -> None:
        self.parked.close()
        if self.owns_engine:
            await self.engine.dispose()

    async def __aenter__(self) -> AsyncStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def _connection(session: AsyncSession) -> AsyncConnection:
    return await session.connection()


async def _snapshot_rows(driver: Any, sqls: list[str], params: dict[str, Any]) -> list[Any]:
    """`DirectReads.snapshot_rows` on psycopg's async connection `driver`."""
    try:
        async with driver.pipeline():
            await driver.execute(SNAPSHOT)
            cursors = [await driver.execute(sql, params, prepare=True) for sql in sqls]
            await driver.commit()
        return [await c.fetchall() for c in cursors]
    except BaseException:
        await driver.rollback()
        raise
