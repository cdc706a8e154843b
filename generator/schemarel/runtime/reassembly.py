"""Documents read back from their tables: the root rows a query selects, then each table's rows by parent key."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from schemarel.runtime import marks
from schemarel.runtime.documents import DocumentMap


def read_documents(
    conn: sa.Connection, mapping: DocumentMap, root_query: Any, rows: list[Any] | None = None
) -> list[tuple[Any, Any]]:
    """(key, document) of the root rows `root_query` selects: one query per table, children by parent keys;
    the root rows themselves are appended to `rows` when given."""
    root = mapping.root
    nodes: list[dict[Any, Any]] = [{} for _ in mapping.tables]
    result = []
    for row in conn.execute(root_query):
        if rows is not None:
            rows.append(row)
        document = mapping.node(root, row)
        nodes[0][row[0]] = document
        result.append((row[0], document))
    read_nested(conn, mapping, nodes[0], list(nodes[0]))
    for tm in mapping.tables[1:]:
        assert tm.parent is not None and tm.fk is not None
        parents = nodes[tm.parent.index]
        if not parents:
            continue
        for parent in parents.values():
            mapping.start(tm, parent)
        query = mapping.select(tm).where(tm.sa_table.c[tm.fk].in_(list(parents)))
        for row in conn.execute(query):
            node = mapping.node(tm, row)
            mapping.attach(tm, parents[tm.parent_key(row)], node)
            if tm.children:
                nodes[tm.index][row[0]] = node
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
