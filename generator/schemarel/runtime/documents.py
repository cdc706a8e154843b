"""Documents ↔ rows: where each value of a document lives in the tables of its schema, read from the IR.

Every table stores one kind of document node (`Table.kind`): the root object, an optional object (a row when
present), the items of an array (rows in item order, kept by the `bigserial` key), or the values of a map
(a row per key, in key order the same way; the key in `Table.entries.key_column`). A column with a `path`
holds the value at that path inside the node; the other columns are keys, foreign keys and timestamps.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from schemarel.errors import ValueRejected
from schemarel.ir import SchemaModel
from schemarel.runtime import exactjson, marks
from schemarel.runtime.keys import new_key
from schemarel.runtime.marks import MISSING
from schemarel.runtime.marks import ensure as _ensure
from schemarel.runtime.marks import get as _get
from schemarel.runtime.marks import put as _set
from schemarel.runtime.rowplan import RowPlan, compile_plan
from schemarel.runtime.tablemap import (
    Field,
    RowBatch,
    TableMap,
    convert,
    json_kind,
    nested_prefixes,
    raw,
    system_columns,
    table_map,
    tracked_kinds,
    with_objects,
)
from schemarel.runtime.values import depth
from schemarel.schema.defaults import defaults
from schemarel.schema.jsontext import locate
from schemarel.sql.conversions import NUMBER_KINDS, respelled

if TYPE_CHECKING:  # imported where used: the docs' example rows are shredded here, on `check`'s path
    import sqlalchemy as sa


class DocumentMap:
    """The document ↔ rows mapping of one schema, built generically from its IR tables."""

    def __init__(
        self,
        model: SchemaModel,
        metadata: sa.MetaData | None,
        json_depth: int | None = None,
        sqlite: bool = False,
        contents: Any = None,
        raw: Mapping[str, Callable[[Any], Any] | None] | None = None,
        compiled: bool | None = None,
    ) -> None:
        """`metadata` None: rows are only built, never written or read through SQLAlchemy (the docs' example rows,
        `copyload`'s COPY text);
        `json_depth`: the deepest JSON value the database's JSON columns accept (MariaDB: 31 levels);
        `sqlite`: JSON columns have numeric affinity there (see `json_text`); `contents`: the schema, whose
        `default`s are filled in wherever a value is stored (JSON columns too; without it, columns' only);
        `raw`: per column kind read without SQLAlchemy's result processing, its decoder (None: the field's own;
        `rawread.raw_decoders`); `compiled`: whether rows are built by code compiled for the schema (default:
        with `metadata`)."""
        self.model = model
        self.defaults = defaults(contents) if contents is not None else None
        self.json_depth = json_depth
        self.sqlite = sqlite
        self.raw = frozenset(raw or ())
        self.tables: list[TableMap] = []
        by_name: dict[str, TableMap] = {}
        for table in model.tables:
            parent = by_name.get(table.parent) if table.parent else None
            sa_table = metadata.tables[table.name] if metadata is not None else cast("sa.Table", None)
            tm = table_map(table, sa_table, parent, len(self.tables))
            if parent is not None:
                parent.children.append(tm)
            by_name[table.name] = tm
            self.tables.append(tm)
        for tm in self.tables:
            tm.tracked = tracked_kinds(tm)
            tm.prefixes = nested_prefixes(tm)
            tm.fields = with_objects(tm)
            if raw:
                tm.fields = tuple(
                    replace(f, from_db=raw[f.kind]) if raw.get(f.kind) is not None else f for f in tm.fields
                )
        self.root = self.tables[0]
        self.holds = _root_holds(self.root)
        self.has_defaults = any(f.default is not MISSING for tm in self.tables for f in tm.fields)
        # the rows of documents to be written are built by code compiled for this schema (rowplan.py), at the
        # first document; the docs' example rows (no metadata) are a few documents each: the generic way.
        # `compiled` says otherwise (True: a load's rows without metadata)
        self._plan: RowPlan | None = None
        self._compiled = not compiled if compiled is not None else metadata is None

    # -- writing ----------------------------------------------------------------------------------
    def new_batch(self) -> RowBatch:
        n = len(self.tables)
        return RowBatch([[] for _ in range(n)], [[] for _ in range(n)], [[] for _ in range(n)])

    def add(
        self, batch: RowBatch, document: Mapping[str, Any], key: Any = None, link: dict[str, Any] | None = None
    ) -> Any:
        """Append the rows of one (valid) document; returns its key, or None when the database assigns it.

        `link`: for a document nested in another by a recursive property, the columns saying where it is."""
        if not self._compiled:
            self._plan = compile_plan(self)
            self._compiled = True
        if link is not None:  # a nested document: the outermost `add` says where its values sit
            return self.add_generic(batch, document, key, link)
        if self.holds is not None and not isinstance(document, self.holds):
            # valid where the root's `type` allows it (or is not given), but no row holds it: a map or array
            # root would keep nothing of it, an object root a row of NULLs (read back as {} or [])
            raise ValueRejected(
                f"{self.root.table.name}: the document is {_a(json_kind(document))} where the tables hold "
                f"{_a(json_kind(self.holds()))}"
            )
        try:
            if self._plan is not None:
                return self._plan.add(batch, document, key)
            return self.add_generic(batch, document, key, link)
        except ValueRejected as exc:
            if not exc.unplaced:
                raise
            raise exc.located(locate(document, exc.value)) from None

    def add_generic(
        self, batch: RowBatch, document: Mapping[str, Any], key: Any = None, link: dict[str, Any] | None = None
    ) -> Any:
        """`add` by the generic mapping (the reference the compiled plan is tested against)."""
        root = self.root
        if key is None and root.key_source == "client":
            key = new_key()
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
        keys: Sequence[str] | None = None
        if tm.table.kind == "object":
            if not isinstance(value, dict):  # absent, null, or the scalar the columns of a union hold
                return
            items: Sequence[Any] = (value,)
        elif tm.table.kind == "map":
            pairs = marks.entries(tm.table, node)
            keys, items = [k for k, _ in pairs], [v for _, v in pairs]
        else:
            items = value if isinstance(value, list) else ()
        rows, parents = batch.rows[tm.index], batch.parents[tm.index]
        for i, item in enumerate(items):
            rows.append(self._row(tm, item, key, entry=keys[i] if keys is not None else None))
            parents.append(index)
            if tm.children:
                child_key = key if tm.key_source == "parent" else None
                for child in tm.children:
                    self._add_children(batch, child, item, child_key, len(rows) - 1)

    def _row(
        self, tm: TableMap, node: Any, key: Any, link: Mapping[str, Any] | None = None, entry: str | None = None
    ) -> list[Any]:
        """The row of a node: JSON columns as JSON text (None for SQL NULL), the rest converted to column values;
        `entry`: in a map table, the key whose value the node is."""
        row: list[Any] = [key] if tm.key_source in ("client", "parent") or tm.fk else []
        table = tm.table
        spelled: dict[str, str] = {}
        misfits: dict[tuple[str, ...], Any] = {}
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
                row.append(None if value is MISSING else self.json_text(tm, f.column, value))
            elif value is MISSING or (value is None and f.null_kept):
                row.append(None)
            elif value is None:  # null where a branch that does not name the property allows it
                row.append(None)
                misfits[f.path] = None
            elif f.accepts is not None and not f.fits(value):  # another column of a union holds it, or none
                row.append(None)
                if f.kind_of(value) not in f.others:
                    misfits[f.path] = value
            elif f.to_db is None:
                row.append(raw(tm, f, value))
            else:
                stored = convert(tm, f, value)
                row.append(stored)
                assert f.from_db is not None
                text = respelled(f.kind, value, stored, f.from_db)
                if text is not None:
                    spelled[marks.relative(f.path)] = text
        if tm.map_key is not None:
            row.append(entry)
        extra = marks.extras(table.open_objects, node)
        if misfits:
            extra = _misfits(table.name, table.extra_column, extra, misfits)
        system = {
            table.presence_column: marks.presence(table.presence_paths, node),
            table.extra_column: extra,
            table.spelling_column: spelled,
        }
        row += [self.json_text(tm, c, system[c]) if system[c] else None for c in system_columns(table)]
        for ref in tm.links:
            row.append((link or {}).get(ref.column))
            if ref.position:
                row.append((link or {}).get(ref.position))
        return row

    def json_text(self, tm: TableMap, column: str, value: Any) -> str | bytes:
        """A JSON value as exact JSON text (the writers bind it as text; SQL NULL is None)."""
        if self.json_depth is not None and depth(value) > self.json_depth:
            raise ValueRejected(
                f"{tm.table.name}.{column}: a JSON value nested {depth(value)} levels deep, the database's JSON "
                f"columns hold {self.json_depth}"
            )
        text = exactjson.dumps(value)
        if self.sqlite and isinstance(value, float | Decimal | int) and not _int64(value):
            # SQLite's JSON column has numeric affinity: it would store the text `2.50` as the double 2.5;
            # bytes are kept as they are, and read back as text by the CAST of `select`
            return text.encode()
        return text

    def values(self, tm: TableMap, row: Sequence[Any], dialect: sa.Dialect) -> dict[str, Any]:
        """A row as the values of an UPDATE or INSERT … SELECT: JSON text as JSON column values."""
        import sqlalchemy as sa

        t = tm.sa_table
        return {
            c: sa.null() if v is None else json_value(t.c[c], sa.literal(v, sa.Text()), dialect)
            if isinstance(t.c[c].type, sa.JSON) else v
            for c, v in zip(tm.columns, row, strict=True)
        }  # fmt: skip

    def with_defaults(self, document: Any) -> Any:
        """The document with schema `default`s filled in for absent required properties (a copy if any): by
        the schema's rule (`schema/defaults.py`, which the typed documents follow), then the columns' own."""
        if not isinstance(document, dict):
            return document
        filling = self.defaults is not None and self.defaults.missing(document)
        if not filling and not (self.has_defaults and any(True for _ in self._gaps(document))):
            return document
        filled = copy.deepcopy(document)
        if filling and self.defaults is not None:
            self.defaults.fill(filled)
        for node, f in self._gaps(filled) if self.has_defaults else ():
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
            if child.table.kind == "map":
                items = [v for _, v in marks.entries(child.table, node)]
            else:
                items = value if isinstance(value, list) and child.table.kind == "array" else [value]
            for item in items:
                yield from self._nodes(child, item)

    # -- reading ----------------------------------------------------------------------------------
    def select(self, tm: TableMap) -> sa.Select[Any]:
        """The read query of a table: key, parent key (or links), field columns, then the system columns.

        JSON columns are read as their text (SQL NULL: the property was absent; `null`: it was null), which
        `node` parses exactly: a driver's own JSON decoding would turn numbers into floats. The `raw` kinds are
        read as the driver gives them, for their decoders to refuse what no value of the kind is (`rawread`).
        """
        import sqlalchemy as sa

        t = tm.sa_table
        cols: list[Any] = [t.c[tm.key]] + ([t.c[tm.fk]] if tm.fk and tm.fk != tm.key else [])
        for ref in tm.links:
            cols += [t.c[ref.column], t.c[ref.position] if ref.position else sa.null()]
        cols += [self._read_column(t.c[f.column], f) for f in tm.fields]
        cols += [t.c[tm.map_key]] if tm.map_key else []
        cols += [sa.cast(t.c[c], sa.Text()) for c in system_columns(tm.table)]
        query = sa.select(*cols)
        return query.order_by(t.c[tm.key]) if tm.table.kind in ("array", "map") else query

    def _read_column(self, column: sa.Column[Any], f: Field) -> Any:
        """A field's column as `select` reads it: JSON as its text, a `raw` kind as the driver gives it."""
        import sqlalchemy as sa

        if f.json:
            return sa.cast(column, sa.Text())
        if f.kind in self.raw:
            return sa.type_coerce(column, sa.types.NullType())
        return column

    def node(self, tm: TableMap, row: Sequence[Any]) -> Any:
        """The document node a row stores (read with `select(tm)`)."""
        start = tm.read_offset
        values = row[start : start + len(tm.fields)]
        names = system_columns(tm.table)
        system = {c: _parsed(v) for c, v in zip(names, row[len(row) - len(names) :], strict=True)}
        presence, extra = system.get(tm.table.presence_column or ""), system.get(tm.table.extra_column or "")
        spelled = system.get(tm.table.spelling_column or "") or {}
        if tm.table.json_root:
            return _parsed(values[0])
        if tm.container:
            return marks.restore({}, presence, {}, None) if presence else []
        if tm.table.value_column is not None and len(tm.fields) == 1 and not tm.fields[0].path:
            return _value(tm.fields[0], values[0], spelled)
        node: dict[str, Any] = {}
        nulls: list[Field] = []
        for f, value in zip(tm.fields, values, strict=False):
            if f.json:
                if value is not None:
                    _set(node, f.path, _parsed(value))
            elif value is None:
                if f.required[-1]:
                    nulls.append(f)
            else:
                _set(node, f.path, _value(f, value, spelled))
        for prefix in tm.prefixes:
            _ensure(node, prefix)
        for f in nulls:  # a NULL of a required property is a null, wherever its object is there
            container = _get(node, f.path[:-1])
            if isinstance(container, dict) and f.path[-1] not in container:  # a union's other column has it
                container[f.path[-1]] = None
        restored = marks.restore(node, presence, tm.tracked, extra)
        for ref in tm.links:  # a required recursive array is there even when no row is nested in it
            if ref.position and ref.path not in tm.tracked and isinstance(restored, dict):
                _ensure(restored, ref.path, list)
        return restored

    def attach(self, tm: TableMap, parent_node: Any, node: Any, row: Sequence[Any] = ()) -> None:
        """Put a child node (an object, one more array item, or the value of a map entry: its key is read from
        the `row`) at its place in the parent node."""
        path = tm.table.parent_path
        if tm.map_key is not None:
            target = _ensure(parent_node, path) if path else parent_node
            target[row[tm.read_offset + len(tm.fields)]] = node
        elif tm.table.kind == "array" and not path:
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
        elif required_map(tm, path) and isinstance(parent_node, dict):
            _ensure(parent_node, path)  # a required map: `{}` when no row holds an entry


def _root_holds(root: TableMap) -> type | None:
    """What a document must be for the root's rows to hold it: a dict (columns, maps, child tables of its
    properties), a list (the rows of an array root), or anything (None: a document kept whole as one value)."""
    if len(root.fields) == 1 and not root.fields[0].path:
        return None
    items = any(c.table.kind == "array" and not c.table.parent_path for c in root.children)
    properties = any(f.path for f in root.fields) or any(
        c.table.parent_path or c.table.kind != "array" for c in root.children
    )
    if items and properties:  # both shapes have rows: each goes its own way
        return None
    return list if items else dict


def _a(kind: str) -> str:
    return {"null": "null", "array": "an array", "object": "an object", "integer": "an integer"}.get(kind, f"a {kind}")


def required_map(tm: TableMap, path: tuple[str, ...]) -> bool:
    """A map that is a whole property, present whenever its parent node is (no presence mark says otherwise)."""
    entries, parent = tm.table.entries, tm.parent
    if entries is None or not entries.whole or not path or parent is None:
        return False
    return not any(path[:n] in parent.tracked for n in range(1, len(path) + 1))


def json_value(column: sa.Column[Any], text: Any, dialect: sa.Dialect) -> Any:
    """JSON text (a text bind parameter or literal) as the value of a JSON column: cast to jsonb on PostgreSQL;
    elsewhere JSON columns are text. SQLAlchemy's JSON type would encode the text once more."""
    import sqlalchemy as sa

    return sa.cast(text, column.type) if dialect.name == "postgresql" else text


def _int64(value: Any) -> bool:
    return isinstance(value, int) and -(2**63) <= value < 2**63


def _parsed(text: str | None) -> Any:
    return None if text is None else exactjson.stored(text)


def _value(f: Field, value: Any, spelled: Mapping[str, str]) -> Any:
    """A column's value as the document had it: the text kept in the spelling column, else the column's own."""
    if value is None or f.json:
        return _parsed(value)
    text = spelled.get(marks.relative(f.path))
    if text is not None:
        return exactjson.stored(text) if f.kind in NUMBER_KINDS else text
    return f.from_db(value) if f.from_db else value


def _misfits(
    table: str, column: str | None, extra: dict[str, Any] | None, misfits: Mapping[tuple[str, ...], Any]
) -> dict[str, Any]:
    """The row's unnamed properties with the values no column of their path holds (a branch of a union that
    does not name the property gives it any value): kept, and read back, with them."""
    if column is None:
        path, value = next(iter(misfits.items()))
        raise ValueRejected(f"{table}: {'.'.join(path)} = {value!r} fits none of its columns")
    found = dict(extra or {})
    for path, value in misfits.items():
        where = marks.relative(path[:-1])
        found[where] = {**found.get(where, {}), path[-1]: value}
    return found
