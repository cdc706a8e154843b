"""How many tables a subtree would need: big, graph-like schemas (FHIR, Popolo) reach one definition from
many places, and storing every copy as tables multiplies them; past a budget a subtree is stored as JSON."""

from __future__ import annotations

from collections.abc import Callable

from schemarel.normalize import maps
from schemarel.normalize.shapes import Shape
from schemarel.schema.refs import Node, Src

# Tables one property may bring (itself and everything below it); more → one JSON column and a warning.
SUBTREE_TABLES = 60
_CAP = 10**6
MAX_NESTING = 40  # objects and arrays nested in one another (walk refuses deeper); keeps recursion shallow


class TableBudget:
    """Estimates the tables below a node; memoized per definition, recursion counted as JSON (0).

    A property over budget will be stored as JSON, so it counts 0 towards its parent: the cut happens as
    deep as it can, and shallow structure keeps its tables."""

    def __init__(self, resolve: Callable[[list[Src]], Node], classify: Callable[[Node], Shape]) -> None:
        self.resolve = resolve
        self.classify = classify
        self.memo: dict[frozenset[str], int] = {}

    def tables(self, node: Node, stack: frozenset[str] = frozenset()) -> int:
        """Tables the value of `node` needs, not counting one for the node itself."""
        key = frozenset(node.identity)
        if key and key in self.memo:
            return self.memo[key]
        if len(stack) > MAX_NESTING:  # deeper than any sensible tree of tables: count it as too many
            return _CAP
        stack = stack | key
        shape = self.classify(node)
        total = 0
        if shape.kind == "object":
            for prop, srcs in shape.node.props.items():
                if prop not in shape.json_props:
                    total += self._within(self.contribution(self.resolve(srcs), prop in shape.node.required, stack))
            if shape.node.map_values:
                total += self._within(self._map(shape.node, stack))
        elif shape.kind == "array" and shape.node.items:
            total = self._within(self.contribution(self.resolve(shape.node.items), True, stack))
        total = min(total, _CAP)
        if key:
            self.memo[key] = total
        return total

    @staticmethod
    def _within(count: int) -> int:
        return count if count <= SUBTREE_TABLES else 0

    def contribution(self, sub: Node, required: bool, stack: frozenset[str] = frozenset()) -> int:
        """Tables a property brings: its own (unless flattened) and those below it."""
        if sub.identity & stack:
            return 0
        shape = self.classify(sub)
        if shape.kind == "object":
            storage = sub.xsql.get("storage")
            flattened = storage != "table" and (required and not shape.nullable or maps.pure(shape.node))
            return self.tables(sub, stack) + (0 if flattened else 1)
        if shape.kind == "array" and shape.node.items:
            items = self.resolve(shape.node.items)
            if items.identity & stack or self.classify(items).kind not in ("object", "array", "scalar"):
                return 0
            return 1 + self.tables(items, stack)
        return 0

    def _map(self, node: Node, stack: frozenset[str]) -> int:
        """Tables a map brings: its own and those of its values (none when its keys stay JSON)."""
        found = maps.plan(node, self.resolve, self.classify)
        if found.value is None or found.value.identity & stack:
            return 0
        if self.classify(found.value).kind == "array":  # rows are lists: their items have a table below
            return 1 + self.contribution(found.value, True, stack)
        return 1 + self.tables(found.value, stack)
