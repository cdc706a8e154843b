"""Normalization: one validated JSON Schema → tables, columns, keys and enums of the relational IR.

Rules (DESIGN.md): a root object is a table with a uuid key; a required nested object is flattened into
its parent; an optional one gets its own 1:1 table keyed by the parent's id; an array becomes a child
table with a surrogate `bigserial` key (which also keeps item order); free-form objects are JSON columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import referencing

from . import naming
from .errors import pointer
from .ir import Check, Column, ColumnType, Constraint, Default, EnumType, ForeignKey, SchemaModel, Table
from .loader import SourceSchema

# (JSON type, format) → column type; `maxLength` turns a plain string into varchar(n).
FORMAT_TYPES: Mapping[tuple[str, str | None], ColumnType] = {
    ("string", None): ColumnType("text"),
    ("string", "email"): ColumnType("varchar", length=320),
    ("string", "idn-email"): ColumnType("varchar", length=320),
    ("string", "date"): ColumnType("date"),
    ("string", "date-time"): ColumnType("datetime"),
    ("string", "time"): ColumnType("time"),
    ("string", "uuid"): ColumnType("uuid"),
    ("boolean", None): ColumnType("boolean"),
    ("integer", None): ColumnType("bigint"),
    ("number", None): ColumnType("float"),
}
TIMESTAMP_COLUMNS = (("created_at", "Set when the row is inserted."), ("updated_at", "Set on every write."))
SCALAR_TYPES = {"string", "boolean", "integer", "number"}
INT_RANGES = (("smallint", -(2**15), 2**15 - 1), ("integer", -(2**31), 2**31 - 1))


@dataclass
class _Child:
    """A table discovered while building its parent's columns, built once the parent is done."""

    kind: str
    prop: str
    node: dict[str, Any]
    resolver: referencing.Resolver[Any]
    ptr: str
    parent_path: tuple[str, ...]


@dataclass
class _TableBuilder:
    name: str
    columns: list[Column] = field(default_factory=list)
    seen: dict[str, str] = field(default_factory=dict)  # column name → pointer that produced it
    uniques: list[Constraint] = field(default_factory=list)
    indexes: list[Constraint] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    children: list[_Child] = field(default_factory=list)


class Normalizer:
    """Turns one SourceSchema into a SchemaModel; raises SchemaError naming file and pointer."""

    def __init__(self, source: SourceSchema) -> None:
        self.source = source
        self.tables: list[Table] = []
        self.enums: list[EnumType] = []
        self.table_names: dict[str, str] = {}  # table name → pointer, to refuse collisions

    def run(self) -> SchemaModel:
        root, resolver = self.deref(self.source.contents, self.source.resolver, "#")
        if _types(root) != ["object"] or "properties" not in root:
            raise self.source.error("#", "the root of a schema must be an object with properties")
        title = root.get("title") or naming.class_name(naming.snake(self.source.name))
        xsql = root.get("x-sql", {})
        name = xsql.get("table") or naming.plural(naming.snake(title))
        old_title = None if xsql.get("table") else xsql.get("renamedFrom")
        previous = (naming.plural(naming.snake(old_title)),) if old_title else ()
        self.build_table("root", name, root, resolver, "#", parent=None, prop=None, parent_path=(), previous=previous)
        return SchemaModel(
            name=self.source.name,
            title=title,
            path=self.source.display_path,
            tables=tuple(self.tables),
            enums=tuple(self.enums),
            description=root.get("description", ""),
        )

    # -- schema navigation ------------------------------------------------------------------------
    def deref(
        self, node: Any, resolver: referencing.Resolver[Any], ptr: str
    ) -> tuple[dict[str, Any], referencing.Resolver[Any]]:
        """Follow `$ref` (and a single-schema `allOf` wrapper) until a concrete node."""
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise self.source.error(ptr, f"$ref {ref!r} refers to itself")
            seen.add(ref)
            resolved = self.source.lookup(ref, resolver, ptr)
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            node, resolver = resolved.contents, resolved.resolver
            if siblings and isinstance(node, dict):
                node = {**node, **siblings}
        if not isinstance(node, dict):
            raise self.source.error(ptr, "expected a schema object here")
        return node, resolver

    # -- tables -----------------------------------------------------------------------------------
    def build_table(
        self,
        kind: str,
        name: str,
        node: dict[str, Any],
        resolver: referencing.Resolver[Any],
        ptr: str,
        parent: Table | None,
        prop: str | None,
        parent_path: tuple[str, ...],
        previous: tuple[str, ...] = (),
    ) -> None:
        """`previous`: names the table may have had in the last revision, when `renamedFrom` hints changed it."""
        name = naming.shorten(name)
        previous = _renamed(name, *previous)
        if name in self.table_names:
            raise self.source.error(
                ptr,
                f"table name {name!r} is also produced by {self.table_names[name]}; "
                'set "x-sql": {"table": "<another name>"} on one of them',
            )
        self.table_names[name] = ptr
        tb = _TableBuilder(name)
        pk_cols: tuple[str, ...]
        fks: list[ForeignKey] = []
        if parent is None:
            tb.columns.append(Column("id", ColumnType("uuid"), False, Default("uuid"), notes="Primary key."))
            tb.seen["id"] = f"{ptr} (primary key)"
            pk_cols = ("id",)
        else:
            parent_pk = parent.column(parent.primary_key.columns[0])
            fk_col = f"{naming.singular(parent.name)}_id"
            old_fk = _renamed(fk_col, *(f"{naming.singular(p)}_id" for p in parent.renamed_from))
            fk_type = ColumnType(parent_pk.type.kind)
            ref = f"`{parent.name}.{parent_pk.name}`"
            if kind == "object":
                tb.columns.append(Column(fk_col, fk_type, False, notes=f"PK & FK to {ref}.", renamed_from=old_fk))
                pk_cols = (fk_col,)
            else:
                tb.columns.append(Column("id", ColumnType("bigint"), False, Default("sequence"), notes="Surrogate PK."))
                tb.columns.append(Column(fk_col, fk_type, False, notes=f"FK to {ref}.", renamed_from=old_fk))
                tb.indexes.append(Constraint(naming.ix_name(name, (fk_col,)), (fk_col,)))
                pk_cols = ("id",)
            for col in tb.columns:
                tb.seen[col.name] = f"{ptr} (key column)"
            fks.append(
                ForeignKey(naming.fk_name(name, (fk_col,), parent.name), (fk_col,), parent.name, (parent_pk.name,))
            )

        if kind == "array":
            items, items_resolver = self.deref(node.get("items", {}), resolver, f"{ptr}/items")
            if _is_structured_object(items):
                self.object_columns(tb, items, items_resolver, f"{ptr}/items", (), required=True)
                value_column = None
            else:
                value_column = naming.snake(naming.singular(naming.snake(prop or "value")))
                old_prop = node.get("x-sql", {}).get("renamedFrom")
                old_value = naming.snake(naming.singular(naming.snake(old_prop))) if old_prop else None
                label = prop or "item"
                self.scalar_column(tb, value_column, items, f"{ptr}/items", (), True, label, previous=old_value)
            if node.get("uniqueItems") is True:
                cols = tuple(c.name for c in tb.columns[2:])
                uq_cols = (tb.columns[1].name, *cols)
                tb.uniques.append(Constraint(naming.uq_name(name, uq_cols), uq_cols))
        else:
            self.object_columns(tb, node, resolver, ptr, (), required=True)
            value_column = None
        if parent is None and node.get("x-sql", {}).get("timestamps"):
            for stamp, note in TIMESTAMP_COLUMNS:
                stamp_column = Column(stamp, ColumnType("datetime"), False, Default("now"), notes=note)
                self.add_system_column(tb, stamp_column, ptr)

        table = Table(
            name=name,
            kind=kind,  # type: ignore[arg-type]
            schema=self.source.name,
            columns=tuple(tb.columns),
            primary_key=Constraint(naming.pk_name(name), pk_cols),
            foreign_keys=tuple(fks + tb.foreign_keys),
            uniques=tuple(tb.uniques),
            indexes=tuple(tb.indexes),
            checks=tuple(tb.checks),
            comment=node.get("description"),
            parent=parent.name if parent else None,
            json_property=prop,
            parent_path=parent_path,
            value_column=value_column,
            pointer=ptr,
            purpose=_purpose(node.get("description"), kind),
            class_name=naming.class_name(name),
            renamed_from=previous,
        )
        self.tables.append(table)
        for child in tb.children:
            xsql = child.node.get("x-sql", {})
            child_name = xsql.get("table") or f"{naming.singular(name)}_{naming.plural(naming.snake(child.prop))}"
            # a hint stays in the schema after its revision: try the hinted names, then the current ones
            props = (xsql.get("renamedFrom") or child.prop, child.prop)
            old_names = (
                ()
                if xsql.get("table")
                else tuple(
                    f"{naming.singular(p)}_{naming.plural(naming.snake(x))}" for p in (*previous, name) for x in props
                )
            )
            self.build_table(
                child.kind,
                child_name,
                child.node,
                child.resolver,
                child.ptr,
                table,
                child.prop,
                child.parent_path,
                previous=old_names,
            )

    # -- columns ----------------------------------------------------------------------------------
    def object_columns(
        self,
        tb: _TableBuilder,
        node: dict[str, Any],
        resolver: referencing.Resolver[Any],
        ptr: str,
        path: tuple[str, ...],
        required: bool,
        presence: tuple[bool, ...] = (),
    ) -> None:
        """Columns for the properties of `node`, recursing into flattened objects."""
        for key in ("oneOf", "anyOf", "patternProperties", "if"):
            if key in node:
                raise self.source.error(f"{ptr}/{key}", f"`{key}` on an object is not supported yet")
        required_props = set(node.get("required", []))
        for prop, raw in node.get("properties", {}).items():
            sub_ptr = f"{ptr}/properties/{pointer(prop)[2:]}"
            sub, sub_resolver = self.deref(raw, resolver, sub_ptr)
            is_required = required and prop in required_props
            sub_presence = (*presence, prop in required_props)
            storage = sub.get("x-sql", {}).get("storage")
            types = _types(sub)
            if storage == "json" or ("object" in types and not _is_structured_object(sub)):
                self.add_column(
                    tb, sub, sub_ptr, (*path, prop), ColumnType("json"), is_required, types, presence=sub_presence
                )
            elif _is_structured_object(sub):
                if storage == "flatten" or (storage is None and prop in required_props):
                    self.object_columns(tb, sub, sub_resolver, sub_ptr, (*path, prop), is_required, sub_presence)
                else:
                    tb.children.append(_Child("object", prop, sub, sub_resolver, sub_ptr, (*path, prop)))
            elif "array" in types:
                if prop not in required_props:
                    # absent and empty would both read back as "no rows"; refuse rather than guess
                    raise self.source.error(
                        sub_ptr,
                        "an optional array cannot be told apart from an empty one once stored; "
                        'make it required or set "x-sql": {"storage": "json"}',
                    )
                tb.children.append(_Child("array", prop, sub, sub_resolver, sub_ptr, (*path, prop)))
            else:
                name = sub.get("x-sql", {}).get("column") or naming.snake(prop)
                label = ".".join((*path, prop))
                self.scalar_column(tb, name, sub, sub_ptr, (*path, prop), is_required, label, presence=sub_presence)

    def scalar_column(
        self,
        tb: _TableBuilder,
        name: str,
        node: dict[str, Any],
        ptr: str,
        path: tuple[str, ...],
        required: bool,
        label: str,
        previous: str | None = None,
        presence: tuple[bool, ...] = (),
    ) -> None:
        types = _types(node)
        if "enum" in node and not types:
            types = sorted({_json_type(v) for v in node["enum"]})
        scalar = [t for t in types if t != "null"]
        if len(scalar) != 1 or scalar[0] not in SCALAR_TYPES:
            found = ", ".join(types) if types else "no type"
            raise self.source.error(ptr, f"cannot map a value with {found} to one column; give it a single type")
        kind = scalar[0]
        if kind == "string" and "enum" in node:
            values = tuple(node["enum"])
            if not all(isinstance(v, str) for v in values):
                raise self.source.error(f"{ptr}/enum", "a string enum may only hold strings")
            renames = node.get("x-sql", {}).get("renamedValues", {})
            for new_value in renames:
                if new_value not in values:
                    raise self.source.error(f"{ptr}/x-sql/renamedValues", f"{new_value!r} is not a value of the enum")
            renamed = tuple(sorted(renames.items()))
            enum = EnumType(naming.enum_name(tb.name, name), values, pointer=ptr, renamed_values=renamed)
            self.enums.append(enum)
            ctype = ColumnType("enum", length=max(map(len, values)), enum=enum.name)
        else:
            ctype = FORMAT_TYPES.get((kind, node.get("format")), FORMAT_TYPES[(kind, None)])
            if kind == "string" and isinstance(node.get("maxLength"), int) and ctype.kind in ("text", "varchar"):
                ctype = ColumnType("varchar", length=node["maxLength"])
            elif kind == "integer":
                ctype = ColumnType(_int_kind(node))
        self.add_column(
            tb, node, ptr, path, ctype, required, types, name=name, label=label, previous=previous, presence=presence
        )

    def add_system_column(self, tb: _TableBuilder, column: Column, ptr: str) -> None:
        """A column the document does not hold (keys, timestamps); a property of the same name is an error."""
        if column.name in tb.seen:
            raise self.source.error(
                tb.seen[column.name],
                f"column {column.name!r} of table {tb.name!r} is reserved by schemarel; "
                'rename the property\'s column with "x-sql": {"column": "<another name>"}',
            )
        tb.seen[column.name] = f"{ptr} (x-sql)"
        tb.columns.append(column)

    def add_column(
        self,
        tb: _TableBuilder,
        node: dict[str, Any],
        ptr: str,
        path: tuple[str, ...],
        ctype: ColumnType,
        required: bool,
        types: list[str],
        name: str | None = None,
        label: str | None = None,
        previous: str | None = None,
        presence: tuple[bool, ...] = (),
    ) -> None:
        xsql = node.get("x-sql", {})
        name = naming.shorten(name or xsql.get("column") or naming.snake(path[-1]))
        if previous is None and xsql.get("renamedFrom") and not xsql.get("column"):
            previous = naming.snake(xsql["renamedFrom"])
        if name in tb.seen:
            raise self.source.error(
                ptr,
                f"column {name!r} of table {tb.name!r} is also produced by {tb.seen[name]}; "
                'rename one with "x-sql": {"column": "<another name>"}',
            )
        tb.seen[name] = ptr
        nullable = not required or "null" in types or node.get("nullable") is True
        default = Default("literal", node["default"]) if "default" in node and ctype.kind != "json" else None
        description = node.get("description")
        tb.columns.append(
            Column(
                name=name,
                type=ctype,
                nullable=nullable,
                default=default,
                comment=description,
                path=path,
                path_required=presence,
                pointer=ptr,
                notes=_notes(description, path, required, node),
                renamed_from=_renamed(name, previous),
            )
        )
        ref = xsql.get("references")
        if ref:
            ref_col = ref.get("column", "id")
            tb.foreign_keys.append(
                ForeignKey(
                    naming.fk_name(tb.name, (name,), ref["table"]),
                    (name,),
                    ref["table"],
                    (ref_col,),
                    ref.get("onDelete", "CASCADE"),
                    external=True,
                )
            )
        if xsql.get("unique"):
            tb.uniques.append(Constraint(naming.uq_name(tb.name, (name,)), (name,)))
        if xsql.get("index"):
            tb.indexes.append(Constraint(naming.ix_name(tb.name, (name,)), (name,)))


def _renamed(name: str, *candidates: str | None) -> tuple[str, ...]:
    """Possible previous names of a table or column, shortened like the name itself, without the name."""
    result: list[str] = []
    for candidate in candidates:
        short = naming.shorten(candidate) if candidate else None
        if short and short != name and short not in result:
            result.append(short)
    return tuple(result)


def _types(node: dict[str, Any]) -> list[str]:
    t = node.get("type")
    if t is None:
        if "properties" in node:
            return ["object"]
        if "items" in node:
            return ["array"]
        return []
    return [t] if isinstance(t, str) else list(t)


def _is_structured_object(node: dict[str, Any]) -> bool:
    return "object" in _types(node) and isinstance(node.get("properties"), dict) and bool(node["properties"])


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if value is None:
        return "null"
    return "string" if isinstance(value, str) else "object"


def _int_kind(node: dict[str, Any]) -> Any:
    lo, hi = node.get("minimum"), node.get("maximum")
    if isinstance(lo, int | float) and isinstance(hi, int | float):
        for kind, kmin, kmax in INT_RANGES:
            if kmin <= lo and hi <= kmax:
                return kind
    return "bigint"


def _purpose(description: str | None, kind: str) -> str:
    suffix = {"object": " (1:1).", "array": " (1:N)."}.get(kind, "")
    text = (description or "").strip()
    first = text.split(". ")[0].rstrip(".") if text else ""
    if not suffix:
        return f"{first}." if first else ""
    return f"{first}{suffix}" if first else suffix.strip(" .()") + "."


def _notes(description: str | None, path: tuple[str, ...], required: bool, node: dict[str, Any]) -> str:
    parts: list[str] = []
    if len(path) > 1:
        parts.append(f"Mirrors `{'.'.join(path)}`.")
    if description:
        parts.append(description.strip())
    elif not parts:
        parts.append("Required by schema." if required else "Optional.")
    if "enum" in node:
        parts.append("Enum: " + ", ".join(f"`{v}`" for v in node["enum"]) + ".")
    return " ".join(parts)


def normalize(source: SourceSchema) -> SchemaModel:
    return Normalizer(source).run()
