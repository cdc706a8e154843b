"""How each table of a schema holds its nodes: the fields of its columns, its keys, and the rows of a batch.

Built once per schema from the IR (`table_map`), used by `documents.DocumentMap` to write and read rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from schemarel.errors import ValueRejected
from schemarel.ir import Column, SelfRef, Table
from schemarel.runtime.marks import MISSING
from schemarel.sql.kinds import KINDS

if TYPE_CHECKING:
    import sqlalchemy as sa

KeySource = Literal["client", "document", "parent", "server"]


@dataclass(frozen=True)
class Field:
    """A column holding a document value: where it lives in the node and how it converts."""

    column: str
    kind: str  # the column's type kind
    path: tuple[str, ...]  # () for the item of an array of scalars
    required: tuple[bool, ...]  # per step of `path`: required by the schema in its object
    json: bool
    to_db: Callable[[Any], Any] | None
    from_db: Callable[[Any], Any] | None
    default: Any = MISSING  # the schema's `default`, filled in when a required property is absent
    # JSON types of the values the column holds (None: any); `others`: those other columns of the same path
    # hold (a union of scalars). A value neither takes is kept with the row's unnamed properties.
    accepts: frozenset[str] | None = None
    others: frozenset[str] = frozenset()
    null_kept: bool = True  # a null here reads back as null (required, or kept by the presence marks)

    def fits(self, value: Any) -> bool:
        return self.accepts is None or self.kind_of(value) in self.accepts

    def kind_of(self, value: Any) -> str:
        """The JSON type of `value` among this path's columns: a number with no fraction (`1.0`, `1e2`) is an
        integer, as JSON Schema counts it, where no column of the path holds numbers (they keep its spelling);
        otherwise such a value would pass validation and then be kept beside the integer column, leaving it
        NULL (a required one refused, a filter missing it, its range unchecked)."""
        kind = json_kind(value)
        if kind != "number":  # most values: no set built (this runs for every value of a typed column)
            return kind
        held = (self.accepts or frozenset()) | self.others
        if "integer" not in held or "number" in held:
            return kind
        return "integer" if _integral(value) else kind

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
    map_key: str | None = None  # a map table's key column (written and read after the fields)

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
    texts: dict[int, bytes] = field(default_factory=dict)  # per table: its rows as COPY text, made ahead

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


def system_columns(table: Table) -> tuple[str, ...]:
    return tuple(c for c in (table.presence_column, table.extra_column, table.spelling_column) if c)


def tracked_kinds(tm: TableMap) -> dict[tuple[str, ...], str]:
    """What each path the presence column tracks holds: "array" and "object" are rebuilt empty when present."""
    kinds = {}
    for path in tm.table.presence_paths:
        if not path:
            continue
        child = next((c for c in tm.children if c.table.parent_path == path), None)
        link = next((ref for ref in tm.links if ref.path == path), None)
        if (child is not None and child.table.kind == "array") or (link is not None and link.position):
            kinds[path] = "array"
        elif child is not None and child.table.kind == "map":
            kinds[path] = "object"  # a map: present and empty is `{}`
        elif child is None and link is None and (any(f.path[: len(path)] == path and len(f.path) > len(path)
                                                     for f in tm.fields)
                                                 or any(o.path == path for o in tm.table.open_objects)):  # fmt: skip
            kinds[path] = "object"
        else:
            kinds[path] = "value"
    return kinds


def nested_prefixes(tm: TableMap) -> tuple[tuple[str, ...], ...]:
    """`prefixes` and the flattened objects on the way to a child table or a recursive link that the schema
    requires: they exist whenever the node does, even when nothing in them has a value (a required object
    holding only an optional array read back absent). An optional or nullable flattened object is tracked by
    the presence marks (walk.py's flatten), and so are the objects inside it."""
    found = set(tm.prefixes)
    tracked = set(tm.table.presence_paths)
    for path in [c.table.parent_path for c in tm.children] + [ref.path for ref in tm.links]:
        for n in range(1, len(path)):
            if path[:n] in tracked:
                break
            found.add(path[:n])
    return tuple(sorted(found, key=len))


def with_objects(tm: TableMap) -> tuple[Field, ...]:
    """The fields of `tm`, those of a scalar that may also be an object (kept in a child table) knowing so."""
    objects = {c.table.parent_path for c in tm.children if c.table.kind == "object"}
    if not objects or not any(f.accepts is not None and f.path in objects for f in tm.fields):
        return tm.fields
    mixed = {f.path for f in tm.fields if f.accepts is not None} & objects
    return tuple(replace(f, others=f.others | {"object"}) if f.path in mixed else f for f in tm.fields)


def table_map(table: Table, sa_table: sa.Table, parent: TableMap | None, index: int) -> TableMap:
    key = table.primary_key.columns[0]
    parent_fk = table.parent_fk
    fk = parent_fk.columns[0] if parent_fk else None
    fields = _with_others(
        tuple(_field(c, table) for c in table.columns if c.path or c.name in (table.value_column, table.json_root))
    )
    fields = tuple(
        f if f.accepts is None or f.required[-1] or f.path in table.presence_paths else replace(f, null_kept=False)
        for f in fields
    )
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
    map_key = table.entries.key_column if table.entries else None
    columns = (*leading, *(f.column for f in fields), *([map_key] if map_key else []), *system_columns(table), *links)
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
        map_key=map_key,
    )


def _field(column: Column, table: Table) -> Field:
    t = column.type
    to_db, from_db = KINDS[t.kind].conversion(t) or (None, None)
    default = column.default.value if column.default is not None and column.default.kind == "literal" else MISSING
    required = column.path_required or (True,) * len(column.path)
    accepts = frozenset(column.json_types) if column.json_types else None
    return Field(column.name, t.kind, column.path, required, t.kind == "json", to_db, from_db, default, accepts)


def _with_others(fields: tuple[Field, ...]) -> tuple[Field, ...]:
    """Each field with the JSON types the other fields of its path hold (the columns of one union)."""
    by_path: dict[tuple[str, ...], list[Field]] = {}
    for f in fields:
        by_path.setdefault(f.path, []).append(f)
    if all(len(same) == 1 for same in by_path.values()):
        return fields
    return tuple(
        replace(f, others=frozenset().union(*(g.accepts or () for g in by_path[f.path] if g is not f))) for f in fields
    )


def json_kind(value: Any) -> str:
    """The JSON type of a document value as the exact parser gives it (an int is an integer, a Decimal a number)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, str):
        return "string"
    if isinstance(value, float | Decimal):
        return "number"
    if value is None:
        return "null"
    return "array" if isinstance(value, list) else "object"


def _integral(value: float | Decimal) -> bool:
    """Whether a number has no fraction; a Decimal's exponent may be huge (`1e999999999`), never expanded."""
    if isinstance(value, float):
        return value.is_integer()
    return value.is_finite() and value == value.to_integral_value()


def _required_prefixes(fields: Sequence[Field]) -> tuple[tuple[str, ...], ...]:
    """Flattened objects along field paths that the schema requires: they exist even when left empty."""
    found = {
        f.path[:n] for f in fields for n in range(1, len(f.path)) if all(f.required[:n])
    }  # fmt: skip
    return tuple(sorted(found, key=len))


# the columns that take a document value as it is (no conversion), and the Python class each holds
RAW_CLASSES: dict[str, type] = {"text": str, "varchar": str, "enum": str, "boolean": bool}


def raw(tm: TableMap, f: Field, value: Any) -> Any:
    """A document value for a column that stores it as it is; ValueRejected for one of another JSON type, which
    the driver would otherwise retype (SQLite keeps `false` in a text column as '0') or fail on (a list).
    Validation leaves none such where the mapping reads the schema right: this is the guard where it does not."""
    cls = RAW_CLASSES.get(f.kind)
    if cls is None or isinstance(value, cls):
        return value
    holds = "booleans" if cls is bool else "text"
    raise ValueRejected(
        f"({tm.table.name}.{f.column}) = {value!r}: a JSON {json_kind(value)} where the column holds {holds}",
        value,
        unplaced=True,
    )


def convert(tm: TableMap, f: Field, value: Any) -> Any:
    """A document value as its column's value; ValueRejected names the value a column cannot hold."""
    assert f.to_db is not None
    try:
        return f.to_db(value)
    except (ValueError, TypeError, OverflowError) as exc:  # valid by the schema, not storable (year 0, 23:59:60)
        shown = value if isinstance(value, int | Decimal) else repr(value)
        # the caller holding the whole document puts the value's pointer in front (`DocumentMap.add`)
        raise ValueRejected(f"({tm.table.name}.{f.column}) = {shown}: {exc}", value, unplaced=True) from None
