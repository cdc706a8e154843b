"""The Store's reads: a document by id or unique property, `find` and `page` by filters with keyset cursors, counts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from schemarel.errors import DocumentNotFound
from schemarel.runtime import culprit
from schemarel.runtime.base import Bind, StoreBase
from schemarel.runtime.query import (
    Binder,
    Order,
    Page,
    QueryError,
    Where,
    amount,
    bound,
    condition,
    query_value,
    shape,
    terms,
    where_clause,
    where_of,
)


class Lookups(StoreBase):
    """Reading documents back: one by its id or a unique property, or many by filters, in order."""

    def get(self, doc_id: Any, *, conn: Bind | None = None) -> Any:
        """The document as stored; raises DocumentNotFound."""
        if conn is None and self.direct.enabled:
            rows = self._direct_rows(self.one_sql(("get",), self._key_column), {"v": self._key(doc_id)}, doc_id)
            return self.one_found(rows, "id", doc_id)
        if conn is None and self.direct.psycopg and self.reads.subtree is not None:
            return self._direct_document(doc_id)
        with self._reading(conn, one_statement=self.one_table, doc_id=doc_id) as c:
            return self.get_on(c, doc_id)

    def _direct_document(self, doc_id: Any) -> Any:
        """The document of several tables read through psycopg in one snapshot: by `ReadPlan.whole`, else by
        its statements sent together."""
        reads, subtree = self.reads, self.reads.subtree
        assert subtree is not None
        key = self._key(doc_id)
        try:
            whole = reads.whole
            if whole is not None:  # one statement, one snapshot
                found = reads.from_subtree(reads.split(self.direct.rows(("whole",), lambda: whole, {"root": key})))
            else:
                found = reads.from_subtree(self.direct.snapshot_rows([reads.sql(s) for s in subtree], {"root": key}))
        except DocumentNotFound:
            raise
        except Exception as exc:
            raise self.read_error(exc, doc_id) from exc
        if not found:
            raise DocumentNotFound(self.name, doc_id)
        return found[0][1]

    def _direct_rows(self, sql: str, params: dict[str, Any], doc_id: Any = None) -> list[Any]:
        """The rows of one statement sent through psycopg (`DirectReads.run`); database refusals as typed errors,
        a stored value that cannot be read named (in the document `doc_id` where given)."""
        try:
            return self.direct.run(sql, params)
        except Exception as exc:
            raise self.read_error(exc, doc_id) from exc

    def one_sql(self, key: Any, column: Any) -> str:
        """The SQL of a document held in one row, by the value of `column` bound as `v` (compiled once per `key`):
        the sync and async stores' direct `get` and `get_by`."""

        def build() -> Any:
            return self.mapping.select(self.root).where(column == sa.bindparam("v", type_=column.type))

        return self.direct.sql(key, build)

    def by_statement(self, unique: dict[str, Any]) -> tuple[str, dict[str, Any], str, Any]:
        """`get_by`'s SQL for a document held in one row (see `one_sql`), its parameters, the path and value."""
        if len(unique) != 1:
            raise QueryError(f"get_by takes one unique property, as in get_by(userId=...), not {sorted(unique)}")
        ((path, value),) = unique.items()
        target = self._unique.get(path) or self._unique.setdefault(path, self.paths.unique(path))
        column = target.tm.sa_table.c[target.field.column]
        return self.one_sql(("by", path), column), {"v": query_value(target, value)}, path, value

    def one_found(self, rows: Sequence[Any], by: str, shown: Any) -> Any:
        """The document of the first of `rows` (of `one_sql`); raises DocumentNotFound when there is none."""
        if not rows:
            raise DocumentNotFound(self.name, shown if by == "id" else repr(shown), by=by)
        try:
            return self.read_row(rows[0])
        except culprit.UNREADABLE as exc:  # a stored value its decoder refuses (`culprit`)
            raise culprit.unreadable(self.root, rows[:1], exc) from exc

    def get_by(self, *, conn: Bind | None = None, **unique: Any) -> Any:
        """The document whose unique property has this value: `get_by(userId="u42")`; raises DocumentNotFound."""
        if conn is None and self.direct.enabled:
            sql, params, path, value = self.by_statement(unique)
            return self.one_found(self._direct_rows(sql, params), path, value)
        query = self.by_query(unique)
        with self._reading(conn, one_statement=self.one_table) as c:
            return self.get_by_on(c, query, unique)

    def by_query(self, unique: dict[str, Any]) -> Any:
        if len(unique) != 1:
            raise QueryError(f"get_by takes one unique property, as in get_by(userId=...), not {sorted(unique)}")
        ((path, value),) = unique.items()
        return self.mapping.select(self.root).where(condition(self.paths.unique(path), value), *self._top)

    def get_by_on(self, c: sa.Connection, query: Any, unique: dict[str, Any]) -> Any:
        found = self._read(c, query)
        if not found:
            ((path, value),) = unique.items()
            raise DocumentNotFound(self.name, repr(value), by=path)
        return found[0][1]

    def find(
        self,
        where: Where | None = None,
        *,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        batch_size: int = 500,
        conn: Bind | None = None,
    ) -> Iterator[tuple[Any, Any]]:
        """(id, document) pairs matching `where` (see runtime/query.py), ordered by `order_by` (paths of the
        root table, `-` for descending; the id breaks ties, and orders alone by default), NULLs last; read
        `batch_size` at a time by keyset, in one snapshot."""
        sizes(limit, batch_size)
        if conn is None and self.direct.enabled:
            order = Order.parse(self.paths, order_by)
            terms(self.paths, where)  # a bad filter raises here, not at the first item
            stream: Iterator[tuple[Any, Any]] = self._direct_stream(where, order, limit, batch_size)
            return stream
        if self.reads.psycopg and self.reads.subtree is not None:
            order = Order.parse(self.paths, order_by)
            terms(self.paths, where)
            return self._paged_stream(where, order, limit, batch_size, conn)
        conds, order = self.compile(where, order_by)
        rows: Iterator[tuple[Any, Any]] = self._stream(conds, order, limit, batch_size, conn)
        return rows

    def _direct_stream(self, where: Where | None, order: Order, limit: int | None, size: int) -> Any:
        """`find` of documents held in one row each: every page one statement (a document is read atomically;
        the pages are not one snapshot)."""
        after = None
        while limit is None or limit > 0:
            items, after = self.direct_page(where, order, size if limit is None else min(size, limit), after)
            yield from items
            if after is None:
                return
            limit = None if limit is None else limit - len(items)

    def _paged_stream(
        self, where: Where | None, order: Order, limit: int | None, size: int, conn: Bind | None
    ) -> Iterator[tuple[Any, Any]]:
        """`find` of documents of several tables on psycopg's sync driver: the pages of `_fetched_pages`."""
        key_out = self.reads.key_out
        for items in self._fetched_pages(where, order, limit, size, conn):
            if key_out is None:
                yield from items
            else:
                yield from ((key_out(key), document) for key, document in items)

    def pages(
        self, where: Where | None = None, *, batch_size: int = 500, conn: Bind | None = None
    ) -> Iterator[list[tuple[Any, Any]]]:
        """Every (id, document) matching `where` (see `find`), by id, a list of at most `batch_size` at a time
        (no empty list: nothing matching, no page), every page read in one snapshot (REPEATABLE READ on
        PostgreSQL) or in the caller's `conn`. The ids of uuid keys are their text (`str`: what JSON holds;
        reading them as text is much of the speed), other ids as `find` gives them. What `export` writes.

        Every page is read in the calling thread: reading the next page in a worker thread while the caller
        built and wrote this one (runtime/overlap.py) measured 6-20 % slower on 2 busy cores (psycopg's
        execute path holds the GIL for as long as the documents take to build)."""
        amount("batch_size", batch_size, 1)
        order = Order.parse(self.paths, None)
        terms(self.paths, where)  # a bad filter raises here, not at the first page
        if self.reads.psycopg and self.reads.subtree is not None:
            return self._fetched_pages(where, order, None, batch_size, conn)
        return self._pages_on(where, batch_size, conn)

    def _pages_on(self, where: Where | None, size: int, conn: Bind | None) -> Iterator[list[tuple[Any, Any]]]:
        """`pages` by SQLAlchemy (other drivers, recursive properties)."""
        conds, order = self.compile(where, None)
        after = None
        with self._reading(conn) as c:
            while True:
                items, after = self.page_on(c, conds, order, size, after)
                if items:
                    yield text_ids(items)
                if after is None:
                    return

    def _fetched_pages(
        self, where: Where | None, order: Order, limit: int | None, size: int, conn: Bind | None
    ) -> Iterator[list[tuple[Any, Any]]]:
        """Pages of (key as read, document) of several tables on psycopg's sync driver, in one snapshot: each
        page's rows read by `ReadPlan.fetch`, its documents built by `ReadPlan.from_subtree`."""
        filters = terms(self.paths, where)
        contiguous = not filters and not order.keys  # every document, in key order
        reads, root = self.reads, self.root
        with self._reading(conn) as c:
            cursor = reads.cursor(c)

            def fetch(after: list[Any] | None, count: int) -> list[list[Any]]:
                sql, params = self.page_statement(filters, order, count, after)
                try:
                    return reads.fetch(cursor, sql, params, contiguous)
                except Exception as exc:
                    raise self.read_error(exc) from exc

            count = size if limit is None else min(size, limit)
            if count <= 0:
                return
            after = None
            while True:
                fetched = fetch(after, count)
                rows = fetched[0]
                after = order.next_position(rows, count, root)
                limit = None if limit is None else limit - len(rows)
                count = size if limit is None else min(size, limit)
                items = reads.from_subtree(fetched)
                if items:
                    yield items
                if after is None or count <= 0:
                    return

    def direct_page(
        self, where: Where | None, order: Order, size: int, after: list[Any] | None, conn: sa.Connection | None = None
    ) -> tuple[list[tuple[Any, Any]], list[Any] | None]:
        """`page_on` by statements sent through psycopg, compiled once per form of the query: without `conn`, a
        document held in one row, one statement on a pooled connection; with it, the root's statement and each
        other table's in `conn`'s transaction (`ReadPlan.page`: the root's uuid columns read as text, and so the
        `after` values it gives)."""
        filters = terms(self.paths, where)
        sql, params = self.page_statement(filters, order, size, after)
        try:
            if conn is None:
                found = self.direct.run(sql, params)
            else:
                contiguous = not filters and not order.keys  # every document, in key order
                items, rows = self.reads.page(conn, sql, params, contiguous)
        except Exception as exc:
            raise self.read_error(exc) from exc
        if conn is None:
            return self.page_found(found, order, size)
        return items, order.next_position(rows, size, self.root)

    def page_found(
        self, rows: Sequence[Any], order: Order, size: int
    ) -> tuple[list[tuple[Any, Any]], list[Any] | None]:
        """The (id, document) pairs of the rows of `page_statement` for documents held in one row, and the
        position of the last when the page is full (more may follow), else None."""
        read = self.read_row
        try:
            items = [(row[0], read(row)) for row in rows]
        except culprit.UNREADABLE as exc:  # a stored value its decoder refuses (`culprit`)
            raise culprit.unreadable(self.root, rows, exc) from exc
        return items, order.next_position(rows, size, self.root)

    def page_statement(
        self, filters: Any, order: Order, size: int, after: list[Any] | None
    ) -> tuple[str, dict[str, Any]]:
        """The SQL of a page of root rows (compiled once per form of the query) and its parameters."""
        root = self.root
        after_shape = None if after is None else tuple(v is None for v in after[:-1])
        key = ("page", shape(filters), after_shape, tuple((t.path, d) for t, d in order.keys))
        values = bound(filters) + ([v for v in after if v is not None] if after is not None else [])
        params = {f"p{i}": v for i, v in enumerate(values)}

        def build() -> Any:
            bind = Binder(named=True)
            query = self.mapping.select(root).where(*where_of(filters, bind))
            if after is not None:
                query = query.where(order.after(root, after, bind))
            return query.order_by(*order.columns(root)).limit(sa.bindparam("limit", type_=sa.Integer()))

        params["limit"] = size
        return self.direct.sql(key, build), params

    def _stream(self, conds: list[Any], order: Order, limit: int | None, size: int, conn: Bind | None) -> Any:
        after = None
        with self._reading(conn) as c:
            while limit is None or limit > 0:
                items, after = self.page_on(c, conds, order, size if limit is None else min(size, limit), after)
                yield from items
                if after is None:
                    return
                limit = None if limit is None else limit - len(items)

    def page(
        self,
        where: Where | None = None,
        *,
        order_by: str | Sequence[str] | None = None,
        limit: int = 50,
        after: str | None = None,
        conn: Bind | None = None,
    ) -> Page[Any]:
        """One page of `find`; `Page.next` is the cursor to pass as `after` for the next one (keyset)."""
        amount("limit", limit, 1)
        order = Order.parse(self.paths, order_by)
        start = order.decode(after, self._key) if after else None
        if conn is None and self.direct.enabled:
            items, last = self.direct_page(where, order, limit, start)
        else:
            conds = where_clause(self.paths, where)
            with self._reading(conn, one_statement=self.one_table) as c:
                items, last = self.page_on(c, conds, order, limit, start)
        return Page(items, order.encode(last) if last is not None else None)

    def count(self, where: Where | None = None, *, conn: Bind | None = None) -> int:
        """How many documents match `where`."""
        if conn is None and self.direct.psycopg:  # one statement, atomic on its own: no transaction around it
            sql, params = self.count_statement(terms(self.paths, where))
            return int(self._direct_rows(sql, params)[0][0])
        conds, _ = self.compile(where, None)
        with self._reading(conn, one_statement=self.one_table) as c:
            return self.count_on(c, conds)

    def count_on(self, c: sa.Connection, conds: list[Any]) -> int:
        query = sa.select(sa.func.count()).select_from(self.root.sa_table).where(*self._top, *conds)
        return int(c.execute(query).scalar_one())

    def count_statement(self, filters: Any) -> tuple[str, dict[str, Any]]:
        """The SQL of `count` (compiled once per form of the filters) and its parameters."""

        def build() -> Any:
            conds = where_of(filters, Binder(named=True))
            return sa.select(sa.func.count()).select_from(self.root.sa_table).where(*self._top, *conds)

        params = {f"p{i}": v for i, v in enumerate(bound(filters))}
        return self.direct.sql(("count", shape(filters)), build), params

    def compile(self, where: Where | None, order_by: str | Sequence[str] | None) -> tuple[list[Any], Order]:
        return where_clause(self.paths, where), Order.parse(self.paths, order_by)

    def page_on(
        self, c: sa.Connection, conds: list[Any], order: Order, size: int, after: list[Any] | None
    ) -> tuple[list[tuple[Any, Any]], list[Any] | None]:
        """Up to `size` documents after the keyset position `after`; and the position of the last when the
        page is full (more may follow), else None."""
        root = self.root
        query = self.mapping.select(root).where(*self._top, *conds)
        if after is not None:
            query = query.where(order.after(root, after))
        rows: list[Any] = []
        contiguous = not conds and not self._top and not order.keys  # every document, in key order
        items = self._read(c, query.order_by(*order.columns(root)).limit(size), rows, contiguous)
        return items, order.next_position(rows, size, root)

    def exists(self, doc_id: Any, *, conn: Bind | None = None) -> bool:
        with self._reading(conn, one_statement=self.one_table) as c:
            return self.exists_on(c, doc_id)

    def exists_on(self, c: sa.Connection, doc_id: Any) -> bool:
        try:
            key = self._key(doc_id)
        except DocumentNotFound:
            return False
        query = sa.select(sa.literal(1)).select_from(self.root.sa_table).where(self._key_column == key, *self._top)
        return c.execute(query).first() is not None

    def items(self, batch_size: int = 500, *, conn: Bind | None = None) -> Iterator[tuple[Any, Any]]:
        """Every (id, document), by id, read `batch_size` documents at a time (one snapshot on PostgreSQL)."""
        return self.find(batch_size=batch_size, conn=conn)

    def __iter__(self) -> Iterator[Any]:
        return (document for _, document in self.items())

    def __len__(self) -> int:
        return self.count()

    def __contains__(self, doc_id: object) -> bool:
        return self.exists(doc_id)


def text_ids(items: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """(id, document) pairs with uuid ids as their text (what `pages` gives: what JSON holds)."""
    return [(str(k) if isinstance(k, uuid.UUID) else k, document) for k, document in items]


def sizes(limit: int | None, batch_size: int) -> None:
    """`find`'s counts checked (`query.amount`): a limit of 0 finds nothing, a batch reads at least one."""
    if limit is not None:
        amount("limit", limit, 0)
    amount("batch_size", batch_size, 1)
