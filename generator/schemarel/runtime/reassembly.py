"""Documents read back from their tables: statements built once per store, each table's rows merged by parent key.

Every table is read by one statement per page of documents (or per document for `get`), never per parent row;
the statements are built and compiled once (`ReadPlan`), so that the driver can keep them prepared (psycopg
prepares a statement it has run 5 times on a connection), and the rows of each table become nodes by a reader
compiled once per table (`direct.row_reader`). The tables come from the IR (`DocumentMap.tables`, parents
before children), so whatever kind of table normalization makes is read the way `DocumentMap.node`, `start` and
`attach` say.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from schemarel.runtime import marks
from schemarel.runtime.direct import row_reader
from schemarel.runtime.documents import DocumentMap
from schemarel.runtime.tablemap import TableMap

Rows = Iterable[Sequence[Any]]
Fetch = Callable[[TableMap, dict[Any, Any]], Rows]  # the rows of a table's nodes under these parents


class ReadPlan:
    """The read statements of one schema on one dialect, and the row readers of its tables."""

    def __init__(self, mapping: DocumentMap, dialect: sa.Dialect) -> None:
        self.mapping = mapping
        self.tables = mapping.tables
        self.readers = [row_reader(tm, partial(mapping.node, tm)) for tm in mapping.tables]
        self.postgresql = dialect.name == "postgresql"
        self.children = {tm.index: self._by_parents(tm) for tm in mapping.tables[1:]}
        # the rows of the root's children under a contiguous run of root keys (a page of every document in key
        # order): a range the index answers with or without statistics, and no key list to send
        self.ranged = {tm.index: self._by_range(tm) for tm in mapping.tables[1:] if tm.parent is mapping.root}
        self.psycopg = self.postgresql and dialect.driver == "psycopg" and not dialect.is_async
        self.dialect = dialect
        self._sql: dict[int, str] = {}
        # a document's rows by its root key, every table's statement independent of the others' results (so
        # that they can be sent together); documents nested by recursive properties need the rows read first
        self.subtree = None if mapping.root.links else [self._by_root(tm) for tm in mapping.tables]

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

    def run(self, conn: sa.Connection, statement: sa.Select[Any], parameters: dict[str, Any]) -> Rows:
        """The rows of one of the plan's statements: on psycopg's sync driver sent by the driver itself, in the
        connection's transaction, compiled once (SQLAlchemy's result rows cost more than reading them here)."""
        if not self.psycopg:
            return conn.execute(statement, parameters)
        driver: Any = conn.connection.driver_connection
        return driver.execute(self.sql(statement), parameters).fetchall()  # type: ignore[no-any-return]

    def sql(self, statement: sa.Select[Any]) -> str:
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
        """The document (none or one) from the rows of each `subtree` statement."""
        return self.assemble(results[0], lambda tm, parents: results[tm.index])

    def assemble(
        self,
        root_rows: Rows,
        fetch: Fetch,
        nested: Callable[[dict[Any, Any], list[Any]], None] | None = None,
    ) -> list[tuple[Any, Any]]:
        """Documents from their root rows and the rows `fetch` gives for each table, parents before children."""
        mapping = self.mapping
        nodes: list[dict[Any, Any]] = [{} for _ in self.tables]
        top = nodes[0]
        read = self.readers[0]
        result = []
        for row in root_rows:
            document = read(row)
            top[row[0]] = document
            result.append((row[0], document))
        if nested is not None and mapping.root.links:
            nested(top, list(top))
        for tm in self.tables[1:]:
            assert tm.parent is not None
            parents = nodes[tm.parent.index]
            if not parents:
                continue
            for parent in parents.values():
                mapping.start(tm, parent)
            read, attach, at = self.readers[tm.index], mapping.attach, tm.read_offset - 1
            held = nodes[tm.index] if tm.children else None
            for row in fetch(tm, parents):
                parent = parents.get(row[at])
                if parent is None:  # a row of a parent that is not read (a range wider than the page)
                    continue
                node = read(row)
                attach(tm, parent, node, row)
                if held is not None:
                    held[row[0]] = node
        return result


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
