"""Documents read back from their tables: statements built once per store, each table's rows merged by parent key.

Every table is read by one statement per page of documents (or per document for `get`), never per parent row;
the statements are built and compiled once (`ReadPlan`), so that the driver can keep them prepared (psycopg
prepares a statement it has run 5 times on a connection), and the rows of each table become nodes hung on their
parents by code compiled once per schema (`rowread.py`). The tables come from the IR (`DocumentMap.tables`, parents
before children), so whatever kind of table normalization makes is read the way `DocumentMap.node`, `start` and
`attach` say.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from schemarel.runtime import marks
from schemarel.runtime.culprit import UNREADABLE, unreadable
from schemarel.runtime.documents import DocumentMap
from schemarel.runtime.rowread import compile_reads
from schemarel.runtime.tablemap import TableMap

Rows = Iterable[Sequence[Any]]
WIDEST = 1_600  # columns of a statement reading a whole document at once (`ReadPlan._one_statement`)
Fetch = Callable[[TableMap, dict[Any, Any]], Rows]  # the rows of a table's nodes under these parents


class ReadPlan:
    """The read statements of one schema on one dialect, and the row readers of its tables."""

    def __init__(self, mapping: DocumentMap, dialect: sa.Dialect) -> None:
        self.mapping = mapping
        self.tables = mapping.tables
        self.readers, self.loads = compile_reads(mapping)  # each table's rows → nodes, hung on their parents
        self.postgresql = dialect.name == "postgresql"
        self.children = {tm.index: self._by_parents(tm) for tm in mapping.tables[1:]}
        # the rows of the root's children under a contiguous run of root keys (a page of every document in key
        # order): a range the index answers with or without statistics, and no key list to send
        self.ranged = {tm.index: self._by_range(tm) for tm in mapping.tables[1:] if tm.parent is mapping.root}
        self.psycopg = self.postgresql and dialect.driver == "psycopg" and not dialect.is_async
        self.dialect = dialect
        # pages read through psycopg take uuid columns as their text (see `cursor`): the root's keys, which
        # `documents` and `page` hand out, become uuids again
        root_key = mapping.root.sa_table.c[mapping.root.key]
        self.key_out: Callable[[Any], Any] | None = uuid.UUID if isinstance(root_key.type, sa.Uuid) else None
        self._sql: dict[int, str] = {}
        # a document's rows by its root key, every table's statement independent of the others' results (so
        # that they can be sent together); documents nested by recursive properties need the rows read first
        self.subtree = None if mapping.root.links else [self._by_root(tm) for tm in mapping.tables]
        self.whole, self._slices = self._one_statement() if self.postgresql else (None, [])

    def _one_statement(self) -> tuple[sa.CompoundSelect[Any] | None, list[tuple[int, int]]]:
        """Every `subtree` statement in one (PostgreSQL), for `get` on psycopg: one statement is one snapshot,
        so it needs no transaction (no BEGIN and COMMIT, one round trip: an async call's every wait is a turn
        of the event loop). Each table's rows are a UNION ALL branch: the table's index, then the columns of
        every table side by side, NULL but for its own (`_slices` says where each table's are), ordered by
        table and by the key of each array or map table, as `select` orders them. None where there is no
        subtree or the row would be too wide (PostgreSQL's target lists hold 1,664 entries)."""
        if self.subtree is None or len(self.subtree) < 2:
            return None, []
        columns = [list(s.selected_columns) for s in self.subtree]
        if sum(len(c) for c in columns) >= WIDEST:
            return None, []
        slices, at = [], 1
        for own in columns:
            slices.append((at, at + len(own)))
            at += len(own)
        branches = []
        for i, statement in enumerate(self.subtree):
            cells: list[Any] = [sa.literal_column(str(i), sa.Integer()).label("t")]
            for j, own in enumerate(columns):
                cells += [(c if i == j else _null(c)).label(f"c{slices[j][0] + n}") for n, c in enumerate(own)]
            branches.append(statement.with_only_columns(*cells, maintain_column_froms=True).order_by(None))
        keys = [f"c{slices[tm.index][0]}" for tm in self.tables if tm.table.kind in ("array", "map")]
        return sa.union_all(*branches).order_by(sa.literal_column("t"), *map(sa.literal_column, keys)), slices

    def split(self, rows: Sequence[Sequence[Any]]) -> list[list[Sequence[Any]]]:
        """The rows of `whole` as the rows of each `subtree` statement."""
        out: list[list[Sequence[Any]]] = [[] for _ in self.tables]
        slices = self._slices
        for row in rows:
            low, high = slices[row[0]]
            out[row[0]].append(row[low:high])
        return out

    def _by_parents(self, tm: TableMap) -> sa.Select[Any]:
        """The rows of `tm` under the parents whose keys are bound as `keys`: on PostgreSQL `fk = ANY(:keys)`,
        one array parameter, so one statement text whatever the count, which the driver can keep prepared.

        Before ANALYZE the planner prices `= ANY(500 keys)` as 500 default equalities and scans the whole table
        (85 ms a page of 500 at 20,000 documents: 19× the time for 10× the data): pages of every document read
        the root's children by `_by_range` instead, and bulk loads leave statistics behind (runtime/stats.py).
        """
        assert tm.fk is not None
        fk = tm.sa_table.c[tm.fk]
        query = self.mapping.select(tm)
        if not self.postgresql:
            return query.where(fk.in_(sa.bindparam("keys", expanding=True)))
        return query.where(fk == sa.any_(sa.bindparam("keys", type_=postgresql.ARRAY(fk.type))))

    def _by_range(self, tm: TableMap) -> sa.Select[Any]:
        """The rows of `tm` (a child of the root) whose parent key is between `low` and `high`, in the database's
        order: a range the index on the foreign key answers with or without statistics (a range's default
        selectivity is small), and no key list to send."""
        assert tm.fk is not None
        fk = tm.sa_table.c[tm.fk]
        low, high = sa.bindparam("low", type_=fk.type), sa.bindparam("high", type_=fk.type)
        return self.mapping.select(tm).where(fk.between(low, high))

    def _by_root(self, tm: TableMap) -> sa.Select[Any]:
        """The rows of `tm` in the document whose root key is bound as `root`: joined up to the root's child."""
        query = self.mapping.select(tm)
        node = tm
        while node.parent is not None and node.parent.parent is not None:
            parent = node.parent
            assert node.fk is not None
            query = query.join(parent.sa_table, node.sa_table.c[node.fk] == parent.sa_table.c[parent.key])
            node = parent
        column = node.sa_table.c[node.key if node.parent is None else str(node.fk)]
        return query.where(column == sa.bindparam("root", type_=column.type))

    def documents(
        self, conn: sa.Connection, root_query: Any, rows: list[Any] | None = None, contiguous: bool = False
    ) -> list[tuple[Any, Any]]:
        """(key, document) of the root rows `root_query` selects, with one statement per table for all of them;
        the root rows themselves are appended to `rows` when given. `contiguous`: the query selects every
        document whose key is between its first and its last row's, in key order (a page of `items()`)."""
        root_rows = list(conn.execute(root_query))
        if rows is not None:
            rows += root_rows
        bounds = {"low": root_rows[0][0], "high": root_rows[-1][0]} if contiguous and root_rows else None

        def fetch(tm: TableMap, parents: dict[Any, Any]) -> Rows:
            if bounds is not None and tm.index in self.ranged:
                return self.run(conn, self.ranged[tm.index], bounds)
            return self.run(conn, self.children[tm.index], {"keys": list(parents)})

        return self.assemble(root_rows, fetch, partial(read_nested, conn, self.mapping))

    def page(
        self, conn: sa.Connection, sql: str, parameters: dict[str, Any], contiguous: bool
    ) -> tuple[list[tuple[Any, Any]], list[Any]]:
        """`documents` on psycopg's sync driver, every statement sent by the driver in `conn`'s transaction: the
        (key, document) pairs of the root rows `sql` selects (compiled with `parameters` bound by name), and
        those root rows (uuid columns as text). No recursive properties (`subtree` is not None)."""
        fetched = self.fetch(self.cursor(conn), sql, parameters, contiguous)
        found = self.from_subtree(fetched)
        if self.key_out is not None:
            key_out = self.key_out
            found = [(key_out(key), document) for key, document in found]
        return found, fetched[0]

    def fetch(self, cursor: Any, sql: str, parameters: dict[str, Any], contiguous: bool) -> list[list[Any]]:
        """The rows of every table for one page (`page`), in table order, the root's first: read by `cursor`
        (see `cursor`), before any node is built (`from_subtree`). A table's rows are those under its parent's
        rows (by their keys, `row[0]`), or under the range of root keys of a `contiguous` page."""
        rows: list[list[Any]] = [cursor.execute(sql, parameters).fetchall()]
        root_rows = rows[0]
        bounds = {"low": root_rows[0][0], "high": root_rows[-1][0]} if contiguous and root_rows else None
        for tm in self.tables[1:]:
            assert tm.parent is not None
            parent_rows = rows[tm.parent.index]
            if not parent_rows:
                rows.append([])
            elif bounds is not None and tm.index in self.ranged:
                rows.append(cursor.execute(self.sql(self.ranged[tm.index]), bounds).fetchall())
            else:
                keys = [row[0] for row in parent_rows]
                rows.append(cursor.execute(self.sql(self.children[tm.index]), {"keys": keys}).fetchall())
        return rows

    def cursor(self, conn: sa.Connection) -> Any:
        """A psycopg cursor on `conn`'s connection, in its transaction (begun if it is not yet), that reads uuid
        columns as their text: parsing 120,000 uuids took half the time of reading 20,000 documents, and here
        keys only match rows to their parents (string keys hash in C; `key_out` makes the handed-out ids
        uuids again, and a uuid property's value is its text anyway)."""
        if not conn.in_transaction():
            conn.begin()  # what SQLAlchemy's autobegin would do at its first statement
        driver: Any = conn.connection.driver_connection
        cursor = driver.cursor()
        text = driver.adapters.get_loader(driver.adapters.types["text"].oid, 0)  # psycopg's own (C) text loader
        cursor.adapters.register_loader("uuid", text)
        return cursor

    def run(self, conn: sa.Connection, statement: sa.Select[Any], parameters: dict[str, Any]) -> Rows:
        """The rows of one of the plan's statements: on psycopg's sync driver sent by the driver itself, in the
        connection's transaction, compiled once (SQLAlchemy's result rows cost more than reading them here)."""
        if not self.psycopg:
            return conn.execute(statement, parameters)
        driver: Any = conn.connection.driver_connection
        return driver.execute(self.sql(statement), parameters).fetchall()  # type: ignore[no-any-return]

    def sql(self, statement: sa.Select[Any] | sa.CompoundSelect[Any]) -> str:
        """The SQL text of one of the plan's statements (they live as long as the plan), compiled once."""
        sql = self._sql.get(id(statement))
        if sql is None:
            sql = self._sql[id(statement)] = str(statement.compile(dialect=self.dialect))
        return sql

    def document(self, conn: sa.Connection, key: Any) -> list[tuple[Any, Any]] | None:
        """The document whose root key is `key` (a list of none or one), read by `subtree`; None where the
        schema has recursive properties (see `documents`)."""
        if self.subtree is None:
            return None
        return self.from_subtree([list(conn.execute(s, {"root": key})) for s in self.subtree])

    def from_subtree(self, results: Sequence[Sequence[Sequence[Any]]]) -> list[tuple[Any, Any]]:
        """The document (none or one) from the rows of each `subtree` statement; the documents of a page from
        the rows `fetch` read (the keys as read)."""
        return self.assemble(results[0], lambda tm, parents: results[tm.index])

    def assemble(
        self,
        root_rows: Rows,
        fetch: Fetch,
        nested: Callable[[dict[Any, Any], list[Any]], None] | None = None,
    ) -> list[tuple[Any, Any]]:
        """Documents from their root rows and the rows `fetch` gives for each table, parents before children."""
        nodes: list[dict[Any, Any]] = [{} for _ in self.tables]
        top = nodes[0]
        read = self.readers[0]
        result = []
        for row in root_rows:
            try:
                document = read(row)
            except UNREADABLE as exc:
                raise unreadable(self.tables[0], [row], exc) from exc
            top[row[0]] = document
            result.append((row[0], document))
        if nested is not None and self.mapping.root.links:
            nested(top, list(top))
        loads = self.loads
        for tm in self.tables[1:]:
            assert tm.parent is not None
            parents = nodes[tm.parent.index]
            if parents:
                try:
                    loads[tm.index](fetch(tm, parents), parents, nodes[tm.index] if tm.children else None)
                except UNREADABLE as exc:  # the rows again, to find the one (a result may be read only once)
                    raise unreadable(tm, fetch(tm, parents), exc) from exc
        return result


def _null(column: Any) -> Any:
    """A NULL of the column's type (so that every branch of a UNION gives each column one type)."""
    return sa.null() if isinstance(column.type, sa.types.NullType) else sa.cast(sa.null(), column.type)


def read_nested(conn: sa.Connection, mapping: DocumentMap, documents: dict[Any, Any], keys: list[Any]) -> None:
    """Documents nested in `keys` by recursive properties (rows of the root table), level by level."""
    root = mapping.root
    while keys and root.links:
        found = []
        for i, ref in enumerate(root.links):
            query = mapping.select(root).where(root.sa_table.c[ref.column].in_(keys))
            rows = sorted(conn.execute(query), key=lambda r: (r[1 + 2 * i + 1] or 0, str(r[0])))
            for row in rows:
                node = mapping.node(root, row)
                holder = documents[row[1 + 2 * i]]
                if ref.position:
                    marks.ensure(holder, ref.path, list).append(node)
                else:
                    marks.put(holder, ref.path, node)
                documents[row[0]] = node
                found.append(row[0])
        keys = found
