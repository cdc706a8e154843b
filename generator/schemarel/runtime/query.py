"""Lookups by value: filters on document paths compiled to SQL over the tables, ordering and keyset cursors.

A path names a scalar the tables hold in a column: `lastName`, `privacySettings.twoFactorEnabled`, and
inside arrays `emails` (the items of an array of scalars) or `phoneNumbers.type`. A filter on a path inside an
array holds when some item matches (`EXISTS` over the array's table); the filters on the fields of one array
must all hold for the same item. Filters: a value (equality; None: absent or null), or a mapping of
operators: `eq`, `ne`, `lt`, `lte`, `gt`, `gte`, `in` (a list), `startswith`, `endswith`, `contains`. On a
union of scalars (a column per JSON type) a value is compared in the column of its type.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from schemarel.errors import QueryError as QueryError  # where callers found it before errors.py held it
from schemarel.errors import amount as amount
from schemarel.runtime import exactjson
from schemarel.runtime.documents import DocumentMap
from schemarel.runtime.tablemap import Field, TableMap
from schemarel.runtime.textmatch import Both, Exact, Label, Like
from schemarel.runtime.values import problems

D = TypeVar("D")
Where = Mapping[str, Any]
OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "startswith", "endswith", "contains")
_COMPARE = {"eq": "__eq__", "ne": "__ne__", "lt": "__lt__", "lte": "__le__", "gt": "__gt__", "gte": "__ge__"}


@dataclass(frozen=True)
class Page(Generic[D]):
    """One page of `find`: (id, document) pairs, and the cursor of the next page (None after the last)."""

    items: list[tuple[Any, D]]
    next: str | None = None


@dataclass(frozen=True)
class Target:
    """Where a path's values live: a field of a table, reached from the root through `chain`."""

    path: str
    tm: TableMap
    field: Field
    chain: tuple[TableMap, ...]  # from the root's first child down to `tm`; empty for root columns
    union: tuple[Field, ...] = ()  # a union of scalars: its columns, one per JSON type (`field` is one of them)
    picks: tuple[Field, ...] = ()  # in a term on a union: the column each of the term's values is compared in
    # a scalar that may also be an object: the child table holding it when it is one (its columns are then NULL)
    alt: TableMap | None = None


@dataclass
class Paths:
    """Every filterable path of a schema (its scalar fields), and the unique ones `get_by` accepts."""

    mapping: DocumentMap
    targets: dict[str, Target] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for tm in self.mapping.tables:
            chain: list[TableMap] = []
            node: TableMap | None = tm
            while node is not None and node.parent is not None:
                chain.insert(0, node)
                node = node.parent
            prefix = tuple(step for t in chain for step in t.table.parent_path)
            for f in tm.fields:
                path = ".".join((*prefix, *f.path))
                # a scalar that may be an object too is a union: its values are checked against the columns' types
                union = tuple(g for g in tm.fields if g.path == f.path) if f.others else ()
                alt = next((c for c in tm.children if c.table.kind == "object" and c.table.parent_path == f.path), None)
                alt = alt if "object" in f.others else None
                self.targets.setdefault(path, Target(path, tm, f, tuple(chain), union, alt=alt))

    def target(self, path: str) -> Target:
        found = self.targets.get(path)
        if found is None:
            known = ", ".join(sorted(p for p, t in self.targets.items() if not t.field.json and p))
            raise QueryError(f"{self.mapping.model.name}: no path {path!r} to filter on (there are: {known})")
        if found.field.json:
            raise QueryError(f"{self.mapping.model.name}: {path!r} is stored as JSON and cannot be filtered on")
        return found

    def unique(self, path: str) -> Target:
        """A root column with a unique constraint (or the natural key) of its own."""
        found = self.target(path)
        table = found.tm.table
        singles = {c.columns[0] for c in (table.primary_key, *table.uniques) if len(c.columns) == 1}
        if found.chain or found.union or found.field.column not in singles:
            raise QueryError(f"{self.mapping.model.name}: {path!r} is not unique; use find()")
        return found


def query_value(target: Target, value: Any) -> Any:
    """A filter's value as the column holds it (a uuid, a datetime); QueryError when it cannot be one: a value of
    a JSON type the property's column does not hold (`true` for a string, `1.0` for a boolean, an object) would
    be compared as the database casts it (`1.0` matched `true`) or fail there as a database error."""
    if value is None:
        return value
    f = typed(target.field)
    # a filter's value is a document's (JSON): no set, tuple, bytes, Enum (psycopg would send its name), nor a
    # uuid.UUID or datetime, which the conversions to the column (taking the document's strings) do not take
    scalar = isinstance(value, bool | int | float | Decimal | str)
    if not scalar or (f.accepts is not None and not f.others and not f.fits(value)):
        holds = " or ".join(sorted(f.accepts or ())) or "a scalar"
        raise QueryError(f"{target.path}: {value!r} is not a value of this property (it holds {holds})")
    if isinstance(value, str):
        _unicode(target, value)
    if f.to_db is None:
        return value
    try:
        return f.to_db(value)
    except (ValueError, TypeError, AttributeError, OverflowError, ArithmeticError) as exc:
        raise QueryError(f"{target.path}: {value!r} is not a value of this property ({exc})") from None


def _unicode(target: Target, text: str) -> None:
    """QueryError for text holding a lone surrogate, which no driver can send."""
    if not text.isascii():
        found = problems(text).invalid
        if found:
            raise QueryError(f"{target.path}: the value {found[0].message}")


_value = query_value

_NUMBERS = frozenset({"integer", "number"})
# the JSON types a column of each kind holds (a text, date, time or uuid column: strings)
_KIND_HOLDS = {"boolean": frozenset({"boolean"}), "smallint": frozenset({"integer"}), "integer": frozenset({"integer"}),
               "bigint": frozenset({"integer"}), "float": _NUMBERS, "numeric": _NUMBERS, "json": None}  # fmt: skip


def typed(f: Field) -> Field:
    """`f` knowing the JSON types of its values: the schema's where the IR names them, else those of its column's
    kind (the items of an array of scalars, a type given by `x-sql`), so that a filter's value of another type is
    refused there too."""
    if f.accepts is not None or f.json:
        return f
    return replace(f, accepts=_KIND_HOLDS.get(f.kind, frozenset({"string"})))


class Binder:
    """Where filter values go: by default into the expression (SQLAlchemy binds them); with `named`, into
    `values` under `p0`, `p1`, … in binding order, so that a statement compiled once serves every call of the
    same form (runtime/direct.py)."""

    def __init__(self, named: bool = False) -> None:
        self.named = named
        self.values: dict[str, Any] = {}

    def __call__(self, type_: Any, value: Any) -> Any:
        if not self.named:
            # a bound literal of the column's type, not the bare value: SQLAlchemy refuses `<`/`>` against a bare
            # True or False (a keyset position on a boolean ordering key)
            return sa.literal(value, type_)
        name = f"p{len(self.values)}"
        self.values[name] = value
        return sa.bindparam(name, type_=type_)


_LIKE = {"startswith": "{}%", "endswith": "%{}", "contains": "%{}%"}


Term = tuple[Target, str, list[Any] | None]  # a path, an operator, its values (None: IS [NOT] NULL)


def terms(paths: Paths, where: Where | None) -> list[Term]:
    """The filters as terms, in the order their values are bound; values converted as the columns hold them."""
    if where is not None and not isinstance(where, Mapping):
        raise QueryError(f'where takes a mapping of paths to filters, as in {{"lastName": "Lovelace"}}, not {where!r}')
    for path in where or {}:
        if not isinstance(path, str):
            raise QueryError(f'where: {path!r} is no path (a string such as "address.city")')
    return [term for path, spec in (where or {}).items() for term in path_terms(paths.target(path), spec)]


def path_terms(target: Target, spec: Any) -> list[Term]:
    """The terms of the filters on one path."""
    out: list[Term] = []
    for op, operand in spec.items() if isinstance(spec, Mapping) else [("eq", spec)]:
        if op in _COMPARE:
            if operand is None and op in ("eq", "ne"):
                out.append((target, op, None))
            elif operand is None:  # `< NULL` would match nothing, silently
                raise QueryError(f"{target.path}: `{op}` takes a value, not null")
            else:
                out.append(_operands(target, op, [operand]))
        elif op == "in":
            if not isinstance(operand, list | tuple | set | frozenset):
                raise QueryError(f"{target.path}: `in` takes a list, not {operand!r}")
            # a null is in no column of a union: as `IN (NULL)` elsewhere, it matches nothing
            out.append(_operands(target, op, [v for v in operand if v is not None or not target.union]))
        elif op in _LIKE:
            if not isinstance(operand, str):
                raise QueryError(f"{target.path}: `{op}` takes a string, not {operand!r}")
            _unicode(target, operand)
            escaped = operand.replace("/", "//").replace("%", "/%").replace("_", "/_")
            out.append((_strings(target, op), op, [_LIKE[op].format(escaped)]))
        else:
            raise QueryError(f"{target.path}: unknown operator {op!r} (there are: {', '.join(OPERATORS)})")
    return out


def _operands(target: Target, op: str, operands: list[Any]) -> Term:
    """A term comparing `operands`, converted as their columns hold them: on a union, each value in the column
    of its JSON type, where the documents holding a value of that type keep it."""
    if not target.union:
        return target, op, [_value(target, v) for v in operands]
    picks = tuple(_column_of(target, op, v) for v in operands)
    values = [_value(replace(target, field=f), v) for f, v in zip(picks, operands, strict=True)]
    return replace(target, field=picks[0] if picks else target.field, picks=picks), op, values


def _column_of(target: Target, op: str, value: Any) -> Field:
    """The column of a union holding values of `value`'s JSON type (as a document's value is stored)."""
    if value is None:
        raise QueryError(f"{target.path}: `{op}` takes a value, not null")
    for f in target.union:
        if f.fits(value):
            return f
    raise QueryError(f"{target.path}: {value!r} is not a value of this property (it holds {_holds(target)})")


_TEXT = ("text", "varchar", "enum")  # the kinds of column whose value is the document's string as it was written


def _strings(target: Target, op: str) -> Target:
    """Where a pattern (`startswith`, …) is matched: the path's column, or a union's string column; QueryError
    where no column holds the strings as text (LIKE on a number casts it on SQLite and MariaDB, matching `10` for
    "1", and fails on PostgreSQL; a date, time or uuid column's text is not always the document's)."""
    columns = target.union or (typed(target.field),)
    found = next((f for f in columns if f.accepts is None or "string" in f.accepts), None)
    if found is None:
        raise QueryError(f"{target.path}: `{op}` matches strings and this property holds {_holds(target)}")
    if found.kind not in _TEXT:
        raise QueryError(
            f"{target.path}: `{op}` matches text and this property's strings are stored in a {found.kind} column"
            " (compare them with eq, ne, lt, lte, gt, gte, in)"
        )
    return replace(target, field=found, picks=(found,)) if target.union else target


def _holds(target: Target) -> str:
    columns = target.union or (typed(target.field),)
    return " or ".join(sorted(frozenset().union(*(f.accepts or () for f in columns), *(f.others for f in columns))))


def shape(items: list[Term]) -> tuple[Any, ...]:
    """What a statement compiled for these terms depends on (not their values)."""
    return tuple(
        (t.path, op, None if values is None else len(values), tuple(f.column for f in t.picks))
        for t, op, values in items
    )


def bound(items: list[Term]) -> list[Any]:
    """The terms' values in binding order (`p0`, `p1`, … of a Binder)."""
    return [v for _, _, values in items for v in values or ()]


def term_condition(target: Target, op: str, values: list[Any] | None, bind: Binder) -> Any:
    """The SQL condition of one term."""
    table = target.tm.sa_table
    column = compared(table, target.field)
    objects = [_object_row(target, target.alt)] if target.alt is not None else []  # an object: the columns NULL
    if values is None:  # null or absent: on a union, every column NULL (and no object)
        columns = [table.c[f.column] for f in target.union or (target.field,)]
        if op == "eq":
            return sa.and_(*(c.is_(None) for c in columns), *(~o for o in objects))
        return sa.or_(*(c.is_not(None) for c in columns), *objects)
    if op in _COMPARE:
        value = bind(column.type, values[0])
        cond = getattr(column, _COMPARE[op])(value)
        if op == "eq" and isinstance(column, Exact):  # the column's own `=` too: its index answers it
            cond = Both(_plain(table, target.field, [value]), cond)
        if op == "ne" and target.union:  # a value of another type (an object too) differs too
            others = (table.c[f.column] for f in target.union if f.column != target.field.column)
            return sa.or_(cond, *(c.is_not(None) for c in others), *objects)
        return cond
    if op == "in":
        if not values:
            return sa.false()
        by_column: dict[str, list[Any]] = {}
        by_name = {f.column: f for f in target.union or (target.field,)}
        for f, v in zip(target.picks or (target.field,) * len(values), values, strict=True):
            by_column.setdefault(f.column, []).append(bind(compared(table, f).type, v))  # bound in `values` order
        return sa.or_(*(_within(table, by_name[name], bound) for name, bound in by_column.items()))
    return Like(column.element, bind(sa.String(), values[0]), op)


def _within(table: sa.Table, f: Field, values: list[Any]) -> Any:
    column = compared(table, f)
    return Both(_plain(table, f, values), column.in_(values)) if isinstance(column, Exact) else column.in_(values)


def _plain(table: sa.Table, f: Field, values: list[Any]) -> Any:
    """`=` (one value) or IN of a text or enum column as its index answers it, to be made exact by `Both`."""
    column = table.c[f.column]
    if f.kind == "enum":
        return Label(column, values)
    return column == values[0] if len(values) == 1 else column.in_(values)


def compared(table: sa.Table, f: Field) -> Any:
    """The column of `f` as filters compare and order it: an enum as its text (a native enum, PostgreSQL's or
    MariaDB's, orders by its labels' places, has no LIKE, and refuses a string that is not a label); text
    exactly, as Python compares strings (runtime/textmatch.py)."""
    column = table.c[f.column]
    if f.kind not in _TEXT:
        return column
    return Exact(sa.cast(column, sa.Text()) if f.kind == "enum" else column)


def _object_row(target: Target, alt: TableMap) -> Any:
    """Whether the node of `target`'s row holds an object at the path (a row of `alt`, its child table)."""
    assert alt.fk is not None
    return sa.exists().where(alt.sa_table.c[alt.fk] == target.tm.sa_table.c[target.tm.key])


def condition(target: Target, spec: Any, bind: Binder | None = None) -> Any:
    """The SQL condition of the filters on one path."""
    items = path_terms(target, spec)
    return sa.and_(*(term_condition(t, op, values, bind or Binder()) for t, op, values in items))


def where_clause(paths: Paths, where: Where | None, bind: Binder | None = None) -> list[Any]:
    """Conditions on the root table: root columns directly, other tables through correlated EXISTS."""
    return where_of(terms(paths, where), bind or Binder())


def where_of(items: list[Term], bind: Binder) -> list[Any]:
    """The terms' conditions on the root table. A path inside an array holds when some item matches, the terms on
    one array's item together; the objects (child tables of one row at most) between that item, or the root,
    and the column are absent when their row is: a term holding for an absent value (`null`) holds then too."""
    nested: dict[tuple[int, ...], list[Any]] = {}
    chains: dict[tuple[int, ...], tuple[TableMap, ...]] = {}
    out = []
    for target, op, values in items:
        cond = term_condition(target, op, values, bind)
        split = max((i + 1 for i, t in enumerate(target.chain) if t.table.kind != "object"), default=0)
        outer, inner = target.chain[:split], target.chain[split:]
        if inner:
            absent = values is None and op == "eq"
            cond = ~_exists(inner, [~cond]) if absent else _exists(inner, [cond])
        if not outer:
            out.append(cond)
            continue
        key = tuple(t.index for t in outer)
        nested.setdefault(key, []).append(cond)
        chains[key] = outer
    for key, conds in nested.items():
        out.append(_exists(chains[key], conds))
    return out


def _exists(chain: Sequence[TableMap], conds: list[Any]) -> Any:
    """EXISTS over the last table of `chain`, joined up to the root row by each table's parent key."""
    inner: Any = sa.and_(*conds)
    for tm in reversed(chain):
        assert tm.parent is not None and tm.fk is not None
        parent = tm.parent.sa_table.c[tm.parent.key]
        inner = sa.exists().where(tm.sa_table.c[tm.fk] == parent, inner)
    return inner


@dataclass(frozen=True)
class Order:
    """`order_by` as (target, descending) pairs on root columns; the document id breaks ties."""

    keys: tuple[tuple[Target, bool], ...]

    @classmethod
    def parse(cls, paths: Paths, order_by: str | Sequence[str] | None) -> Order:
        names = [order_by] if isinstance(order_by, str) else order_by or ()
        if not isinstance(names, Sequence) or not all(isinstance(name, str) for name in names):
            raise QueryError(
                f'order_by takes a path or a list of paths ("lastName", "-address.city"), not {order_by!r}'
            )
        keys = []
        for name in names:
            desc = name.startswith("-")
            target = paths.target(name.lstrip("-"))
            if target.chain:
                raise QueryError(f"{target.path}: only properties stored in the root table can order documents")
            # a union orders by JSON type (its columns' order: string, integer, number, boolean), then by value;
            # descending reverses both
            columns = target.union[::-1] if desc else target.union
            keys += [(replace(target, field=f, union=()), desc) for f in columns] or [(target, desc)]
        return cls(tuple(keys))

    def columns(self, root: TableMap) -> list[Any]:
        out: list[Any] = []
        for target, desc in self.keys:
            column = compared(root.sa_table, target.field)
            nulls = sa.case((column.is_(None), sa.literal_column("1")), else_=sa.literal_column("0"))
            out += [nulls, column.desc() if desc else column]  # NULLs last
        return [*out, root.sa_table.c[root.key]]

    def after(self, root: TableMap, values: Sequence[Any], bind: Binder | None = None) -> Any:
        """Rows after the one whose order values (and id, last) are `values`, in this order (NULLs last)."""
        bind = bind or Binder()
        ors, equal = [], []
        for (target, desc), value in zip(self.keys, values, strict=False):
            column = compared(root.sa_table, target.field)
            if value is None:
                equal.append(column.is_(None))
                continue
            bound = bind(column.type, value)
            beyond = column < bound if desc else column > bound
            ors.append(sa.and_(*equal, sa.or_(beyond, column.is_(None))))
            equal.append(column == bound)
        key = root.sa_table.c[root.key]
        ors.append(sa.and_(*equal, key > bind(key.type, values[-1])))
        return sa.or_(*ors)

    def values(self, row: Any, root: TableMap) -> list[Any]:
        """The order values of a root row read with `DocumentMap.select` (database form), id last."""
        offset = root.read_offset
        positions = [root.fields.index(t.field) for t, _ in self.keys]
        return [row[offset + p] for p in positions] + [row[0]]

    def next_position(self, rows: Sequence[Any], size: int, root: TableMap) -> list[Any] | None:
        """Where the page after `rows` starts (their last row's order values), when the page is full (`size`
        rows: more may follow), else None (the last page)."""
        return self.values(rows[-1], root) if size and len(rows) == size else None

    def encode(self, values: Sequence[Any]) -> str:
        """An opaque cursor: the order values in document form, then the id."""
        out = []
        for (target, _), value in zip(self.keys, values, strict=False):
            f = target.field
            out.append(f.from_db(value) if value is not None and f.from_db else value)
        out.append(str(values[-1]) if not isinstance(values[-1], int) else values[-1])
        # exactjson: a number column's value is a Decimal (its digits kept), which `json` cannot write
        return base64.urlsafe_b64encode(exactjson.dumps(out).encode()).decode().rstrip("=")

    def decode(self, cursor: str, key: Any) -> list[Any]:
        try:
            raw = exactjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            assert isinstance(raw, list) and len(raw) == len(self.keys) + 1
            values = [_value(t, v) for (t, _), v in zip(self.keys, raw, strict=False)]
            return [*values, key(raw[-1])]
        except Exception:
            raise QueryError(f"not a cursor of this query: {cursor!r}") from None
