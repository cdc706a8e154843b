"""Documents ↔ rows: where each value of a document lives in the tables of its schema, read from the IR.

Every table stores one kind of document node (`Table.kind`): the root object, an optional object (a row when
present), or the items of an array (rows in item order, kept by the `bigserial` key). A column with a `path`
holds the value at that path inside the node; the other columns are keys, foreign keys and timestamps.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from schemarel.errors import ValueRejected
from schemarel.ir import Column, SchemaModel, SelfRef, Table
from schemarel.runtime import marks
from schemarel.runtime.marks import MISSING
from schemarel.runtime.marks import ensure as _ensure
from schemarel.runtime.marks import get as _get
from schemarel.runtime.marks import put as _set

if TYPE_CHECKING:  # imported where used: the docs' example rows are shredded here, on `check`'s path
    import sqlalchemy as sa
from schemarel.sql.kinds import KINDS

KeySource = Literal["client", "document", "parent", "server"]


@dataclass(frozen=True)
class Field:
    """A column holding a document value: where it lives in the node and how it converts."""

    column: str
    path: tuple[str, ...]  # () for the item of an array of scalars
    required: tuple[bool, ...]  # per step of `path`: required by the schema in its object
    json: bool
    to_db: Callable[[Any], Any] | None
    from_db: Callable[[Any], Any] | None
    default: Any = MISSING  # the schema's `default`, filled in when a required property is absent

    @property
    def always(self) -> bool:
        """Whether the node always holds this property (every step of the path is required)."""
        return all(self.required)


@dataclass
class TableMap:
    """How one table's rows are made from (and turned back into) the nodes it stores."""

    table: Table
    sa_table: sa.Table
    parent: TableMap | None
    index: int
    key: str  # primary key column
    key_source: KeySource
    fk: str | None  # column referencing the parent's key
    fields: tuple[Field, ...]
    columns: tuple[str, ...]  # the columns a write sets, in row order
    children: list[TableMap] = field(default_factory=list)
    prefixes: tuple[tuple[str, ...], ...] = ()  # flattened objects that exist whenever the node does
    tracked: dict[tuple[str, ...], str] = field(default_factory=dict)  # presence paths → what they hold
    links: tuple[SelfRef, ...] = ()  # recursive properties kept as rows of this same table

    @property
    def container(self) -> bool:
        """Whether a row's node is a list (a root array, or an item that is an array): its items are rows."""
        return any(c.table.kind == "array" and not c.table.parent_path for c in self.children)

    @property
    def deferred(self) -> bool:
        """Whether row keys are known only once the database (or a sequence) hands them out."""
        if self.key_source == "server":
            return True
        return self.key_source == "parent" and self.parent is not None and self.parent.deferred

    @property
    def needs_keys(self) -> bool:
        """A server-keyed table whose keys must be fetched: its children point at them, or it is the root."""
        return self.key_source == "server" and (bool(self.children) or self.parent is None)

    @property
    def read_offset(self) -> int:
        """Where field values start in a row of `DocumentMap.select`: after the key and the parent's key (or,
        in a table with recursive properties, the columns that link a row to the one that holds it)."""
        return 2 if self.fk and self.fk != self.key else 1 + 2 * len(self.links)

    def parent_key(self, row: Sequence[Any]) -> Any:
        return row[self.read_offset - 1]

    @property
    def key_position(self) -> int | None:
        if self.key_source == "server":
            return None
        if self.key_source == "document":
            return self.columns.index(self.key)
        return 0


@dataclass
class RowBatch:
    """Rows of one or more documents, per table, in write order; keys of server-keyed tables come later."""

    rows: list[list[list[Any]]]
    parents: list[list[int]]  # per table: the parent row of each row (used where parent keys are deferred)
    keys: list[list[Any]]  # per table: server-assigned keys, once fetched
    documents: int = 0

    def key_of(self, tm: TableMap, row: int) -> Any:
        if tm.key_source == "server":
            return self.keys[tm.index][row]
        position = tm.key_position
        assert position is not None
        return self.rows[tm.index][row][position]

    def fill_parent_keys(self, tm: TableMap) -> None:
        """Set the foreign key of `tm`'s rows from its parent's keys, fetched after the rows were built."""
        if tm.parent is None or not tm.parent.deferred:
            return
        position = tm.columns.index(tm.fk) if tm.fk else 0
        for row, parent_row in zip(self.rows[tm.index], self.parents[tm.index], strict=True):
            row[position] = self.key_of(tm.parent, parent_row)


class DocumentMap:
    """The document ↔ rows mapping of one schema, built generically from its IR tables."""

    def __init__(self, model: SchemaModel, metadata: sa.MetaData | None, json_absent: Any = None) -> None:
        """`metadata` None: rows are only built, never written or read (the docs' example rows)."""
        self.model = model
        self.json_absent = json_absent  # what an absent JSON property is written as (SQL NULL)
        self.tables: list[TableMap] = []
        by_name: dict[str, TableMap] = {}
        for table in model.tables:
            parent = by_name.get(table.parent) if table.parent else None
            sa_table = metadata.tables[table.name] if metadata is not None else cast("sa.Table", None)
            tm = _table_map(table, sa_table, parent, len(self.tables))
            if parent is not None:
                parent.children.append(tm)
            by_name[table.name] = tm
            self.tables.append(tm)
        for tm in self.tables:
            tm.tracked = _tracked_kinds(tm)
        self.root = self.tables[0]
        self.has_defaults = any(f.default is not MISSING for tm in self.tables for f in tm.fields)

    # -- writing ----------------------------------------------------------------------------------
    def new_batch(self) -> RowBatch:
        n = len(self.tables)
        return RowBatch([[] for _ in range(n)], [[] for _ in range(n)], [[] for _ in range(n)])

    def add(
        self, batch: RowBatch, document: Mapping[str, Any], key: Any = None, link: dict[str, Any] | None = None
    ) -> Any:
        """Append the rows of one (valid) document; returns its key, or None when the database assigns it.

        `link`: for a document nested in another by a recursive property, the columns saying where it is."""
        root = self.root
        if key is None and root.key_source == "client":
            key = uuid.uuid4()
        row = self._row(root, document, key, link or {})
        batch.rows[0].append(row)
        batch.documents += 1
        position = root.key_position
        doc_key = row[position] if position is not None else None
        index = len(batch.rows[0]) - 1
        for child in root.children:
            self._add_children(batch, child, document, doc_key, index)
        for ref in root.links:
            value = _get(document, ref.path)
            nested = value if ref.position and isinstance(value, list) else [value] if isinstance(value, dict) else []
            for position, item in enumerate(nested):
                self.add(batch, item, link={ref.column: doc_key, **({ref.position: position} if ref.position else {})})
        return doc_key

    def _add_children(self, batch: RowBatch, tm: TableMap, node: Mapping[str, Any], key: Any, index: int) -> None:
        value = _get(node, tm.table.parent_path)
        if tm.table.kind == "object":
            if value is MISSING or value is None:
                return
            items: Sequence[Any] = (value,)
        else:
            items = value if isinstance(value, list) else ()
        rows, parents = batch.rows[tm.index], batch.parents[tm.index]
        for item in items:
            rows.append(self._row(tm, item, key))
            parents.append(index)
            if tm.children:
                child_key = key if tm.key_source == "parent" else None
                for child in tm.children:
                    self._add_children(batch, child, item, child_key, len(rows) - 1)

    def _row(self, tm: TableMap, node: Any, key: Any, link: Mapping[str, Any] | None = None) -> list[Any]:
        row: list[Any] = [key] if tm.key_source in ("client", "parent") or tm.fk else []
        table = tm.table
        for f in tm.fields:
            if not f.path:
                value = node
            elif node is None:  # a null object (an array item, a nullable object's row)
                value = MISSING
            elif not isinstance(node, dict):  # valid where the schema gives no `type`, but stored as an object
                raise ValueRejected(f"{table.name}: {node!r} where the tables hold an object")
            elif len(f.path) == 1:
                value = node.get(f.path[0], MISSING)
            else:
                value = _get(node, f.path)
            if f.json:
                row.append(self.json_absent if value is MISSING else value)
            elif value is MISSING or value is None:
                row.append(None)
            elif f.to_db is None:
                row.append(value)
            else:
                row.append(_convert(tm, f, value))
        absent = self.json_absent
        if table.presence_column:
            row.append(marks.presence(table.presence_paths, node) or absent)
        if table.extra_column:
            row.append(marks.extras(table.open_objects, node) or absent)
        for ref in tm.links:
            row.append((link or {}).get(ref.column))
            if ref.position:
                row.append((link or {}).get(ref.position))
        return row

    def with_defaults(self, document: Any) -> Any:
        """The document with schema `default`s filled in for absent required properties (a copy if any)."""
        if not self.has_defaults or not isinstance(document, dict):
            return document
        gaps = list(self._gaps(document))
        if not gaps:
            return document
        filled = copy.deepcopy(document)
        for node, f in self._gaps(filled):
            _set(node, f.path, copy.deepcopy(f.default))
        return filled

    def _gaps(self, document: dict[str, Any]) -> Iterator[tuple[dict[str, Any], Field]]:
        for tm, node in self._nodes(self.root, document):
            for f in tm.fields:
                if f.default is not MISSING and f.always and _get(node, f.path) is MISSING:
                    yield node, f

    def _nodes(self, tm: TableMap, node: Any) -> Iterator[tuple[TableMap, dict[str, Any]]]:
        if not isinstance(node, dict):
            return
        yield tm, node
        for child in tm.children:
            value = _get(node, child.table.parent_path)
            for item in value if isinstance(value, list) and child.table.kind == "array" else [value]:
                yield from self._nodes(child, item)

    # -- reading ----------------------------------------------------------------------------------
    def select(self, tm: TableMap) -> sa.Select[Any]:
        """The read query of a table: key, parent key (or links), field columns, a SQL-NULL flag per JSON column,
        then the presence and extra columns.

        A JSON column reads back as None both for SQL NULL (the property was absent) and for JSON null,
        so `IS NULL` is asked separately.
        """
        import sqlalchemy as sa

        t = tm.sa_table
        cols: list[Any] = [t.c[tm.key]] + ([t.c[tm.fk]] if tm.fk and tm.fk != tm.key else [])
        for ref in tm.links:
            cols += [t.c[ref.column], t.c[ref.position] if ref.position else sa.null()]
        cols += [t.c[f.column] for f in tm.fields]
        cols += [t.c[f.column].is_(None) for f in tm.fields if f.json]
        cols += [t.c[c] for c in _system_columns(tm.table)]
        query = sa.select(*cols)
        return query.order_by(t.c[tm.key]) if tm.table.kind == "array" else query

    def node(self, tm: TableMap, row: Sequence[Any]) -> Any:
        """The document node a row stores (read with `select(tm)`)."""
        start = tm.read_offset
        values = row[start : start + len(tm.fields)]
        system = dict(zip(_system_columns(tm.table), row[len(row) - len(_system_columns(tm.table)) :], strict=True))
        presence, extra = system.get(tm.table.presence_column or ""), system.get(tm.table.extra_column or "")
        if tm.table.json_root:
            return values[0]
        if tm.container:
            return marks.restore({}, presence, {}, None) if presence else []
        if tm.table.value_column is not None and len(tm.fields) == 1 and not tm.fields[0].path:
            f = tm.fields[0]
            value = values[0]
            return f.from_db(value) if value is not None and f.from_db else value
        flags = iter(row[start + len(tm.fields) :])
        node: dict[str, Any] = {}
        nulls: list[Field] = []
        for f, value in zip(tm.fields, values, strict=False):
            if f.json:
                if not next(flags):
                    _set(node, f.path, value)
            elif value is None:
                if f.required[-1]:
                    nulls.append(f)
            else:
                _set(node, f.path, f.from_db(value) if f.from_db else value)
        for prefix in tm.prefixes:
            _ensure(node, prefix)
        for f in nulls:  # a NULL of a required property is a null, wherever its object is there
            container = _get(node, f.path[:-1])
            if isinstance(container, dict):
                container[f.path[-1]] = None
        restored = marks.restore(node, presence, tm.tracked, extra)
        for ref in tm.links:  # a required recursive array is there even when no row is nested in it
            if ref.position and ref.path not in tm.tracked and isinstance(restored, dict):
                _ensure(restored, ref.path, list)
        return restored

    def attach(self, tm: TableMap, parent_node: Any, node: Any) -> None:
        """Put a child node (an object, or one more array item) at its place in the parent node."""
        path = tm.table.parent_path
        if tm.table.kind == "array" and not path:
            parent_node.append(node)  # the parent's node is the list itself
        elif tm.table.kind == "array":
            _ensure(parent_node, path, list).append(node)
        else:
            _set(parent_node, path, node)

    def start(self, tm: TableMap, parent_node: Any) -> None:
        """A required array is always in its parent node, even when no row holds an item (an optional one is
        there when the parent's presence marks say so)."""
        path = tm.table.parent_path
        assert tm.parent is not None
        if tm.table.kind == "array" and path and path not in tm.parent.tracked and isinstance(parent_node, dict):
            _ensure(parent_node, path, list)


def _system_columns(table: Table) -> tuple[str, ...]:
    return tuple(c for c in (table.presence_column, table.extra_column) if c)


def _tracked_kinds(tm: TableMap) -> dict[tuple[str, ...], str]:
    """What each path the presence column tracks holds: "array" and "object" are rebuilt empty when present."""
    kinds = {}
    for path in tm.table.presence_paths:
        if not path:
            continue
        child = next((c for c in tm.children if c.table.parent_path == path), None)
        link = next((ref for ref in tm.links if ref.path == path), None)
        if (child is not None and child.table.kind == "array") or (link is not None and link.position):
            kinds[path] = "array"
        elif child is None and link is None and any(f.path[: len(path)] == path and len(f.path) > len(path)
                                                    for f in tm.fields):  # fmt: skip
            kinds[path] = "object"
        else:
            kinds[path] = "value"
    return kinds


def _convert(tm: TableMap, f: Field, value: Any) -> Any:
    assert f.to_db is not None
    try:
        return f.to_db(value)
    except (ValueError, TypeError, OverflowError) as exc:  # valid by the schema, not storable (year 0, 23:59:60)
        where = ".".join(f.path) or "item"
        raise ValueRejected(f"{where} ({tm.table.name}.{f.column}) = {value!r}: {exc}") from None


def _table_map(table: Table, sa_table: sa.Table, parent: TableMap | None, index: int) -> TableMap:
    key = table.primary_key.columns[0]
    parent_fk = table.parent_fk
    fk = parent_fk.columns[0] if parent_fk else None
    fields = tuple(_field(c, table) for c in table.columns if c.path or c.name in (table.value_column, table.json_root))
    field_names = {f.column for f in fields}
    key_column = table.column(key)
    source: KeySource
    if key == fk:
        source = "parent"
    elif key in field_names:
        source = "document"
    elif key_column.default is not None and key_column.default.kind == "uuid":
        source = "client"
    elif key_column.default is not None and key_column.default.kind == "sequence":
        source = "server"
    else:
        raise NotImplementedError(f"table {table.name}: no way to give key column {key} a value")
    leading = [key] if source == "client" else []
    if fk:
        leading = [fk]
    links = [c for ref in table.self_refs for c in (ref.column, ref.position) if c]
    columns = (*leading, *(f.column for f in fields), *_system_columns(table), *links)
    for column in table.columns:
        if column.name not in columns and column.default is None and not column.nullable and column.name != key:
            raise NotImplementedError(
                f"table {table.name}: column {column.name} holds no document value and has no default"
            )
    return TableMap(
        table=table,
        sa_table=sa_table,
        parent=parent,
        index=index,
        key=key,
        key_source=source,
        fk=fk,
        fields=fields,
        columns=columns,
        prefixes=_required_prefixes(fields),
        links=table.self_refs,
    )


def _field(column: Column, table: Table) -> Field:
    kind = KINDS[column.type.kind]
    to_db, from_db = kind.to_db, kind.from_db
    default = column.default.value if column.default is not None and column.default.kind == "literal" else MISSING
    required = column.path_required or (True,) * len(column.path)
    return Field(column.name, column.path, required, column.type.kind == "json", to_db, from_db, default)


def _required_prefixes(fields: Sequence[Field]) -> tuple[tuple[str, ...], ...]:
    """Flattened objects along field paths that the schema requires: they exist even when left empty."""
    found = {
        f.path[:n] for f in fields for n in range(1, len(f.path)) if all(f.required[:n])
    }  # fmt: skip
    return tuple(sorted(found, key=len))
