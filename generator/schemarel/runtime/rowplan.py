"""Document → rows compiled once per schema: Python functions written for its tables, read from the IR.

`DocumentMap`'s generic mapping asks, for every node of every document, what each table and field is; here
the questions are asked once per schema and the answers written out as straight-line functions (one per
table: its row, and its rows under a parent node). The generic mapping stays the reference: the tests compare
both on generated documents. What the compiler does not know goes through the generic mapping, for that table
and everything under it: a table kind or an attribute (of the IR or of the runtime's table map) added since it
was written, documents nested by recursive properties, a node that is not a plain dict.

No schema text is ever part of the generated source: property names, columns and paths are bound as
constants (`K3`, `T1`, …) in the namespace the source runs in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from schemarel.ir import Column, Table
from schemarel.runtime import marks
from schemarel.runtime.codegen import CodeWriter
from schemarel.runtime.keys import new_key
from schemarel.runtime.marks import MISSING
from schemarel.runtime.tablemap import RAW_CLASSES, Field, RowBatch, TableMap, convert, raw, system_columns
from schemarel.sql.conversions import respelled

Add = Callable[[RowBatch, Any, Any], Any]


class Mapping(Protocol):
    """What the compiler reads of `documents.DocumentMap` (which imports this module)."""

    tables: list[TableMap]
    root: TableMap

    def json_text(self, tm: TableMap, column: str, value: Any) -> str | bytes: ...

    def _row(self, tm: TableMap, node: Any, key: Any, link: Any = None) -> list[Any]: ...

    def _add_children(self, batch: RowBatch, tm: TableMap, node: Any, key: Any, index: int) -> None: ...


KNOWN_KINDS = frozenset({"root", "object", "array"})
# the Python classes whose every value is of a JSON type (`tablemap.json_kind`): checked by class, no call
_CLASSES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "number": (float, Decimal),
}
# the attributes the compiled code accounts for; a table with any other one set (beyond its default) is mapped
# by the generic code, which is where a new attribute is first taught
KNOWN = {
    Table: frozenset({
        "name", "kind", "schema", "columns", "primary_key", "foreign_keys", "uniques", "indexes", "checks",
        "comment", "parent", "json_property", "parent_path", "value_column", "pointer", "purpose", "class_name",
        "presence_column", "presence_paths", "extra_column", "spelling_column", "open_objects", "self_refs",
        "json_root", "renamed_from", "previous_path", "renamed_objects",
    }),
    Column: frozenset({"name", "type", "nullable", "default", "comment", "path", "path_required", "pointer",
                       "notes", "renamed_from", "json_types", "previous_path",
                       "renamed_values"}),
    TableMap: frozenset({"table", "sa_table", "parent", "index", "key", "key_source", "fk", "fields", "columns",
                         "children", "prefixes", "tracked", "links"}),
    Field: frozenset({"column", "kind", "path", "required", "json", "to_db", "from_db", "default", "accepts",
                      "others", "null_kept"}),
}  # fmt: skip


@dataclass(frozen=True)
class RowPlan:
    """`add`: `DocumentMap.add` without `link`, compiled; `generic`: the tables it leaves to the generic code
    (with what hangs off them)."""

    add: Add
    generic: tuple[str, ...]


def compile_plan(mapping: Mapping) -> RowPlan | None:
    """The compiled row builder of a mapping, or None when its root table is not one the compiler knows (every
    document then goes the generic way)."""
    root = mapping.root
    if not _known(root) or root.links:
        return None
    add = _Compiler(mapping).build()
    return RowPlan(add, tuple(tm.table.name for tm in mapping.tables[1:] if not _known(tm)))


def _known(tm: TableMap) -> bool:
    """Whether the compiled code does for this table exactly what the generic mapping does."""
    if tm.table.kind not in KNOWN_KINDS:
        return False
    if tm.parent is not None and tm.links:
        return False
    if not all(_plain_attrs(obj) for obj in (tm, tm.table, *tm.table.columns, *tm.fields)):
        return False
    pathless = [f for f in tm.fields if not f.path]
    return not pathless or len(tm.fields) == 1  # a node is an object, or one value (an item, a JSON root)


def _plain_attrs(obj: Any) -> bool:
    known = KNOWN[type(obj)]
    for f in dataclasses.fields(obj):
        if f.name in known:
            continue
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if getattr(obj, f.name) != default:
            return False
    return True


class _Compiler(CodeWriter):
    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        super().__init__(
            {
                "MISSING": MISSING,
                "get": marks.get,
                "presence": marks.presence,
                "extras": marks.extras,
                "respelled": respelled,
                "new_key": new_key,
                "json_text": mapping.json_text,
                "generic_row": mapping._row,
                "generic_children": mapping._add_children,
                "convert": convert,
                "raw": raw,
            }
        )

    def build(self) -> Add:
        tables = self.mapping.tables
        for tm in tables:
            if _known(tm):
                self.row_function(tm)
        for tm in tables[1:]:
            self.children_function(tm)
        self.root_function(tables[0])
        self.run("<schemarel row plan>")
        add: Add = self.namespace["add"]
        return add

    def emit(self, *lines: str) -> None:
        self.lines += lines

    # -- one row --------------------------------------------------------------------------------------
    def row_function(self, tm: TableMap) -> None:
        """`row_i(node, key)`: the row of one node, as `DocumentMap._row` builds it."""
        table = tm.table
        i = tm.index
        t = self.const(tm, "T")
        self.emit(f"def row_{i}(node, key):")
        pathless = len(tm.fields) == 1 and not tm.fields[0].path
        if not pathless:
            # None (a null item or object) and anything not a dict: the generic code words or handles it
            self.emit("    if node.__class__ is not dict:", f"        return generic_row({t}, node, key)")
        if table.spelling_column:
            self.emit("    spelled = {}")
        cells = ["key"] if tm.key_source in ("client", "parent") or tm.fk else []
        prefixes: dict[tuple[str, ...], str] = {(): "node"}
        for n, f in enumerate(tm.fields):
            cells.append(self.cell(tm, f, n, prefixes))
        spelled = {table.presence_column: None, table.extra_column: None, table.spelling_column: "spelled"}
        for c in system_columns(table):
            if c == table.presence_column:
                self.emit(f"    m = presence({self.const(table.presence_paths)}, node)")
                what = "m"
            elif c == table.extra_column:
                self.emit(f"    x = extras({self.const(table.open_objects)}, node)")
                what = "x"
            else:
                what = spelled[c] or "None"
            cells.append(f"(json_text({t}, {self.const(c)}, {what}) if {what} else None)")
        self.emit(f"    return [{', '.join(cells)}]", "")

    def value(self, path: tuple[str, ...], prefixes: dict[tuple[str, ...], str], absent: str = "MISSING") -> str:
        """An expression of the value at `path` in `node` (`absent` when it is not there), as `marks.get` finds
        it; the objects along the way are looked up once per row."""
        if not path:
            return "node"
        parent = path[:-1]
        if parent not in prefixes:
            holder = self.value(parent, prefixes)
            name = f"p{len(prefixes)}"
            self.emit(f"    {name} = {holder}")
            prefixes[parent] = name
        holder = prefixes[parent]
        step = self.const(path[-1])
        if not parent:
            return f"node.get({step}, {absent})"
        return f"({holder}.get({step}, {absent}) if isinstance({holder}, dict) else {absent})"

    def cell(self, tm: TableMap, f: Field, n: int, prefixes: dict[tuple[str, ...], str]) -> str:
        """The column's value: an expression, or the name of a local that statements compute."""
        typed = f.accepts is not None or not f.null_kept
        name = f"c{n}"
        if not f.json and f.to_db is None and not typed:  # stored as it is; absent and null are NULL
            cls = RAW_CLASSES.get(f.kind)
            if cls is None:
                return self.value(f.path, prefixes, absent="None")
            self.emit(
                f"    {name} = {self.value(f.path, prefixes, absent='None')}",
                f"    if {name} is not None and {name}.__class__ is not {self.const(cls, 'K')}:",
                f"        {name} = raw({self.const(tm, 'T')}, {self.const(f, 'F')}, {name})",
            )
            return name
        self.emit(f"    v = {self.value(f.path, prefixes)}")
        if typed:
            self.divert(tm, f)
        if not f.json and f.to_db is None:
            self.emit(f"    {name} = None if v is MISSING else v")
            return name
        if f.json:
            self.emit(
                f"    {name} = None if v is MISSING else json_text({self.const(tm, 'T')}, {self.const(f.column)}, v)"
            )
        else:
            field = self.const(f, "F")
            self.emit(
                "    if v is MISSING or v is None:",
                f"        {name} = None",
                "    else:",
                "        try:",
                f"            {name} = {self.const(f.to_db, 'C')}(v)",
                "        except (ValueError, TypeError, OverflowError):  # worded by `convert`",
                f"            {name} = convert({self.const(tm, 'T')}, {field}, v)",
            )
            if tm.table.spelling_column:
                rel = self.const(marks.relative(f.path))
                self.emit(
                    f"        s = respelled({field}.kind, v, {name}, {field}.from_db)",
                    "        if s is not None:",
                    f"            spelled[{rel}] = s",
                )
        return name

    def divert(self, tm: TableMap, f: Field) -> None:
        """A value the column does not take (a union's other type, or one no column holds), or a null only the
        unnamed properties keep: the row is the generic code's, which routes it (`DocumentMap._row`)."""
        fast = self.const(frozenset(c for kind in f.accepts or () for c in _CLASSES.get(kind, ())), "A")
        fits = f"v.__class__ in {fast} or {self.const(f, 'F')}.fits(v)"
        null = "True" if f.null_kept else "False"
        self.emit(
            f"    if v is not MISSING and (({fits}) if v is not None else {null}):",
            "        pass",
            "    elif v is not MISSING:",
            f"        return generic_row({self.const(tm, 'T')}, node, key)",
        )

    # -- the rows under a parent node -----------------------------------------------------------------
    def children_function(self, tm: TableMap) -> None:
        """`sub_i(batch, node, key, index)`: the rows of table i under the parent's `node` (row `index` of the
        parent's table), as `DocumentMap._add_children` adds them."""
        i = tm.index
        self.emit(f"def sub_{i}(batch, node, key, index):")
        if not _known(tm):
            self.emit(f"    generic_children(batch, {self.const(tm, 'T')}, node, key, index)", "")
            return
        path = tm.table.parent_path
        if not path:
            self.emit("    value = node")
        elif len(path) == 1:
            self.emit(f"    value = node.get({self.const(path[0])}, MISSING) if isinstance(node, dict) else MISSING")
        else:
            self.emit(f"    value = get(node, {self.const(path)})")
        child_key = "key" if tm.key_source == "parent" else "None"
        calls = [f"sub_{c.index}(batch, {{item}}, {child_key}, len(rows) - 1)" for c in tm.children]
        if tm.table.kind == "object":
            self.emit(
                "    if not isinstance(value, dict):  # absent, null, or the scalar a union's columns hold",
                "        return",
                f"    rows = batch.rows[{i}]",
                f"    rows.append(row_{i}(value, key))",
                f"    batch.parents[{i}].append(index)",
                *(f"    {call.format(item='value')}" for call in calls),
            )
        elif calls:
            self.emit(
                "    if not isinstance(value, list):",
                "        return",
                f"    rows = batch.rows[{i}]",
                f"    parents = batch.parents[{i}]",
                "    for item in value:",
                f"        rows.append(row_{i}(item, key))",
                "        parents.append(index)",
                *(f"        {call.format(item='item')}" for call in calls),
            )
        else:
            self.emit(
                "    if not isinstance(value, list) or not value:",
                "        return",
                f"    batch.rows[{i}].extend([row_{i}(item, key) for item in value])",
                f"    batch.parents[{i}].extend([index] * len(value))",
            )
        self.emit("")

    def root_function(self, root: TableMap) -> None:
        """`add(batch, document, key)`, as `DocumentMap.add` without `link`."""
        self.emit("def add(batch, document, key):")
        if root.key_source == "client":
            self.emit("    if key is None:", "        key = new_key()")
        position = root.key_position
        self.emit(
            "    row = row_0(document, key)",
            "    rows = batch.rows[0]",
            "    rows.append(row)",
            "    batch.documents += 1",
            f"    doc_key = {'None' if position is None else f'row[{position}]'}",
        )
        if root.children:
            self.emit("    index = len(rows) - 1")
        self.emit(*(f"    sub_{c.index}(batch, document, doc_key, index)" for c in root.children))
        self.emit("    return doc_key", "")
