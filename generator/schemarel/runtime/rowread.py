"""Rows → documents compiled once per schema: per table, a function that reads its rows into nodes and hangs them
on their parents, written from the IR as `DocumentMap.node`, `start` and `attach` would do it row by row.

The generic steps ask, for every row, what its table and fields are; here they are asked once per schema and
the answers written out as straight-line code (a document of 5 rows: 5 dict lookups and a few stores, no call
per field). A row whose presence marks, extras or spellings are set, and tables holding a JSON root, a list,
recursive properties or a union's columns, are read by `DocumentMap.node` itself (`general`); where a node
goes is always compiled. `DocumentMap` stays the reference: the tests compare both on the same rows (the
most common row, no required property NULL, is built in dict displays).

No schema text is ever part of the generated source: property names and paths are bound as constants (`K3`, …)
in the namespace the source runs in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from schemarel.runtime import exactjson, marks
from schemarel.runtime.codegen import CodeWriter
from schemarel.runtime.documents import DocumentMap, required_map
from schemarel.runtime.tablemap import Field, TableMap, system_columns

Load = Callable[[Iterable[Sequence[Any]], dict[Any, Any], "dict[Any, Any] | None"], None]


def general_only(tm: TableMap) -> bool:
    """Whether every row of `tm` is read by `DocumentMap.node` (what the compiled readers leave to it)."""
    table = tm.table
    if table.json_root or tm.links or tm.container or any(f.others for f in tm.fields):
        return True
    if table.value_column is not None:
        return len(tm.fields) != 1 or bool(tm.fields[0].path)
    return False


class _Compiler(CodeWriter):
    def __init__(self, mapping: DocumentMap) -> None:
        self.mapping = mapping
        super().__init__({"loads": exactjson.stored, "mget": marks.get, "ensure": marks.ensure})

    def emit(self, indent: int, *lines: str) -> None:
        self.lines += [" " * indent + line for line in lines]

    def build(self) -> tuple[list[Callable[[Sequence[Any]], Any]], list[Load]]:
        for tm in self.mapping.tables:
            self.namespace[f"general_{tm.index}"] = _general(self.mapping, tm)
            self.emit(0, f"def read_{tm.index}(row):")
            self.read(tm, 4)
            self.emit(4, "return node")
            self.emit(0, "")
            if tm.parent is not None:
                self.load(tm)
        self.run("<schemarel read plan>")
        tables = self.mapping.tables
        readers = [self.namespace[f"read_{tm.index}"] for tm in tables]
        loads = [self.namespace[f"load_{tm.index}"] if tm.parent is not None else _no_load for tm in tables]
        return readers, loads

    # -- a row's node -----------------------------------------------------------------------------------
    def read(self, tm: TableMap, at: int) -> None:
        """Lines that set `node` to the node of `row`, as `DocumentMap.node` reads it."""
        general = f"general_{tm.index}"
        if general_only(tm):
            self.emit(at, f"node = {general}(row)")
            return
        start = tm.read_offset
        after = start + len(tm.fields) + (tm.map_key is not None)  # a map table's key column comes first
        system = [f"row[{c}] is not None" for c in range(after, after + len(system_columns(tm.table)))]
        inner = at
        if system:  # marks, extras or spellings to restore: the general reader's work
            self.emit(at, f"if {' or '.join(system)}:", f"    node = {general}(row)", "else:")
            inner = at + 4
        if tm.table.value_column is not None:  # an item of an array of scalars
            only = tm.fields[0]
            decode = exactjson.stored if only.json else only.from_db
            self.emit(inner, f"node = row[{start}]")
            if decode is not None:
                self.emit(inner, "if node is not None:", f"    node = {self.const(decode, 'C')}(node)")
            return
        nulls = [start + i for i, f in enumerate(tm.fields) if f.required[-1] and not f.json]
        if not nulls:
            self.fields(tm, inner, set())
            return
        # the common row first: no required property is NULL, so none is put back as null, and the values can
        # go into dict displays
        self.emit(inner, f"if {' and '.join(f'row[{c}] is not None' for c in nulls)}:")
        self.fields(tm, inner + 4, set(nulls))
        self.emit(inner, "else:")
        self.fields(tm, inner + 4, set())
        # a NULL of a required property is a null, wherever its object is there
        for i, f in enumerate(tm.fields):
            if start + i not in nulls:
                continue
            self.emit(inner + 4, f"if row[{start + i}] is None:")
            if len(f.path) == 1:
                self.emit(inner + 8, f"node[{self.const(f.path[0])}] = None")
            else:
                self.emit(
                    inner + 8,
                    f"c = mget(node, {self.const(f.path[:-1])})",
                    "if isinstance(c, dict):",
                    f"    c[{self.const(f.path[-1])}] = None",
                )

    def fields(self, tm: TableMap, at: int, sure: set[int]) -> None:
        """Lines that set `node` to the object of the row's fields, in field order (what `marks.put` makes); the
        values at the row positions of `sure` are known not to be NULL. Then the flattened objects the schema
        requires (there even when left empty)."""
        start = tm.read_offset
        items = [(start + i, f) for i, f in enumerate(tm.fields)]
        display = []
        while items and items[0][0] in sure and len(items[0][1].path) == 1:  # a leading run: one dict display
            c, f = items.pop(0)
            display.append(f"{self.const(f.path[0])}: {self.value(f, f'row[{c}]')}")
        self.emit(at, f"node = {{{', '.join(display)}}}")
        touched = {f.path[0] for f in tm.fields[: len(display)]}
        while items:
            c, f = items.pop(0)
            if c in sure and len(f.path) == 2 and f.path[0] not in touched:  # an object of its own: a display
                group = [(c, f)]
                while items and items[0][0] in sure and items[0][1].path[:-1] == f.path[:-1]:
                    group.append(items.pop(0))
                inner = ", ".join(f"{self.const(g.path[1])}: {self.value(g, f'row[{n}]')}" for n, g in group)
                self.emit(at, f"node[{self.const(f.path[0])}] = {{{inner}}}")
            elif c in sure:
                self.emit(
                    at, f"{self.holder('node', f.path[:-1])}[{self.const(f.path[-1])}] = {self.value(f, f'row[{c}]')}"
                )
            else:
                self.emit(at, f"v = row[{c}]", "if v is not None:")
                self.emit(
                    at + 4, f"{self.holder('node', f.path[:-1])}[{self.const(f.path[-1])}] = {self.value(f, 'v')}"
                )
            touched.add(f.path[0])
        for prefix in tm.prefixes:
            if len(prefix) == 1:
                step = self.const(prefix[0])
                self.emit(at, f"if node.get({step}) is None:", f"    node[{step}] = {{}}")
            else:
                self.emit(at, f"ensure(node, {self.const(prefix)})")

    def value(self, f: Field, expression: str) -> str:
        """The document's value of the column value `expression` (not NULL)."""
        if f.json:
            return f"loads({expression})"
        if f.from_db is not None:
            return f"{self.const(f.from_db, 'C')}({expression})"
        return expression

    def holder(self, node: str, path: tuple[str, ...]) -> str:
        """An expression of the object at `path` in `node`, made where missing (`marks.put`'s steps)."""
        for step in path:
            node = f"{node}.setdefault({self.const(step)}, {{}})"
        return node

    # -- a table's rows hung on their parents ------------------------------------------------------------
    def load(self, tm: TableMap) -> None:
        """`load_i(rows, parents, held)`: `DocumentMap.start` for every parent node, then each row's node put
        where `DocumentMap.attach` puts it; `held` (the table has children) keeps the nodes by row key."""
        assert tm.parent is not None
        path = tm.table.parent_path
        self.emit(0, f"def load_{tm.index}(rows, parents, held):")
        if tm.table.kind == "array" and path and path not in tm.parent.tracked:  # a required array
            self.start(path, "[]")
        elif required_map(tm, path):
            self.start(path, "{}")
        self.emit(4, "get = parents.get", "for row in rows:")
        self.emit(8, f"parent = get(row[{tm.read_offset - 1}])")
        self.emit(8, "if parent is None:  # a row of a parent that is not read (a range wider than the page)")
        self.emit(8, "    continue")
        self.read(tm, 8)
        if tm.map_key is not None:
            target = f"ensure(parent, {self.const(path)})" if path else "parent"
            self.emit(8, f"{target}[row[{tm.read_offset + len(tm.fields)}]] = node")
        elif tm.table.kind == "array" and not path:
            self.emit(8, "parent.append(node)")  # the parent's node is the list itself
        elif tm.table.kind == "array" and len(path) == 1:
            step = self.const(path[0])
            self.emit(8, f"items = parent.get({step})", "if items is None:", f"    items = parent[{step}] = []")
            self.emit(8, "items.append(node)")
        elif tm.table.kind == "array":
            self.emit(8, f"ensure(parent, {self.const(path)}, list).append(node)")
        else:
            self.emit(8, f"{self.holder('parent', path[:-1])}[{self.const(path[-1])}] = node")
        if tm.children:
            self.emit(8, "held[row[0]] = node")
        self.emit(0, "")

    def start(self, path: tuple[str, ...], empty: str) -> None:
        self.emit(4, "for parent in parents.values():", "    if isinstance(parent, dict):")
        if len(path) == 1:
            step = self.const(path[0])
            self.emit(12, f"if parent.get({step}) is None:", f"    parent[{step}] = {empty}")
        else:
            self.emit(12, f"ensure(parent, {self.const(path)}, {'list' if empty == '[]' else 'dict'})")


def _general(mapping: DocumentMap, tm: TableMap) -> Callable[[Sequence[Any]], Any]:
    node = mapping.node

    def general(row: Sequence[Any]) -> Any:
        return node(tm, row)

    return general


def _no_load(rows: Iterable[Sequence[Any]], parents: dict[Any, Any], held: dict[Any, Any] | None) -> None:
    raise AssertionError("the root table has no parent")


def compile_reads(mapping: DocumentMap) -> tuple[list[Callable[[Sequence[Any]], Any]], list[Load]]:
    """Per table (in `mapping.tables` order): its row reader, and its loader (the root's only raises)."""
    return _Compiler(mapping).build()
