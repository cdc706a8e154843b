"""Walking an object's properties into a table: columns, flattened objects, child tables, JSON and recursion.

`PropertyWalker` is the half of the normalizer that decides, property by property, where a value goes;
`normalize.Normalizer` builds the tables those decisions describe.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from schemarel import naming
from schemarel.errors import SchemaError
from schemarel.ir import OpenObject, SchemaWarning, SelfRef
from schemarel.normalize import maps
from schemarel.normalize.budget import MAX_NESTING, SUBTREE_TABLES, TableBudget
from schemarel.normalize.columns import NameCollision, TableBuilder
from schemarel.normalize.shapes import Shape, items_of
from schemarel.normalize.unions import ACCEPTS, case_checks, union_columns
from schemarel.schema.loader import Catalog
from schemarel.schema.refs import UNTYPED, Node, Src, inferred
from schemarel.sql import limits

EXTRA_COLUMN = "_extra"
MAX_TABLES = 200
# what a row keeps free for the columns added after the properties': keys (a uuid each), presence, extra,
# spelling, timestamps
ROW_RESERVE = 2 * 129 + 3 * limits.OFF_PAGE_BYTES + 16
COLUMN_RESERVE = 8


@dataclass
class Child:
    """A table discovered while building its parent's columns, built once the parent is done."""

    kind: str
    prop: str | None  # None: the items of an array of arrays
    shape: Shape
    ptr: str
    parent_path: tuple[str, ...]
    names: tuple[str, ...]  # the table's name, then fallbacks should another table have it
    reserve: int = 0  # tables set aside for it and below (see PropertyWalker.pending)
    previous: tuple[str, ...] = ()  # names it may have had in the last revision (`renamedFrom`)
    plan: maps.MapPlan | None = None  # kind "map": its keys and values


@dataclass(frozen=True)
class Ancestor:
    identity: frozenset[str]
    table: str
    path: tuple[str, ...]  # the node's path within its table
    ptr: str


class PropertyWalker:
    """Where each property of a node goes; the normalizer provides resolution, warnings and table budget."""

    table_names: dict[str, str]
    catalog: Catalog  # carries the schema's work budget
    warnings: list[SchemaWarning]
    budget: TableBudget
    # tables promised to children decided but not built yet: a parent decides all its children before any
    # is built, so shallow structure gets the table budget first and the deepest goes to JSON
    pending: int
    server_keys: bool  # the root's key is an identity the database assigns
    strict: bool  # two properties of one object asking for one column name is an error, not a renamed column
    row_sizes: dict[str, tuple[int, int]]  # table → (columns counted, their InnoDB row bytes): see row_is_full

    def resolve(self, srcs: list[Src]) -> Node:
        raise NotImplementedError

    def classify(self, node: Node) -> Shape:
        raise NotImplementedError

    def warn(self, ptr: str, message: str, file: str | None = None) -> None:
        raise NotImplementedError

    # -- rows -------------------------------------------------------------------------------------
    def array_rows(
        self,
        tb: TableBuilder,
        node: Node,
        ptr: str,
        prop: str | None,
        here: tuple[Ancestor, ...],
        children: list[Child],
    ) -> str | None:
        """Columns for the items of an array table; returns the value column of scalar items."""
        items = self.resolve(node.items or [node.src.at({}, "items")])  # no `items`: any value
        items_ptr = node.items[0].ptr if node.items else f"{ptr}/items"
        shape = self.classify(items)
        here = (*here, Ancestor(frozenset(items.identity), tb.name, (), items_ptr))
        # items without `type` whose keywords describe an array: a scalar item would be read back as `[]`. (An
        # object's keep their table, as FHIR's `items: {$ref: HumanName}` need: another value is refused, worded)
        if shape.kind == "array" and inferred(items):
            self.warn(items_ptr, f"stored as JSON: its keywords {UNTYPED.format(shape.kind)}", items.src.file)
            shape = replace(shape, kind="json")
        if shape.kind == "object" and not shape.branches:  # an item that may be a scalar is a JSON value
            if shape.nullable:
                tb.tracked.append(())
            self.object_columns(tb, shape, items_ptr, (), here, children)
            return None
        if shape.kind == "array":
            children.append(Child("array", None, shape, items_ptr, (), naming.items_table_names(tb.name)))
            return None
        name = items.xsql.get("column") or (naming.singular(naming.snake(prop)) if prop else "item")
        old = node.xsql.get("renamedFrom")
        previous = naming.singular(naming.snake(old)) if old and not items.xsql.get("column") else None
        if shape.kind == "scalar":
            tb.scalar_column(name, shape.scalar or "string", shape.node, items_ptr, (), True, shape.nullable, previous)
        else:
            tb.json_column(name, items, items_ptr, (), required=True)
        return tb.columns[-1].name

    def object_columns(
        self,
        tb: TableBuilder,
        shape: Shape,
        ptr: str,
        path: tuple[str, ...],
        ancestors: tuple[Ancestor, ...],
        children: list[Child],
    ) -> None:
        """Columns for the properties of an object node, recursing into flattened objects.

        The names this object's own scalar properties will take are reserved first, so that a nested object
        flattened before them cannot take one (it gets its own table instead)."""
        node = shape.node
        for message, where in shape.notes:
            self.warn(where, message, node.src.file)
        subs = {prop: self.resolve(srcs) for prop, srcs in node.props.items()}
        columns = self.column_names(tb, node, subs)
        reserved = []
        for prop, sub in subs.items():
            sub_shape = self.classify(sub)
            if prop in shape.json_props or sub_shape.kind in ("scalar", "json", "union") or sub_shape.branches:
                scalars = [b.scalar for b in sub_shape.branches]
                for name in union_columns(columns[prop], scalars) if sub_shape.branches else [columns[prop]]:
                    name = naming.shorten(name)
                    if name not in tb.reserved:
                        tb.reserved[name] = node.props[prop][0].ptr
                        reserved.append(name)
        for prop, sub in subs.items():
            sub_ptr = node.props[prop][0].ptr
            required = prop in node.required
            self.property(tb, prop, sub, sub_ptr, (*path, prop), required, shape, ancestors, children, columns[prop])
        self.unnamed_keys(tb, node, ptr, path, ancestors, children)
        for name in reserved:
            tb.reserved.pop(name, None)
        if shape.cases and shape.discriminator:
            tb.checks += case_checks(tb.name, tb.columns, path, shape.discriminator, shape.cases)

    def unnamed_keys(
        self,
        tb: TableBuilder,
        node: Node,
        ptr: str,
        path: tuple[str, ...],
        ancestors: tuple[Ancestor, ...],
        children: list[Child],
    ) -> None:
        """Where the keys no property names go: rows of a map table (see `maps`), else the JSON extras column."""
        spilled = tb.overflowed.get(path, set())  # properties `keep_in_extra` put there
        known = tuple(p for p in node.props if p not in spilled)
        loose = tuple((p[-1], kind) for p, kind in tb.loose if p[:-1] == path)
        found = maps.plan(node, self.resolve, self.classify) if node.map_values else None
        why, where = (found.reason, found.where) if found is not None else (None, "")
        if found is not None and found.value is not None:
            value = found.value
            identity = value.identity | (self.resolve(value.items).identity if value.items else set())
            loop = next((a for a in ancestors if a.identity & identity), None)
            count = 1 + self.budget.tables(value)
            if loop is not None:
                why, where = f"a map whose values contain {loop.ptr} again (recursion)", found.where or ptr
            elif count > SUBTREE_TABLES or len(self.table_names) + self.pending + count > MAX_TABLES:
                why, where = f"a map whose values would need {count} tables, past the table budget", ptr
            else:
                others = not (node.closed or any(r is None for r, _ in node.map_values))  # keys no pattern takes
                if loose or found.patterns or spilled or others:
                    tb.open_objects.append(OpenObject(path, known, found.patterns, loose))
                names = naming.child_table_names(tb.name, path if maps.pure(node) and path else (*path, "entries"))
                children.append(Child("map", None, Shape("object", node), ptr, path, names, count, plan=found))
                self.pending += count
                return
        if not node.closed or node.maps or spilled or loose:  # properties the schema does not name may appear
            tb.open_objects.append(OpenObject(path, known, (), loose))
        if maps.pure(node) and path and path not in tb.tracked:  # an empty map leaves no other trace
            tb.tracked.append(path)
        for at in [where] if why else node.maps:
            message = f"properties matched by it are kept in JSON column {tb.name}.{EXTRA_COLUMN}"
            self.warn(at, f"{message}: {why}" if why else message, node.src.file)

    def column_names(self, tb: TableBuilder, node: Node, subs: dict[str, Node]) -> dict[str, str]:
        """Each property's column name. Properties of one object whose names meet after snake_casing (`$schema`
        and `schema`, `schemaVersion` and `SchemaVersion`) are common in real schemas: unless `strict`, the
        later one (names chosen with `x-sql.column` first) gets the first free `<name>_<n>`, with a warning."""
        wanted = {prop: naming.shorten(sub.xsql.get("column") or naming.snake(prop)) for prop, sub in subs.items()}
        if self.strict:
            return wanted
        taken = set(wanted.values()) | set(tb.seen) | set(tb.reserved)
        owner: dict[str, str] = {}
        names: dict[str, str] = {}
        for prop in sorted(subs, key=lambda p: not subs[p].xsql.get("column")):  # stable: document order kept
            name = wanted[prop]
            if name in owner and not subs[prop].xsql.get("column"):
                first = node.props[owner[name]][0].ptr
                new = next(c for c in (naming.shorten(f"{name}_{n}") for n in range(2, 10_000)) if c not in taken)
                taken.add(new)
                self.warn(
                    node.props[prop][0].ptr,
                    f"column {name!r} of table {tb.name!r} is also produced by {first}; stored as {new!r} "
                    '(choose with "x-sql": {"column": "<name>"})',
                    node.src.file,
                )
                name = new
            owner.setdefault(name, prop)
            names[prop] = name
        return {prop: names[prop] for prop in subs}

    def property(
        self,
        tb: TableBuilder,
        prop: str,
        sub: Node,
        ptr: str,
        path: tuple[str, ...],
        required: bool,
        owner: Shape,
        ancestors: tuple[Ancestor, ...],
        children: list[Child],
        column: str,
    ) -> None:
        self.catalog.work.spend("properties", sub.src.file, ptr)  # flattening re-walks shared definitions
        if len(ancestors) > MAX_NESTING:
            raise SchemaError(
                sub.src.file,
                ptr,
                f"objects and arrays nest more than {MAX_NESTING} deep here (through $ref or inline); store such "
                'a subtree in one JSON column with "x-sql": {"storage": "json"}',
            )
        tb.steps[path] = required
        if prop in owner.json_props:
            reason, where = owner.json_props[prop]
            return self.json_fallback(tb, column, sub, ptr, path, required, reason, where)
        shape = self.classify(sub)
        item_srcs = items_of(sub, shape)
        identity = sub.identity | (self.resolve(item_srcs).identity if item_srcs else set())
        loop = next((a for a in ancestors if a.identity & identity), None)
        if loop is not None:
            return self.recursive(tb, prop, column, sub, ptr, path, required, loop, ancestors, children)
        storage = sub.xsql.get("storage")
        if shape.kind == "never":
            return None
        if shape.kind == "json":
            return self.json_fallback(tb, column, sub, ptr, path, required, shape.reason, shape.where)
        if shape.kind == "scalar":
            if not required and shape.nullable:
                tb.tracked.append(path)
            kind = shape.scalar or "string"
            # the JSON types it holds: a union's branch that does not name the property may give it others
            types = () if shape.node.xsql.get("type") else ACCEPTS.get(kind, ())
            return tb.scalar_column(column, kind, shape.node, ptr, path, required, shape.nullable, json_types=types)
        if shape.kind == "union":  # a column per JSON type; presence tells an absent value from a null
            if not required and shape.nullable:
                tb.tracked.append(path)
            return self.union_columns(tb, column, shape, ptr, path, required)
        count = self.budget.contribution(sub, required)
        if storage != "table" and count > SUBTREE_TABLES:
            reason = f"it would need {count} tables, more than {SUBTREE_TABLES}"
            return self.json_fallback(tb, column, sub, ptr, path, required, reason, ptr)
        if storage != "table" and len(self.table_names) + self.pending + count > MAX_TABLES:
            reason = f"the schema's {MAX_TABLES} tables are spent on properties before this one"
            return self.json_fallback(tb, column, sub, ptr, path, required, reason, ptr)
        if shape.kind == "object" and shape.branches:  # a scalar or an object: never flattened (it may be absent)
            kinds = {self.classify(self.resolve(srcs)).kind for srcs in shape.node.props.values()}
            if storage != "table" and not kinds <= {"scalar", "union"}:  # an id, or a copy of another document
                reason = 'a scalar or an object holding more than scalars (give it "x-sql": {"storage": "table"})'
                return self.json_fallback(tb, column, sub, ptr, path, required, reason, ptr)
            self.union_columns(tb, column, shape, ptr, path, required)
            tb.tracked.append(path)
            names, previous = self.child_names(tb, prop, sub, path)
            children.append(Child("object", prop, shape, ptr, path, names, count, previous))
            self.pending += count
            return None
        if shape.kind in ("object", "array") and inferred(sub):  # any other value: kept with the extras
            tb.loose.append((path, shape.kind))
        if shape.kind == "object":
            # a map's own table hangs off this one: an optional map is flattened too (its presence is marked)
            if storage == "flatten" or (storage is None and (maps.pure(shape.node) or required and not shape.nullable)):
                here = (*ancestors, Ancestor(frozenset(sub.identity), tb.name, path, ptr))
                old = sub.xsql.get("renamedFrom")
                if isinstance(old, str) and old != prop:  # what rows keep below it moves (`match.fresh_objects`)
                    tb.renamed_objects[path] = old
                collision = self.flatten(tb, shape, ptr, path, here, children, storage == "flatten", required)
                if collision is None:
                    return None
                tb.renamed_objects.pop(path, None)  # a table of its own: its `renamedFrom` names that table
                names, previous = self.child_names(tb, prop, sub, path)  # only now: naming costs, flattening is common
                self.warn(ptr, f"stored in its own table {names[0]}, not flattened into {tb.name}: {collision}")
            else:
                names, previous = self.child_names(tb, prop, sub, path)
                if shape.nullable:
                    tb.tracked.append(path)
            children.append(Child("object", prop, shape, ptr, path, names, count, previous))
            self.pending += count
            return None
        items = self.resolve(item_srcs) if item_srcs else None
        items_shape = self.classify(items) if items is not None else None
        if items_shape is None or items_shape.kind in ("json", "never", "union") or items_shape.branches:
            why = "its items have no type" if items_shape is None else items_shape.reason
            if items_shape is not None and items_shape.branches:
                held = [b.scalar or "string" for b in items_shape.branches]
                held += [items_shape.kind] if items_shape.kind != "union" else []
                why = f"its items may be any of {', '.join(held)}"
            about = ptr if items_shape is None else items_shape.where
            return self.json_fallback(tb, column, sub, ptr, path, required, why, about)
        if not required or shape.nullable:
            tb.tracked.append(path)
        names, previous = self.child_names(tb, prop, sub, path)
        children.append(Child("array", prop, shape, ptr, path, names, count, previous))
        self.pending += count
        return None

    def union_columns(
        self, tb: TableBuilder, column: str, shape: Shape, ptr: str, path: tuple[str, ...], required: bool
    ) -> None:
        """A nullable column per scalar branch of `shape`, each holding the values of its JSON types."""
        names = union_columns(column, [b.scalar for b in shape.branches])
        for name, branch in zip(names, shape.branches, strict=True):
            kind = branch.scalar or "string"
            tb.scalar_column(name, kind, branch.node, ptr, path, required, True, json_types=ACCEPTS[kind])
            said = f"`{'.'.join(path)}` when it is {' or '.join(ACCEPTS[kind])} (NULL otherwise)."
            tb.columns[-1] = replace(tb.columns[-1], notes=f"{tb.columns[-1].notes} Holds {said}")

    def child_names(
        self, tb: TableBuilder, prop: str, sub: Node, path: tuple[str, ...]
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The child table's name (and fallbacks), and the names a `renamedFrom` hint says it had."""
        if sub.xsql.get("table"):
            return (sub.xsql["table"],), ()
        names = naming.child_table_names(tb.name, path)
        # a hint stays in the schema after its revision: try the hinted names, then the current ones
        props = (sub.xsql.get("renamedFrom") or prop, prop)
        previous = tuple(
            naming.child_table_names(parent, (*held, p))[0]
            for parent in (*tb.previous, tb.name)
            for held in tb.holders(path[:-1])  # under renamed flattened objects: their names then
            for p in props
        )
        return names, previous

    def flatten(
        self,
        tb: TableBuilder,
        shape: Shape,
        ptr: str,
        path: tuple[str, ...],
        ancestors: tuple[Ancestor, ...],
        children: list[Child],
        explicit: bool,
        required: bool,
    ) -> str | None:
        """Flatten an object into `tb`; returns why not (undoing everything) if two columns would share a name
        and flattening was not asked for explicitly."""
        state, n_children, n_warnings, reserved = tb.state(), len(children), len(self.warnings), dict(tb.reserved)
        pending = self.pending
        if not required or shape.nullable:
            tb.optional_objects.append(path)
            tb.tracked.append(path)
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
        if self.row_is_full(tb):
            self.keep_in_extra(tb, path)
            why = f": {reason}" if reason else ""
            message = f"kept in JSON column {tb.name}.{EXTRA_COLUMN}, the row has no room for another column{why}"
            return self.warn(where or ptr, message, node.src.file)
        tb.json_column(column, node, ptr, path, required)
        if reason:
            self.warn(where or ptr, f"stored in JSON column {tb.name}.{tb.columns[-1].name}: {reason}", node.src.file)

    def row_is_full(self, tb: TableBuilder) -> bool:
        """Whether one more JSON column would leave too little of a row for the key and system columns (a schema
        of hundreds of properties stored as JSON: InnoDB's row size and column count are per table)."""
        counted, size = self.row_sizes.get(tb.name, (0, limits.row_bytes(())))
        if counted > len(tb.columns):  # a flattening was undone
            counted, size = 0, limits.row_bytes(())
        size += sum(limits.column_bytes(c) + 1 for c in tb.columns[counted:])  # + 1: a NULL bit, rounded up
        self.row_sizes[tb.name] = (len(tb.columns), size)
        full_row = size + limits.OFF_PAGE_BYTES + ROW_RESERVE > (limits.MARIADB.row_bytes or size)
        return full_row or len(tb.seen) + COLUMN_RESERVE >= limits.MAX_COLUMNS

    @staticmethod
    def keep_in_extra(tb: TableBuilder, path: tuple[str, ...]) -> None:
        """Store the property at `path` among the properties kept in the row's `_extra` JSON (the runtime
        keeps there whatever the object's `known` properties leave out, and puts it back on read)."""
        tb.overflowed.setdefault(path[:-1], set()).add(path[-1])  # `unnamed_keys` leaves it out of `known`

    def recursive(
        self,
        tb: TableBuilder,
        prop: str,
        column: str,
        sub: Node,
        ptr: str,
        path: tuple[str, ...],
        required: bool,
        loop: Ancestor,
        ancestors: tuple[Ancestor, ...],
        children: list[Child],
    ) -> None:
        """A property that contains its own ancestor: rows of the root table linked to their holder, when the
        ancestor is the root document and the property is an optional object or an array of it; else JSON."""
        shape = self.classify(sub)
        # the holder's key must be known when its rows are built: not a key the database hands out
        is_root_loop = loop is ancestors[0] and loop.table == tb.name and len(path) == 1 and not self.server_keys
        many = shape.kind == "array" and is_root_loop and bool(shape.node.items)
        if many:
            items = self.resolve(shape.node.items)
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
