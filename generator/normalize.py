"""Normalization: one validated JSON Schema → tables, columns, keys and enums of the relational IR.

Rules (DESIGN.md, README): a root object is a table with a uuid key; a required nested object is flattened
into its parent; an optional one gets its own 1:1 table keyed by the parent's key; an array becomes a child
table with a surrogate `bigserial` key (which also keeps item order); free-form objects and values that
can take several shapes are JSON columns (the latter with a warning). `shapes` says how a node is stored,
`refs` resolves and merges nodes, `columns` builds the columns of one table.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from typing import Any

from . import naming
from .budget import SUBTREE_TABLES, TableBudget
from .columns import MAX_COLUMN_COMMENT, MAX_TABLE_COMMENT, NameCollision, TableBuilder, clip, comment_text
from .errors import SchemaError
from .ir import (
    Column,
    ColumnType,
    Constraint,
    Default,
    ForeignKey,
    OpenObject,
    SchemaModel,
    SchemaWarning,
    SelfRef,
    Table,
)
from .loader import SourceSchema
from .refs import Node, Src, resolve, root_src
from .shapes import Shape, classify

TIMESTAMP_COLUMNS = (("created_at", "Set when the row is inserted."), ("updated_at", "Set on every write."))
PRESENCE_COLUMN = "_present"
EXTRA_COLUMN = "_extra"
DOCUMENT_COLUMN = "document"
MAX_TABLES = 400
MAX_DEPTH = 24
COMMENTS_PER_TABLE = 20_000
MIN_COMMENT = 80
_NAME_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9]*([ _-][A-Za-z0-9]+){0,2}$")


@dataclass
class _Child:
    """A table discovered while building its parent's columns, built once the parent is done."""

    kind: str
    prop: str | None  # None: the items of an array of arrays
    shape: Shape
    ptr: str
    parent_path: tuple[str, ...]
    names: tuple[str, ...]
    reserve: int = 0  # tables set aside for it and below (see Normalizer.pending)


@dataclass(frozen=True)
class _Ancestor:
    identity: frozenset[str]
    table: str
    path: tuple[str, ...]  # the node's path within its table
    ptr: str


class Normalizer:
    """Turns one SourceSchema into a SchemaModel; raises SchemaError naming file and pointer."""

    def __init__(self, source: SourceSchema) -> None:
        self.source = source
        self.catalog = source.catalog
        self.tables: list[Table] = []
        self.enums: list[Any] = []
        self.warnings: list[SchemaWarning] = []
        self.table_names: dict[str, str] = {}  # table name → pointer, to refuse collisions
        self.class_names: set[str] = set()
        self._resolved: dict[tuple[tuple[int, str, str], ...], Node] = {}
        self._shapes: dict[int, tuple[Node, Shape]] = {}
        self.budget = TableBudget(self.resolve, self.classify)
        # tables promised to children decided but not built yet: a parent decides all its children before
        # any is built, so shallow structure gets the table budget first and the deepest goes to JSON
        self.pending = 0

    def resolve(self, srcs: list[Src]) -> Node:
        """`refs.resolve`, once per set of sources (big schemas reach one definition from many places)."""
        key = tuple((id(s.raw), s.base, s.ptr) for s in srcs)
        if key not in self._resolved:
            self._resolved[key] = resolve(srcs, self.catalog)
        return self._resolved[key]

    def classify(self, node: Node) -> Shape:
        if id(node) not in self._shapes:
            self._shapes[id(node)] = (node, classify(node, self.catalog))  # the node is kept so its id stays unique
        return self._shapes[id(node)][1]

    def run(self) -> SchemaModel:
        root = self.resolve([root_src(self.source)])
        shape = self.classify(root)
        title = root.kw.get("title") if isinstance(root.kw.get("title"), str) else None
        name = root.xsql.get("table") or root_table_name(title, self.source.name)
        row = {"object": "object", "array": "container"}.get(shape.kind, "json")
        if row == "json":
            reason = f": {shape.reason}" if shape.reason else ""
            self.warn(shape.where or "#", f"the document is stored whole in a JSON column{reason}")
        self.build_table("root", (name,), shape, root, "#", None, None, (), (), row)
        return SchemaModel(
            name=self.source.name,
            title=title or naming.class_name(naming.snake(self.source.name)),
            path=self.source.display_path,
            tables=tuple(self.tables),
            enums=tuple(self.enums),
            description=root.kw.get("description") if isinstance(root.kw.get("description"), str) else "",
            warnings=tuple(self.warnings),
        )

    def warn(self, ptr: str, message: str, file: str | None = None) -> None:
        self.warnings.append(SchemaWarning(file or self.source.display_path, ptr, message))

    def error(self, ptr: str, message: str) -> SchemaError:
        return self.source.error(ptr, message)

    # -- tables -----------------------------------------------------------------------------------
    def build_table(
        self,
        kind: str,
        names: tuple[str, ...],  # the table's name, then fallbacks should another table have it
        shape: Shape | None,
        node: Node,
        ptr: str,
        parent: Table | None,
        prop: str | None,
        parent_path: tuple[str, ...],
        ancestors: tuple[_Ancestor, ...],
        row: str = "object",  # what a row holds: an object's properties, an array's items, or JSON
    ) -> None:
        name = self.claim_table(names, ptr, len(ancestors))
        tb = TableBuilder(name, node.src.file)
        children: list[_Child] = []
        value_column = json_root = None
        here = (*ancestors, _Ancestor(frozenset(node.identity), name, (), ptr))
        if row == "json":
            json_root = tb.claim(DOCUMENT_COLUMN, ptr)
            tb.columns.append(Column(json_root, ColumnType("json"), False, path=(), pointer=ptr, notes="The document."))
        elif row == "array":
            value_column = self.array_rows(tb, node, ptr, prop, here, children)
        elif row == "container":  # a root array: the document is the list of rows of its items table
            assert shape is not None
            children.append(_Child("array", None, shape, ptr, (), (f"{naming.singular(name)}_items",)))
        else:
            assert shape is not None
            if kind == "object" and shape.nullable:
                tb.tracked.append(())
            self.object_columns(tb, shape, ptr, (), here, children)
        fk_col = None
        if parent is not None:  # named after the rows: a property may already use the natural name
            pk = parent.primary_key.columns[0]
            fk_col = tb.claim(tb.free(f"{naming.singular(parent.name)}_{pk}", f"parent_{pk}"), f"{ptr} (key to parent)")
        key_columns, pk_cols = self.key_columns(tb, kind, node, ptr, parent, fk_col)
        self.link_columns(tb, key_columns[0] if key_columns else tb.columns[0], pk_cols[0])
        if value_column and fk_col and node.kw.get("uniqueItems") is True:
            tb.uniques.append(Constraint(naming.uq_name(name, (fk_col, value_column)), (fk_col, value_column)))
        if kind == "root" and node.xsql.get("timestamps"):
            for stamp, note in TIMESTAMP_COLUMNS:
                tb.claim(stamp, f"{ptr} (x-sql timestamps)", " and by x-sql timestamps")
                tb.columns.append(Column(stamp, ColumnType("datetime"), False, Default("now"), notes=note))
        presence = self.system_column(tb, PRESENCE_COLUMN, bool(tb.tracked), ptr, "Values that leave no other trace.")
        extra = self.system_column(tb, EXTRA_COLUMN, bool(tb.open_objects), ptr, "Properties the schema does not name.")
        table = Table(
            name=name,
            kind=kind,  # type: ignore[arg-type]
            schema=self.source.name,
            columns=_clip_comments(key_columns + tb.columns),
            primary_key=Constraint(naming.pk_name(name), pk_cols),
            foreign_keys=tuple(tb.foreign_keys),
            uniques=tuple(tb.uniques),
            indexes=tuple(tb.indexes),
            checks=tuple(tb.checks),
            comment=clip(comment_text(node), MAX_TABLE_COMMENT),
            parent=parent.name if parent else None,
            json_property=prop,
            parent_path=parent_path,
            value_column=value_column,
            pointer=ptr,
            purpose=_purpose(comment_text(node), kind),
            class_name=self.class_name(name),
            presence_column=presence,
            extra_column=extra,
            presence_paths=tuple(tb.tracked),
            open_objects=tuple(tb.open_objects),
            self_refs=tuple(tb.self_refs),
            json_root=json_root,
        )
        self.tables.append(table)
        self.enums += tb.enums
        for child in children:
            self.pending -= child.reserve
            self.build_table(
                child.kind, child.names, child.shape, child.shape.node, child.ptr, table, child.prop,
                child.parent_path, here, "array" if child.kind == "array" else "object",
            )  # fmt: skip

    def class_name(self, table: str) -> str:
        """The model class: CamelCase singular of the table, unless another table of the schema has it."""
        for candidate in (naming.class_name(table), naming.inflection.camelize(table)):
            if candidate not in self.class_names:
                break
        else:
            candidate = naming.inflection.camelize(naming.shorten(f"{table}_{len(self.class_names)}"))
        self.class_names.add(candidate)
        return candidate

    def claim_table(self, names: tuple[str, ...], ptr: str, depth: int) -> str:
        name = next((n for n in map(naming.shorten, names) if n not in self.table_names), naming.shorten(names[0]))
        if name in self.table_names:
            raise self.error(
                ptr,
                f"table name {name!r} is also produced by {self.table_names[name]}; "
                'set "x-sql": {"table": "<another name>"} on one of them',
            )
        if len(self.table_names) >= MAX_TABLES or depth > MAX_DEPTH:
            limit = f"more than {MAX_TABLES} tables" if depth <= MAX_DEPTH else f"tables nested over {MAX_DEPTH} deep"
            raise self.error(
                ptr,
                f"the schema maps to {limit} (here and below); store such a subtree in one JSON column with "
                '"x-sql": {"storage": "json"}',
            )
        self.table_names[name] = ptr
        return name

    def key_columns(
        self, tb: TableBuilder, kind: str, node: Node, ptr: str, parent: Table | None, fk_col: str | None
    ) -> tuple[list[Column], tuple[str, ...]]:
        """The key columns (first in the table) and the primary key: see README "Keys"."""
        strategy = node.xsql.get("primaryKey", "uuid") if kind == "root" else None
        if isinstance(strategy, dict):
            column = next((c for c in tb.columns if c.path == (strategy["property"],)), None)
            if column is None or column.nullable or column.type.kind == "json":
                raise self.error(
                    f"{ptr}/x-sql/primaryKey",
                    f"the primary key property {strategy['property']!r} must be a required, non-null scalar property",
                )
            return [], (column.name,)
        if parent is None or fk_col is None:
            own = tb.claim("id" if "id" not in tb.seen else "pk", f"{ptr} (primary key)", " and by the primary key")
            ctype, default = (ColumnType("bigint"), Default("sequence")) if strategy == "identity" else (
                ColumnType("uuid"), Default("uuid"))  # fmt: skip
            return [Column(own, ctype, False, default, notes="Primary key.")], (own,)
        parent_key = parent.column(parent.primary_key.columns[0])
        ref = f"`{parent.name}.{parent_key.name}`"
        fk_type = parent_key.type if parent_key.default is None or parent_key.type.kind != "bigint" else ColumnType(
            "bigint")  # fmt: skip
        tb.foreign_keys.insert(
            0, ForeignKey(naming.fk_name(tb.name, (fk_col,), parent.name), (fk_col,), parent.name, (parent_key.name,))
        )
        if kind == "object":
            return [Column(fk_col, fk_type, False, notes=f"PK & FK to {ref}.")], (fk_col,)
        own = tb.claim("id" if "id" not in tb.seen else "pk", f"{ptr} (primary key)", " and by the primary key")
        tb.indexes.insert(0, Constraint(naming.ix_name(tb.name, (fk_col,)), (fk_col,)))
        columns = [
            Column(own, ColumnType("bigint"), False, Default("sequence"), notes="Surrogate PK."),
            Column(fk_col, fk_type, False, notes=f"FK to {ref}."),
        ]
        return columns, (own,)

    def link_columns(self, tb: TableBuilder, key: Column, pk: str) -> None:
        """Columns of recursive properties stored as rows of this table: the holder's key and the position."""
        for ref in tb.self_refs:
            note = f"Set when this row is `{'.'.join(ref.path)}` of the row it references."
            tb.columns.append(Column(ref.column, ColumnType(key.type.kind), True, notes=note, pointer=ref.pointer))
            tb.foreign_keys.append(ForeignKey(naming.fk_name(tb.name, (ref.column,), tb.name), (ref.column,), tb.name,
                                              (pk,)))  # fmt: skip
            tb.indexes.append(Constraint(naming.ix_name(tb.name, (ref.column,)), (ref.column,)))
            if ref.position:
                tb.columns.append(Column(ref.position, ColumnType("integer"), True, notes="Position in the array."))

    def system_column(self, tb: TableBuilder, name: str, needed: bool, ptr: str, note: str) -> str | None:
        if not needed:
            return None
        tb.claim(name, f"{ptr} (schemarel)", " and by schemarel")
        tb.columns.append(Column(name, ColumnType("json"), True, notes=note))
        return name

    # -- rows -------------------------------------------------------------------------------------
    def array_rows(
        self,
        tb: TableBuilder,
        node: Node,
        ptr: str,
        prop: str | None,
        here: tuple[_Ancestor, ...],
        children: list[_Child],
    ) -> str | None:
        """Columns for the items of an array table; returns the value column of scalar items."""
        items = self.resolve(node.items)
        items_ptr = node.items[0].ptr
        shape = self.classify(items)
        here = (*here, _Ancestor(frozenset(items.identity), tb.name, (), items_ptr))
        if shape.kind == "object":
            if shape.nullable:
                tb.tracked.append(())
            self.object_columns(tb, shape, items_ptr, (), here, children)
            return None
        if shape.kind == "array":
            children.append(_Child("array", None, shape, items_ptr, (), (f"{naming.singular(tb.name)}_items",)))
            return None
        name = items.xsql.get("column") or (naming.singular(naming.snake(prop)) if prop else "item")
        if shape.kind == "scalar":
            tb.scalar_column(name, shape.scalar or "string", items, items_ptr, (), True, shape.nullable)
        else:
            tb.json_column(name, items, items_ptr, (), required=True)
        return tb.columns[-1].name

    def object_columns(
        self,
        tb: TableBuilder,
        shape: Shape,
        ptr: str,
        path: tuple[str, ...],
        ancestors: tuple[_Ancestor, ...],
        children: list[_Child],
    ) -> None:
        """Columns for the properties of an object node, recursing into flattened objects.

        The names this object's own scalar properties will take are reserved first, so that a nested object
        flattened before them cannot take one (it gets its own table instead)."""
        node = shape.node
        if not node.closed or node.maps:  # properties the schema does not name may appear
            tb.open_objects.append(OpenObject(path, tuple(node.props)))
        for where in node.maps:
            message = f"properties matched by it are kept in JSON column {tb.name}.{EXTRA_COLUMN}"
            self.warn(where, message, node.src.file)
        subs = {prop: self.resolve(srcs) for prop, srcs in node.props.items()}
        reserved = []
        for prop, sub in subs.items():
            if prop in shape.json_props or self.classify(sub).kind in ("scalar", "json"):
                name = naming.shorten(sub.xsql.get("column") or naming.snake(prop))
                if name not in tb.reserved:
                    tb.reserved[name] = node.props[prop][0].ptr
                    reserved.append(name)
        for prop, sub in subs.items():
            sub_ptr = node.props[prop][0].ptr
            self.property(tb, prop, sub, sub_ptr, (*path, prop), prop in node.required, shape, ancestors, children)
        for name in reserved:
            tb.reserved.pop(name, None)

    def property(
        self,
        tb: TableBuilder,
        prop: str,
        sub: Node,
        ptr: str,
        path: tuple[str, ...],
        required: bool,
        owner: Shape,
        ancestors: tuple[_Ancestor, ...],
        children: list[_Child],
    ) -> None:
        column = sub.xsql.get("column") or naming.snake(prop)
        if prop in owner.json_props:
            reason, where = owner.json_props[prop]
            return self.json_fallback(tb, column, sub, ptr, path, required, reason, where)
        loop = next((a for a in ancestors if a.identity & sub.identity), None)
        if loop is not None:
            return self.recursive(tb, prop, column, sub, ptr, path, required, loop, ancestors, children)
        shape = self.classify(sub)
        storage = sub.xsql.get("storage")
        if shape.kind == "never":
            return None
        if shape.kind == "json":
            return self.json_fallback(tb, column, sub, ptr, path, required, shape.reason, shape.where)
        if shape.kind == "scalar":
            if not required and shape.nullable:
                tb.tracked.append(path)
            return tb.scalar_column(column, shape.scalar or "string", sub, ptr, path, required, shape.nullable)
        names = (sub.xsql["table"],) if sub.xsql.get("table") else _child_names(tb.name, path)
        count = self.budget.contribution(sub, required)
        if storage != "table" and count > SUBTREE_TABLES:
            reason = f"it would need {count} tables, more than {SUBTREE_TABLES}"
            return self.json_fallback(tb, column, sub, ptr, path, required, reason, ptr)
        if storage != "table" and len(self.table_names) + self.pending + count > MAX_TABLES:
            reason = f"the schema's {MAX_TABLES} tables are spent on properties before this one"
            return self.json_fallback(tb, column, sub, ptr, path, required, reason, ptr)
        if shape.kind == "object":
            if storage == "flatten" or (storage is None and required and not shape.nullable):
                here = (*ancestors, _Ancestor(frozenset(sub.identity), tb.name, path, ptr))
                collision = self.flatten(tb, shape, ptr, path, here, children, storage == "flatten", required)
                if collision is None:
                    return None
                self.warn(ptr, f"stored in its own table {names[0]}, not flattened into {tb.name}: {collision}")
            elif shape.nullable:
                tb.tracked.append(path)
            children.append(_Child("object", prop, shape, ptr, path, names, count))
            self.pending += count
            return None
        items = self.resolve(sub.items) if sub.items else None
        items_shape = self.classify(items) if items is not None else None
        if items_shape is None or items_shape.kind in ("json", "never"):
            reason = "its items have no type" if items_shape is None else items_shape.reason
            where = ptr if items_shape is None else items_shape.where
            return self.json_fallback(tb, column, sub, ptr, path, required, reason, where)
        if not required or shape.nullable:
            tb.tracked.append(path)
        children.append(_Child("array", prop, shape, ptr, path, names, count))
        self.pending += count
        return None

    def flatten(
        self,
        tb: TableBuilder,
        shape: Shape,
        ptr: str,
        path: tuple[str, ...],
        ancestors: tuple[_Ancestor, ...],
        children: list[_Child],
        explicit: bool,
        required: bool,
    ) -> str | None:
        """Flatten an object into `tb`; returns why not (undoing everything) if two columns would share a name
        and flattening was not asked for explicitly."""
        state, n_children, n_warnings, reserved = tb.state(), len(children), len(self.warnings), dict(tb.reserved)
        pending = self.pending
        try:
            self.object_columns(tb, shape, ptr, path, ancestors, children)
        except NameCollision as exc:
            if explicit:
                raise
            tb.restore(state)
            del children[n_children:]
            del self.warnings[n_warnings:]
            tb.reserved, self.pending = reserved, pending
            return f"{exc.pointer}: {exc.message}"
        if not required or shape.nullable:
            tb.tracked.append(path)
        return None

    def json_fallback(
        self,
        tb: TableBuilder,
        column: str,
        node: Node,
        ptr: str,
        path: tuple[str, ...],
        required: bool,
        reason: str | None,
        where: str,
    ) -> None:
        tb.json_column(column, node, ptr, path, required)
        if reason:
            self.warn(where or ptr, f"stored in JSON column {tb.name}.{tb.columns[-1].name}: {reason}", node.src.file)

    def recursive(
        self,
        tb: TableBuilder,
        prop: str,
        column: str,
        sub: Node,
        ptr: str,
        path: tuple[str, ...],
        required: bool,
        loop: _Ancestor,
        ancestors: tuple[_Ancestor, ...],
        children: list[_Child],
    ) -> None:
        """A property that contains its own ancestor: rows of the root table linked to their holder, when the
        ancestor is the root document and the property is an optional object or an array of it; else JSON."""
        shape = self.classify(sub)
        is_root_loop = loop is ancestors[0] and loop.table == tb.name and len(path) == 1
        many = shape.kind == "array" and is_root_loop and bool(sub.items)
        if many:
            items = self.resolve(sub.items)
            is_root_loop = bool(items.identity & loop.identity) and self.classify(items).kind == "object"
        single = shape.kind == "object" and is_root_loop and not required
        if not (many or single) or shape.nullable:
            reason = f"it contains {loop.ptr} again (recursion)"
            return self.json_fallback(tb, column, sub, ptr, path, required, reason, ptr)
        link = tb.claim(f"{column}_of", ptr)
        position = tb.claim(f"{column}_position", ptr) if many else None
        tb.self_refs.append(SelfRef(path, link, position, ptr))
        if not required:
            tb.tracked.append(path)
        return None


def _clip_comments(columns: list[Column]) -> tuple[Column, ...]:
    """Comments clipped so that a table's comments fit MySQL's table definition size (about 64 KB)."""
    limit = max(MIN_COMMENT, min(MAX_COLUMN_COMMENT, COMMENTS_PER_TABLE // max(1, len(columns))))
    return tuple(replace(c, comment=clip(c.comment, limit)) for c in columns)


def _child_names(parent: str, path: tuple[str, ...]) -> tuple[str, ...]:
    """`<parent singular>_<property plural>` (with the path of flattened objects between them), then
    fallbacks for when another property already took that name: unpluralized, and with a hash of the path."""
    head = "_".join(naming.snake(p) for p in path)
    first = f"{naming.singular(parent)}_{naming.plural(head)}"
    digest = hashlib.sha256("/".join((parent, *path)).encode()).hexdigest()[:8]
    return first, f"{naming.singular(parent)}_{head}", f"{parent}_{head}", f"{first}_{digest}"


def root_table_name(title: str | None, stem: str) -> str:
    """snake_case plural of the title when it reads as a name (`CustomerProfile`, `Issues opened event`),
    else of the file stem (titles like "JSON schema for the JSON Feed format" make poor table names)."""
    if title and _NAME_LIKE.match(title.strip()):
        return naming.plural(naming.snake(title))
    return naming.plural(naming.snake(stem))


def _purpose(description: str | None, kind: str) -> str:
    suffix = {"object": " (1:1).", "array": " (1:N)."}.get(kind, "")
    text = (description or "").strip()
    first = text.split(". ")[0].rstrip(".") if text else ""
    if not suffix:
        return f"{first}." if first else ""
    return f"{first}{suffix}" if first else suffix.strip(" .()") + "."


def normalize(source: SourceSchema) -> SchemaModel:
    return Normalizer(source).run()
