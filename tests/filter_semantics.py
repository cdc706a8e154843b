"""The README's filter and ordering semantics evaluated in pure Python, the reference the filter tests hold
`find`, `count`, `pages`, `page` and `export --where` to; and walking a store's keyset pages."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemarel import AsyncStore
from schemarel.runtime.query import OPERATORS
from schemarel.runtime.store import Store

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "lte": operator.le, "gt": operator.gt,
    "gte": operator.ge, "startswith": str.startswith, "endswith": str.endswith, "contains": operator.contains,
}  # fmt: skip
PATTERNS = ("startswith", "endswith", "contains")

SETTINGS = settings(
    max_examples=30,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: minutes on a busy machine
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)

Step = tuple[str, bool]  # a property name, and whether it is an array whose items the rest of the path is in


@st.composite
def operations(
    draw: st.DrawFn, values: st.SearchStrategy[Any], strings: st.SearchStrategy[str], odd: bool = False
) -> Any:
    """A filter on one path: a value, null or not null, or an operator with `values` (a pattern with `strings`);
    `odd`: also two operators at once, and now and then an ordered comparison with null."""
    op = draw(st.sampled_from([*OPERATORS, "null", "not null", "plain", *(["two"] if odd else [])]))
    if op == "plain":
        return draw(values)
    if op in ("null", "not null"):
        return {"eq" if op == "null" else "ne": None}
    if op == "in":
        return {"in": draw(st.lists(st.one_of(values, st.none()), max_size=4))}
    if op in PATTERNS:
        return {op: draw(strings)}
    if op == "two":
        return {"gte": draw(values), "lt": draw(values)}
    return {op: draw(st.one_of(values, st.none()) if odd and draw(st.integers(0, 9)) == 0 else values)}


def kind(value: Any) -> str:
    """The JSON type a filter compares within (integers and numbers alike)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    return "string" if isinstance(value, str) else "object" if isinstance(value, dict) else "array"


def holds(op: str, have: Any, operand: Any) -> bool:
    """Whether a document's value (None: null or absent) meets one operator: values compare within their JSON
    type (integers and numbers alike); `ne` holds for any value of another type, an object too; a pattern takes
    a string; `in` ignores a null."""
    if operand is None:
        return (have is None) == (op == "eq")
    if op == "in":
        return any(holds("eq", have, v) for v in operand if v is not None)
    if have is None:
        return False
    if op in PATTERNS:
        return isinstance(have, str) and OPS[op](have, operand)
    if kind(have) != kind(operand):
        return op == "ne"
    return OPS[op](have, operand)


def matches(document: dict[str, Any], where: dict[str, Any], steps: Callable[[str], Sequence[Step]]) -> bool:
    """The filter evaluated in Python. `steps(path)` spells a path out. A path inside an array holds when some
    item meets its operators, the paths inside one array for the same item; objects on the way that are absent
    (or not objects) leave the value absent."""
    groups: dict[tuple[Step, ...], list[tuple[Sequence[Step], Any]]] = {}
    for path, spec in where.items():
        spelled = list(steps(path))
        split = max((i + 1 for i, (_, is_array) in enumerate(spelled) if is_array), default=0)
        groups.setdefault(tuple(spelled[:split]), []).append((spelled[split:], spec))
    for outer, terms in groups.items():
        nodes = reach(document, outer)
        if not any(all(_term(value_at(node, rest), spec) for rest, spec in terms) for node in nodes):
            return False
    return True


def _term(have: Any, spec: Any) -> bool:
    ops = spec.items() if isinstance(spec, dict) else [("eq", spec)]
    return all(holds(op, have, operand) for op, operand in ops)


def reach(document: Any, steps: Sequence[Step]) -> list[Any]:
    """The nodes at the end of `steps`: the items of every array on the way (none where an array is absent)."""
    nodes = [document]
    for name, is_array in steps:
        found = [node.get(name) if isinstance(node, dict) else None for node in nodes]
        nodes = [i for f in found for i in (f if isinstance(f, list) else [])] if is_array else found
    return nodes


def value_at(node: Any, steps: Sequence[Step]) -> Any:
    for name, _ in steps:
        node = node.get(name) if isinstance(node, dict) else None
    return node


def order_key(name: str, desc: bool, ranks: Sequence[str]) -> Callable[[tuple[Any, Any]], Any]:
    """`order_by` on a root property in Python: by JSON type in the columns' order (`ranks` of `kind`), then
    value, descending reversing both; NULLs (and objects, which no column holds) last, the id breaking ties."""

    def key(item: tuple[Any, Any]) -> Any:
        value = item[1].get(name)
        if value is None or kind(value) not in ranks:
            return (1, 0, 0, item[0])
        rank = ranks.index(kind(value))
        return (0, -rank, _Reversed(value), item[0]) if desc else (0, rank, value, item[0])

    return key


class _Reversed:
    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and bool(self.value == other.value)


def walk(store: Store, order_by: str, limit: int = 2, where: dict[str, Any] | None = None) -> list[Any]:
    """The ids of every document matching `where`, page after page of `page` by its keyset cursor."""
    walked, after = [], None
    while True:
        page = store.page(where, order_by=order_by, limit=limit, after=after)
        walked += [k for k, _ in page.items]
        if (after := page.next) is None:
            return walked


async def async_found(url: str, store: Store, where: dict[str, Any]) -> tuple[list[str], int]:
    """What an AsyncStore on the same database finds and counts."""
    async with AsyncStore(url, store.name, schemas_dir=store.schemas_dir) as other:
        found = sorted([str(k) async for k, _ in other.find(where)])
        return found, await other.count(where)
