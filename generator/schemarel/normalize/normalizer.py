"""Normalization: one validated JSON Schema → tables, columns, keys and enums of the relational IR.

Rules (README, "How schemas become tables"): a root object is a table with a uuid key; a required nested
object is flattened into its parent; an optional one gets its own 1:1 table keyed by the parent's key; an
array becomes a child table with a surrogate `bigserial` key (which also keeps item order); free-form objects
and values that can take several shapes are JSON columns (the latter with a warning). `schema.refs` resolves
and merges nodes, `shapes` says how a node is stored, `walk` decides per property, `columns` builds one table's columns.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import inflection

from schemarel import naming
from schemarel.errors import SchemaError
from schemarel.ir import (
    Column,
    ColumnType,
    Constraint,
    Default,
    ForeignKey,
    MapEntries,
    SchemaModel,
    SchemaWarning,
    Table,
)
from schemarel.normalize import maps
from schemarel.normalize.budget import TableBudget
from schemarel.normalize.columns import (
    MAX_COLUMN_COMMENT,
    MAX_TABLE_COMMENT,
    TableBuilder,
    clip,
    comment_text,
    previous_path,
    purpose,
)
from schemarel.normalize.shapes import Shape, classify
from schemarel.normalize.walk import EXTRA_COLUMN, MAX_TABLES, Ancestor, Child, PropertyWalker
from schemarel.schema.loader import SourceSchema
from schemarel.schema.refs import Node, Src, resolve, root_src
from schemarel.schema.work import Work
from schemarel.sql import limits
from schemarel.sql.types import SPELLED_KINDS

TIMESTAMP_COLUMNS = (("created_at", "Set when the row is inserted."), ("updated_at", "Set on every write."))
PRESENCE_COLUMN = "_present"
SPELLING_COLUMN = "_spelling"
DOCUMENT_COLUMN = "document"
MAX_DEPTH = 24
COMMENTS_PER_TABLE = 20_000  # MySQL refuses a table definition over 64 KB, comments included
MIN_COMMENT = 80


class Normalizer(PropertyWalker):
    """Turns one SourceSchema into a SchemaModel; raises SchemaError naming file and pointer."""

    def __init__(self, source: SourceSchema, strict: bool = False) -> None:
        self.source = source
        self.strict = strict
        self.catalog = replace(source.catalog, work=Work())  # each schema has the whole budget
        self.tables: list[Table] = []
        self.enums: list[Any] = []
        self.warnings: list[SchemaWarning] = []
        self.table_names: dict[str, str] = {}  # table name → pointer, to refuse collisions
        self.class_names: set[str] = set()
        self._resolved: dict[tuple[tuple[int, str, str], ...], Node] = {}
        self._shapes: dict[int, tuple[Node, Shape]] = {}
        self.budget = TableBudget(self.resolve, self.classify)
        self.pending = 0
        self.row_sizes = {}
        self.server_keys = False

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

    def warn(self, ptr: str, message: str, file: str | None = None) -> None:
        self.warnings.append(SchemaWarning(file or self.source.display_path, ptr, message))

    def error(self, ptr: str, message: str) -> SchemaError:
        return self.source.error(ptr, message)

    def run(self) -> SchemaModel:
        root = self.resolve([root_src(self.source)])
        shape = self.classify(root)
        title = root.kw.get("title") if isinstance(root.kw.get("title"), str) else None
        xsql = root.xsql
        self.server_keys = xsql.get("primaryKey") == "identity"
        name = xsql.get("table") or naming.root_table_name(title, self.source.name)
        old_title = None if xsql.get("table") else xsql.get("renamedFrom")
        previous = (naming.plural(naming.snake(old_title)),) if old_title else ()
        row = {"object": "object", "array": "container"}.get(shape.kind, "json") if not shape.branches else "json"
        if row == "json":
            reason = f": {shape.reason}" if shape.reason else ""
            self.warn(shape.where or "#", f"the document is stored whole in a JSON column{reason}")
        self.build_table("root", Child("root", None, shape, "#", (), (name,), previous=previous), None, (), row)
        description = root.kw.get("description")
        return SchemaModel(
            name=self.source.name,
            title=title or naming.class_name(naming.snake(self.source.name)),
            path=self.source.display_path,
            tables=tuple(self.tables),
            enums=tuple(self.enums),
            description=description if isinstance(description, str) else "",
            warnings=tuple(self.warnings),
        )

    def build_table(
        self,
        kind: str,
        spec: Child,
        parent: Table | None,
        ancestors: tuple[Ancestor, ...],
        row: str = "object",  # what a row holds: an object's properties, an array's items, the items table, JSON
    ) -> None:
        node, ptr, shape = spec.shape.node, spec.ptr, spec.shape
        name = self.claim_table(spec.names, ptr, len(ancestors))
        previous = naming.renamed(name, *spec.previous)
        tb = TableBuilder(name, node.src.file, previous=previous, warn=self.warn)
        children: list[Child] = []
        value_column = json_root = None
        entries: MapEntries | None = None
        here = (*ancestors, Ancestor(frozenset(node.identity), name, (), ptr))
        if row == "json":
            json_root = tb.claim(DOCUMENT_COLUMN, ptr)
            tb.columns.append(Column(json_root, ColumnType("json"), False, path=(), pointer=ptr, notes="The document."))
        elif row == "array":
            value_column = self.array_rows(tb, node, ptr, spec.prop, here, children)
        elif row == "map":
            assert spec.plan is not None
            value_column, entries = self.map_rows(tb, spec, here, children)
        elif row == "container":  # a root array: the document is the list of rows of its items table
            children.append(Child("array", None, shape, ptr, (), naming.items_table_names(name)))
        else:
            if kind == "object" and shape.nullable:
                tb.tracked.append(())
            self.object_columns(tb, shape, ptr, (), here, children)
        fk_col = None
        if parent is not None:  # named after the rows: a property may already use the natural name
            pk = parent.primary_key.columns[0]
            fk_col = tb.claim(tb.free(f"{naming.singular(parent.name)}_{pk}", f"parent_{pk}"), f"{ptr} (key to parent)")
        key_columns, pk_cols = self.key_columns(tb, kind, node, ptr, parent, fk_col)
        self.link_columns(tb, key_columns[0] if key_columns else tb.columns[0], pk_cols[0])
        if entries is not None and fk_col:  # one row per key of each parent's object
            keyed = (fk_col, entries.key_column)
            tb.uniques.append(Constraint(naming.uq_name(name, keyed), keyed))
        if value_column and fk_col and node.kw.get("uniqueItems") is True:
            tb.uniques.append(Constraint(naming.uq_name(name, (fk_col, value_column)), (fk_col, value_column)))
        if kind == "root" and node.xsql.get("timestamps"):
            for stamp, note in TIMESTAMP_COLUMNS:
                tb.claim(stamp, f"{ptr} (x-sql timestamps)", " and by x-sql timestamps")
                tb.columns.append(Column(stamp, ColumnType("datetime"), False, Default("now"), notes=note))
        presence = self.system_column(tb, PRESENCE_COLUMN, bool(tb.tracked), ptr, "Values that leave no other trace.")
        extra = self.system_column(tb, EXTRA_COLUMN, bool(tb.open_objects), ptr, "Properties the schema does not name.")
        spelled = any(c.type.kind in SPELLED_KINDS and (c.path or c.name == value_column) for c in tb.columns)
        spelling = self.system_column(tb, SPELLING_COLUMN, spelled, ptr, "Values as written, where a column respells.")
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
            comment=clip(comment_text(node, ptr), MAX_TABLE_COMMENT),
            parent=parent.name if parent else None,
            json_property=spec.prop,
            parent_path=spec.parent_path,
            value_column=value_column,
            pointer=ptr,
            purpose=purpose(comment_text(node), kind, parent.name if parent else None, spec.parent_path),
            class_name=self.class_name(name),
            renamed_from=previous,
            previous_path=previous_path(node, spec.parent_path) if spec.prop is not None and parent else (),
            renamed_objects=tuple(tb.renamed_objects.items()),
            presence_column=presence,
            extra_column=extra,
            spelling_column=spelling,
            presence_paths=tuple(tb.tracked),
            open_objects=tuple(tb.open_objects),
            self_refs=tuple(tb.self_refs),
            json_root=json_root,
            entries=entries,
        )
        for where, problem in limits.table_problems(table, tb.enums):
            raise SchemaError(tb.file, where, problem)
        self.tables.append(table)
        self.enums += tb.enums
        for child in children:
            self.pending -= child.reserve
            self.build_table(child.kind, child, table, here, child.kind if child.kind in ("array", "map") else "object")

    def map_rows(
        self, tb: TableBuilder, spec: Child, here: tuple[Ancestor, ...], children: list[Child]
    ) -> tuple[str | None, MapEntries]:
        """A map table's columns: the key, then the value's, as the items of an array would have them."""
        found = spec.plan
        assert found is not None and found.value_src is not None and found.key is not None
        holder = spec.shape.node
        values = Node(found.value_src, items=[found.value_src])  # the rows are the values, as items are
        whole = maps.pure(holder)
        prop = spec.parent_path[-1] if whole and spec.parent_path else "value"
        value_column = self.array_rows(tb, values, spec.ptr, prop, here, children)
        key = tb.free(*maps.KEY_COLUMNS)
        tb.scalar_column(key, "string", found.key, found.key.src.ptr, (), True, False)
        tb.columns.insert(0, replace(tb.columns.pop(), notes="The key of the entry in its object."))
        return value_column, MapEntries(key, tuple(holder.props), found.patterns, whole)

    def class_name(self, table: str) -> str:
        """The model class: CamelCase singular of the table, unless another table of the schema has it."""
        for candidate in (naming.class_name(table), inflection.camelize(table)):
            if candidate not in self.class_names:
                break
        else:
            candidate = inflection.camelize(naming.shorten(f"{table}_{len(self.class_names)}"))
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
            own_id = next((c for c in tb.columns if c.name == "id" and c.path == ("id",)), None)
            if kind == "root" and own_id is not None:  # the document's own `id`, not a flattened object's
                self.warn(tb.seen["id"], _id_not_key(own_id, strategy))
            own = tb.claim("id" if "id" not in tb.seen else "pk", f"{ptr} (primary key)", " and by the primary key")
            if strategy == "identity":
                return [Column(own, ColumnType("bigint"), False, Default("sequence"), notes="Primary key.")], (own,)
            return [Column(own, ColumnType("uuid"), False, Default("uuid"), notes="Primary key.")], (own,)
        parent_key = parent.column(parent.primary_key.columns[0])
        ref = f"`{parent.name}.{parent_key.name}`"
        old_fk = naming.renamed(fk_col, *(f"{naming.singular(p)}_{parent_key.name}" for p in parent.renamed_from))
        tb.foreign_keys.insert(
            0, ForeignKey(naming.fk_name(tb.name, (fk_col,), parent.name), (fk_col,), parent.name, (parent_key.name,))
        )
        if kind == "object":
            return [Column(fk_col, parent_key.type, False, notes=f"PK & FK to {ref}.", renamed_from=old_fk)], (fk_col,)
        own = tb.claim("id" if "id" not in tb.seen else "pk", f"{ptr} (primary key)", " and by the primary key")
        tb.indexes.insert(0, Constraint(naming.ix_name(tb.name, (fk_col,)), (fk_col,)))
        columns = [
            Column(own, ColumnType("bigint"), False, Default("sequence"), notes="Surrogate PK."),
            Column(fk_col, parent_key.type, False, notes=f"FK to {ref}.", renamed_from=old_fk),
        ]
        return columns, (own,)

    def link_columns(self, tb: TableBuilder, key: Column, pk: str) -> None:
        """Columns of recursive properties stored as rows of this table: the holder's key and the position."""
        for ref in tb.self_refs:
            note = f"Set when this row is `{'.'.join(ref.path)}` of the row it references."
            tb.columns.append(Column(ref.column, key.type, True, notes=note, pointer=ref.pointer))
            fk = naming.fk_name(tb.name, (ref.column,), tb.name)
            tb.foreign_keys.append(ForeignKey(fk, (ref.column,), tb.name, (pk,)))
            tb.indexes.append(Constraint(naming.ix_name(tb.name, (ref.column,)), (ref.column,)))
            if ref.position:
                tb.columns.append(Column(ref.position, ColumnType("integer"), True, notes="Position in the array."))

    def system_column(self, tb: TableBuilder, name: str, needed: bool, ptr: str, note: str) -> str | None:
        if not needed:
            return None
        tb.claim(name, f"{ptr} (schemarel)", " and by schemarel")
        tb.columns.append(Column(name, ColumnType("json"), True, notes=note))
        return name


def _id_not_key(column: Column, strategy: Any) -> str:
    """Why a document's `id` property is not its table's primary key, and how to make it so."""
    assigned = "a bigint the database assigns" if strategy == "identity" else "a uuid schemarel assigns"
    why = "the schema does not say its values are unique"
    if column.nullable or column.type.kind == "json":
        why = "it is optional, may be null or is not a scalar"
    how = "" if column.nullable else '; key the table by it with "x-sql": {"primaryKey": {"property": "id"}}'
    return f"property `id` is a plain column, not the primary key ({why}): documents are keyed by `pk`, {assigned}{how}"


def _clip_comments(columns: list[Column]) -> tuple[Column, ...]:
    """Comments clipped so that a table's comments fit MySQL's table definition size (about 64 KB)."""
    limit = max(MIN_COMMENT, min(MAX_COLUMN_COMMENT, COMMENTS_PER_TABLE // max(1, len(columns))))
    return tuple(replace(c, comment=clip(c.comment, limit)) for c in columns)


def normalize(source: SourceSchema, strict: bool = False) -> SchemaModel:
    """The schema's tables; `strict` refuses two properties of one object that ask for one column name."""
    try:
        return Normalizer(source, strict).run()
    except RecursionError:  # every path is bounded; this is the last line, never a traceback
        raise source.error("#", "the schema nests too deeply to map to tables") from None
