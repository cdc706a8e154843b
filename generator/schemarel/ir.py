"""The relational IR: plain frozen dataclasses that every later stage (render, diff, runtime) reads.

Fields marked `NOT_IN_SNAPSHOT` say how documents map onto the tables or how docs describe them; they are
not part of the database that a migration snapshot records, so changing a note never makes a revision.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Literal

NOT_IN_SNAPSHOT = {"snapshot": False}

TypeKind = Literal[
    "uuid", "text", "varchar", "boolean", "smallint", "integer", "bigint", "float", "numeric",
    "date", "datetime", "time", "json", "enum",
]  # fmt: skip

TableKind = Literal["root", "object", "array", "map"]  # map: one row per key of an object (see MapEntries)


@dataclass(frozen=True)
class ColumnType:
    kind: TypeKind
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    enum: str | None = None  # name of the EnumType for kind == "enum"


@dataclass(frozen=True)
class Default:
    """A server-side default: a generated uuid, a sequence, a timestamp, or a JSON literal."""

    kind: Literal["uuid", "sequence", "now", "literal"]
    value: Any = None


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    nullable: bool
    default: Default | None = None
    comment: str | None = None
    # where the value lives in the document, relative to the node the table stores
    path: tuple[str, ...] = field(default=(), metadata=NOT_IN_SNAPSHOT)
    # for each step of `path`, whether the schema requires that property in its object (the runtime reads
    # a NULL back as `null` or as an absent property, and knows which flattened objects always exist)
    path_required: tuple[bool, ...] = field(default=(), metadata=NOT_IN_SNAPSHOT)
    pointer: str = field(default="", metadata=NOT_IN_SNAPSHOT)
    notes: str = field(default="", metadata=NOT_IN_SNAPSHOT)
    # names this column may have had in the previous revision, when `x-sql.renamedFrom` renamed it (or its
    # table); the diff takes the first the previous snapshot holds
    renamed_from: tuple[str, ...] = field(default=(), metadata=NOT_IN_SNAPSHOT)
    # a branch of a union of scalars (`string | integer`): the JSON types of the values this column holds;
    # the other columns of the same `path` hold the others. () : every value at `path`
    json_types: tuple[str, ...] = field(default=(), metadata=NOT_IN_SNAPSHOT)
    # the `path` before a `renamedFrom` hint on its property: a rename moves the row's marks and spellings
    # kept under that relative pointer too. () : no hint
    previous_path: tuple[str, ...] = field(default=(), metadata=NOT_IN_SNAPSHOT)
    # (new value, previous value) pairs from `x-sql.renamedValues` on a string enum kept as a CHECK (no enum
    # type: `EnumType.renamed_values` has them otherwise): the rows keep their value, renamed
    renamed_values: tuple[tuple[str, str], ...] = field(default=(), metadata=NOT_IN_SNAPSHOT)


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    ondelete: str = "CASCADE"
    external: bool = False  # the referenced table belongs to another system


@dataclass(frozen=True)
class Constraint:
    """A primary key, unique constraint or index: a name over columns."""

    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Check:
    """A CHECK constraint on one column: `rule` and `value` say what (checks.py builds the SQL per dialect)."""

    name: str
    sqltext: str  # as PostgreSQL spells it, for docs
    column: str = ""
    rule: str = ""  # ">=", "<=", ">", "<", "=", "in", "min_length" or "pattern" (PostgreSQL only)
    value: Any = None


@dataclass(frozen=True)
class SelfRef:
    """A recursive property stored as rows of the same table, linked back to the row that holds them."""

    path: tuple[str, ...]  # the property, relative to the row's node
    column: str  # FK to this table's key: the row whose property holds this row
    position: str | None  # item order within the array; None for a single object
    pointer: str = ""


@dataclass(frozen=True)
class OpenObject:
    """An object node stored in a table that admits properties the schema does not name (kept in `extra`)."""

    path: tuple[str, ...]  # relative to the row's node; () is the row itself
    known: tuple[str, ...]  # the property names that have columns or tables of their own
    mapped: tuple[str, ...] = ()  # Python regexes of the keys a map table holds (they are not extras)
    # (property, "object" | "array"): a property mapped as that kind only because its keywords describe one
    # (`properties` or `items` without `type`); any other value is valid too and is kept here as an extra
    loose: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class MapEntries:
    """Which keys of the object at a map table's `parent_path` are its rows: every key no property names,
    or (`patterns`, Python regexes) only those matching one; the rest are the parent row's extras."""

    key_column: str
    known: tuple[str, ...]  # the object's named properties (columns of the parent, never rows here)
    patterns: tuple[str, ...] = ()  # () = every key not in `known`
    whole: bool = False  # the object is nothing but the map: an empty one is `{}` (kept by presence or always)


@dataclass(frozen=True)
class Table:
    name: str
    kind: TableKind = field(metadata=NOT_IN_SNAPSHOT)
    schema: str = field(metadata=NOT_IN_SNAPSHOT)  # the schema file stem the table comes from
    columns: tuple[Column, ...]
    primary_key: Constraint
    foreign_keys: tuple[ForeignKey, ...] = ()
    uniques: tuple[Constraint, ...] = ()
    indexes: tuple[Constraint, ...] = ()
    checks: tuple[Check, ...] = ()
    comment: str | None = None
    parent: str | None = None  # the table this one hangs off (object and array tables)
    json_property: str | None = field(default=None, metadata=NOT_IN_SNAPSHOT)  # the property stored here
    parent_path: tuple[str, ...] = field(default=(), metadata=NOT_IN_SNAPSHOT)  # its place in the parent node
    value_column: str | None = field(default=None, metadata=NOT_IN_SNAPSHOT)  # arrays of scalars: the item
    pointer: str = field(default="", metadata=NOT_IN_SNAPSHOT)
    purpose: str = field(default="", metadata=NOT_IN_SNAPSHOT)
    class_name: str = field(default="", metadata=NOT_IN_SNAPSHOT)
    # `presence`: a JSON column holding, per relative JSON pointer, the value of optional properties that
    # leave no other trace (an empty or null array, a null that could also mean absent); see README.
    presence_column: str | None = field(default=None, metadata=NOT_IN_SNAPSHOT)
    presence_paths: tuple[tuple[str, ...], ...] = field(default=(), metadata=NOT_IN_SNAPSHOT)  # what it keeps
    extra_column: str | None = field(default=None, metadata=NOT_IN_SNAPSHOT)  # JSON of unnamed properties
    # JSON: relative JSON pointer → the text a document gave, for values their column would give back otherwise
    spelling_column: str | None = field(default=None, metadata=NOT_IN_SNAPSHOT)
    open_objects: tuple[OpenObject, ...] = field(default=(), metadata=NOT_IN_SNAPSHOT)
    self_refs: tuple[SelfRef, ...] = field(default=(), metadata=NOT_IN_SNAPSHOT)
    json_root: str | None = field(default=None, metadata=NOT_IN_SNAPSHOT)  # the whole document in one column
    entries: MapEntries | None = field(default=None, metadata=NOT_IN_SNAPSHOT)  # kind "map": its rows' keys
    renamed_from: tuple[str, ...] = field(default=(), metadata=NOT_IN_SNAPSHOT)  # see Column.renamed_from
    previous_path: tuple[str, ...] = field(default=(), metadata=NOT_IN_SNAPSHOT)  # see Column.previous_path
    # (path, previous name) of the objects flattened into these rows that carry a `renamedFrom` hint: the marks,
    # spellings and extras kept under every pointer below one move with it, in the revision that renames it
    renamed_objects: tuple[tuple[tuple[str, ...], str], ...] = field(default=(), metadata=NOT_IN_SNAPSHOT)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def parent_fk(self) -> ForeignKey | None:
        return next((fk for fk in self.foreign_keys if fk.ref_table == self.parent and not fk.external), None)


@dataclass(frozen=True)
class EnumType:
    name: str
    values: tuple[str, ...]
    pointer: str = field(default="", metadata=NOT_IN_SNAPSHOT)
    # (new value, previous value) pairs from `x-sql.renamedValues`: the rows keep their value, renamed
    renamed_values: tuple[tuple[str, str], ...] = field(default=(), metadata=NOT_IN_SNAPSHOT)


@dataclass(frozen=True)
class SchemaWarning:
    """Something generate mapped less precisely than the schema says (most often: stored as JSON)."""

    file: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}{self.pointer}: {self.message}"


@dataclass(frozen=True)
class SchemaModel:
    """What one schema file normalizes to."""

    name: str  # file stem
    title: str = field(metadata=NOT_IN_SNAPSHOT)
    path: str = field(metadata=NOT_IN_SNAPSHOT)  # display path of the file
    tables: tuple[Table, ...]
    enums: tuple[EnumType, ...] = ()
    description: str = field(default="", metadata=NOT_IN_SNAPSHOT)
    warnings: tuple[SchemaWarning, ...] = field(default=(), metadata=NOT_IN_SNAPSHOT)

    @property
    def root(self) -> Table:
        return self.tables[0]


@dataclass(frozen=True)
class Database:
    """All schemas together: the relational model one migration revision brings the database to."""

    schemas: tuple[SchemaModel, ...]
    # string columns compare exactly on MariaDB/MySQL (`sql.kinds.MYSQL_EXACT`); False: a model recorded before
    # they did, whose columns have the server's collation (the next revision gives them the exact one)
    exact_text: bool = True

    @property
    def tables(self) -> tuple[Table, ...]:
        return tuple(t for s in self.schemas for t in s.tables)

    @property
    def enums(self) -> tuple[EnumType, ...]:
        return tuple(e for s in self.schemas for e in s.enums)

    @property
    def warnings(self) -> tuple[SchemaWarning, ...]:
        return tuple(w for s in self.schemas for w in s.warnings)

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)

    def schema(self, name: str) -> SchemaModel:
        return next(s for s in self.schemas if s.name == name)


def snapshot(obj: Any) -> Any:
    """The relational content of an IR object as plain JSON data (doc-only fields left out)."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: snapshot(getattr(obj, f.name)) for f in fields(obj) if f.metadata.get("snapshot", True)}
    if isinstance(obj, tuple | list):
        return [snapshot(v) for v in obj]
    return obj


def database_from_snapshot(data: dict[str, Any]) -> Database:
    """Rebuild the relational part of a Database from `snapshot(database)` (mapping fields stay empty)."""

    def column(c: dict[str, Any]) -> Column:
        d = c["default"]
        return Column(
            name=c["name"],
            type=ColumnType(**c["type"]),
            nullable=c["nullable"],
            default=Default(**d) if d else None,
            comment=c["comment"],
        )

    def table(t: dict[str, Any], schema: str) -> Table:
        return Table(
            name=t["name"],
            kind="root",
            schema=schema,
            columns=tuple(column(c) for c in t["columns"]),
            primary_key=Constraint(t["primary_key"]["name"], tuple(t["primary_key"]["columns"])),
            foreign_keys=tuple(
                ForeignKey(
                    f["name"],
                    tuple(f["columns"]),
                    f["ref_table"],
                    tuple(f["ref_columns"]),
                    f["ondelete"],
                    f["external"],
                )
                for f in t["foreign_keys"]
            ),
            uniques=tuple(Constraint(u["name"], tuple(u["columns"])) for u in t["uniques"]),
            indexes=tuple(Constraint(i["name"], tuple(i["columns"])) for i in t["indexes"]),
            checks=tuple(Check(**k) for k in t["checks"]),
            comment=t["comment"],
            parent=t["parent"],
        )

    return Database(
        tuple(
            SchemaModel(
                name=s["name"],
                title="",
                path="",
                tables=tuple(table(t, s["name"]) for t in s["tables"]),
                enums=tuple(EnumType(e["name"], tuple(e["values"])) for e in s["enums"]),
            )
            for s in data["schemas"]
        ),
        exact_text=data.get("exact_text", False),
    )
