"""Columns of a table under construction: scalar and JSON columns, their types, defaults, checks and notes."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from itertools import product
from typing import Any

from schemarel import naming
from schemarel.errors import SchemaError
from schemarel.ir import Check, Column, ColumnType, Constraint, Default, EnumType, ForeignKey, OpenObject, SelfRef
from schemarel.schema.refs import Node, dedupe, json_type
from schemarel.sql import checks, limits
from schemarel.sql.kinds import KINDS
from schemarel.sql.types import native_enum_ok, parse_sql_type, scalar_type

# MySQL's limits on comments (characters); the full text stays in the docs.
MAX_COLUMN_COMMENT = 1024
MAX_TABLE_COMMENT = 2048
# an enum type or an IN list that long would be most of a table definition (MariaDB refuses one over 64 KiB)
OVER_ENUM_BUDGET = (
    f"an enum of more than {limits.MAX_ENUM_VALUES:,} values gets no enum type or CHECK: its column takes any value "
    "of its type (a string as long as the longest value), and only validation keeps documents to the enum's values"
)


class NameCollision(SchemaError):
    """Two parts of a schema ask for the same column name."""


@dataclass
class TableBuilder:
    """Everything one table collects while its node's properties are walked."""

    name: str
    file: str
    columns: list[Column] = field(default_factory=list)
    seen: dict[str, str] = field(default_factory=dict)  # column name → pointer that produced it
    uniques: list[Constraint] = field(default_factory=list)
    indexes: list[Constraint] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    enums: list[EnumType] = field(default_factory=list)
    tracked: list[tuple[str, ...]] = field(default_factory=list)  # paths the presence column keeps
    optional_objects: list[tuple[str, ...]] = field(default_factory=list)  # flattened objects that may be absent
    open_objects: list[OpenObject] = field(default_factory=list)
    # (path, kind) of properties mapped as an object or array without saying `type` (`OpenObject.loose`)
    loose: list[tuple[tuple[str, ...], str]] = field(default_factory=list)
    overflowed: dict[tuple[str, ...], set[str]] = field(default_factory=dict)  # object path → props kept in extra
    self_refs: list[SelfRef] = field(default_factory=list)
    reserved: dict[str, str] = field(default_factory=dict)  # names properties walked later will claim
    previous: tuple[str, ...] = ()  # names the table had in the last revision (`renamedFrom`)
    # flattened objects with a `renamedFrom` hint: path → the name it gives (`Table.renamed_objects`)
    renamed_objects: dict[tuple[str, ...], str] = field(default_factory=dict)
    steps: dict[tuple[str, ...], bool] = field(default_factory=dict)  # path → required in its object
    warn: Callable[[str, str, str | None], None] | None = None  # the normalizer's located warnings

    def path_required(self, path: tuple[str, ...]) -> tuple[bool, ...]:
        return tuple(self.steps.get(path[: i + 1], True) for i in range(len(path)))

    def claim(self, name: str, ptr: str, what: str = "") -> str:
        """Take a column name; a second claimant is an error naming both (with the x-sql way out), and so is
        one column more than every dialect allows (refused here, before the rest of the table is built)."""
        if len(self.seen) >= limits.MAX_COLUMNS:
            raise SchemaError(self.file, ptr.split(" ")[0], limits.too_many_columns(self.name))  # `# (primary key)`
        name = naming.shorten(name)
        if self.reserved.get(name, ptr) != ptr:
            raise NameCollision(
                self.file,
                ptr,
                f"column {name!r} of table {self.name!r} is also produced by {self.reserved[name]}{what}; "
                'rename one with "x-sql": {"column": "<another name>"}',
            )
        if name in self.seen:
            raise NameCollision(
                self.file,
                ptr,
                f"column {name!r} of table {self.name!r} is also produced by {self.seen[name]}{what}; "
                'rename one with "x-sql": {"column": "<another name>"}',
            )
        self.seen[name] = ptr
        return name

    def free(self, *candidates: str) -> str:
        """The first candidate name no property takes (for columns schemarel adds: theirs yield)."""
        return next((n for n in candidates if naming.shorten(n) not in self.seen), candidates[-1])

    def state(self) -> tuple[Any, ...]:
        """What `restore` needs to undo everything added after this call."""
        return tuple(len(x) for x in self._lists()), dict(self.seen)

    def restore(self, state: tuple[Any, ...]) -> None:
        lengths, seen = state
        for items, length in zip(self._lists(), lengths, strict=True):
            del items[length:]
        self.seen = seen

    def _lists(self) -> tuple[list[Any], ...]:
        return (self.columns, self.uniques, self.indexes, self.checks, self.foreign_keys, self.enums, self.tracked,
                self.open_objects, self.self_refs, self.optional_objects, self.loose)  # fmt: skip

    def holders(self, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        """`path` and what it may have been called at the last revision: each flattened object on it under the
        name its `renamedFrom` hint gives (first) or its own (a hint stays in the schema after its revision)."""
        steps = [
            (self.renamed_objects[path[: i + 1]], step) if path[: i + 1] in self.renamed_objects else (step,)
            for i, step in enumerate(path)
        ]
        return list(dict.fromkeys(product(*steps)))

    def may_be_absent(self, path: tuple[str, ...]) -> bool:
        """Whether a flattened object that holds `path` may be absent (its columns are then NULL)."""
        return any(path[: len(p)] == p for p in self.optional_objects)

    def json_column(self, name: str, node: Node, ptr: str, path: tuple[str, ...], required: bool) -> None:
        name = self.claim(name, ptr)
        # SQL NULL is "absent"; a JSON null is stored as JSON
        nullable = not required or self.may_be_absent(path)
        column = _column(name, ColumnType("json"), nullable, None, node, ptr, path, required)
        self.columns.append(
            replace(
                column,
                renamed_from=_previous(name, node, None),
                path_required=self.path_required(path),
                previous_path=previous_path(node, path),
            )
        )
        self._annotations(name, node)
        if "default" in node.kw and self.warn is not None:  # said rather than dropped silently
            shown = f"`default` {json.dumps(node.kw['default'])[:60]}"
            # the Store fills a required property's default in before writing (schema/defaults.py)
            message = (
                f"{shown} is filled in by the Store only: JSON column {self.name}.{name} gets no server default"
                if required
                else f"{shown} is not applied: JSON column {self.name}.{name} gets no server default, and an "
                "absent property is stored and read back as absent"
            )
            self.warn(f"{ptr}/default", message, self.file)

    def scalar_column(
        self,
        name: str,
        kind: str,
        node: Node,
        ptr: str,
        path: tuple[str, ...],
        required: bool,
        nullable: bool,
        previous: str | None = None,
        json_types: tuple[str, ...] = (),
    ) -> None:
        name = self.claim(name, ptr)
        kw = dict(node.kw)
        enum = [_as_kind(v, kind) for v in kw["enum"]] if isinstance(kw.get("enum"), list) else None
        enum = [v for v in enum if _fits(v, kind)] if enum is not None else None
        if enum is not None:
            kw["enum"] = dedupe(enum)
        xsql_type = node.xsql.get("type")
        allowed = kw.get("enum")
        if isinstance(allowed, list) and len(allowed) > limits.MAX_ENUM_VALUES:
            kw = _unlisted(kw, kind)
            if self.warn is not None:  # one message for every such enum: generate shows them on one line
                self.warn(f"{ptr}/enum", OVER_ENUM_BUDGET, self.file)
        renames = (
            _value_renames(self.file, ptr, node, allowed) if kind == "string" and isinstance(allowed, list) else ()
        )
        if xsql_type:
            ctype = parse_sql_type(xsql_type)
            if limits.type_problem(ctype):
                raise SchemaError(self.file, f"{ptr}/x-sql/type", f"{limits.type_problem(ctype)}")
        elif kind == "string" and kw.get("enum") and len(kw["enum"]) > 1 and native_enum_ok(kw["enum"]):
            enum_type = EnumType(naming.enum_name(self.name, name), tuple(kw["enum"]), pointer=ptr,
                                 renamed_values=renames)  # fmt: skip
            renames = ()  # the enum type's: its values are renamed with it
            self.enums.append(enum_type)
            ctype = ColumnType("enum", length=max(len(v) for v in enum_type.values), enum=enum_type.name)
        else:
            ctype = scalar_type(kind, kw)
        _refuse_unstorable(self.file, ptr, kw, ctype, allowed)
        found = checks.column_checks(self.name, name, kind, kw, ctype)
        self.checks += found
        pattern = kw.get("pattern")
        untranslated = not any(c.rule == "pattern" for c in found)
        if isinstance(pattern, str) and pattern and ctype.kind in ("text", "varchar") and untranslated and self.warn:
            message = f"no CHECK for pattern {pattern!r}: PostgreSQL has no equivalent; documents are validated"
            self.warn(f"{ptr}/pattern", message, self.file)
        default = _default(kw.get("default"), kind, ctype, allowed)
        if default is not None and limits.value_problem(default.value, ctype):
            problem = limits.value_problem(default.value, ctype)
            raise SchemaError(self.file, f"{ptr}/default", f"the default cannot be stored in its column: {problem}")
        nullable = nullable or not required or self.may_be_absent(path)
        column = _column(name, ctype, nullable, default, node, ptr, path, required)
        previous_names = _previous(name, node, previous)
        self.columns.append(
            replace(
                column,
                renamed_from=previous_names,
                path_required=self.path_required(path),
                json_types=json_types,
                previous_path=previous_path(node, path),
                renamed_values=renames,
            )
        )
        self._annotations(name, node)

    def _annotations(self, name: str, node: Node) -> None:
        xsql = node.xsql
        ref = xsql.get("references")
        if ref:
            ref_col = ref.get("column", "id")
            self.foreign_keys.append(
                ForeignKey(
                    naming.fk_name(self.name, (name,), ref["table"]),
                    (name,),
                    ref["table"],
                    (ref_col,),
                    ref.get("onDelete", "CASCADE"),
                    external=True,
                )
            )
        if xsql.get("unique"):
            self.uniques.append(Constraint(naming.uq_name(self.name, (name,)), (name,)))
        if xsql.get("index"):
            self.indexes.append(Constraint(naming.ix_name(self.name, (name,)), (name,)))


def _unlisted(kw: dict[str, Any], kind: str) -> dict[str, Any]:
    """The keywords of a column whose enum is too long for an enum type or a CHECK: without the enum, and a
    string's `maxLength` its longest value (its column is as long as the values need, no longer)."""
    values = kw.pop("enum")
    longest = max((len(v) for v in values if isinstance(v, str)), default=0)
    given = kw.get("maxLength")
    if kind == "string" and longest and not (isinstance(given, int) and 0 < given <= longest):
        kw["maxLength"] = longest
    return kw


def _refuse_unstorable(file: str, ptr: str, kw: dict[str, Any], ctype: ColumnType, allowed: Any) -> None:
    """Enum values (`allowed`) the column cannot hold, bounds past its type's range and SQL text with a NUL are
    refused: the database would refuse the CHECK at `upgrade`, or every document using the value."""
    for i, value in enumerate(allowed if isinstance(allowed, list) else ()):
        problem = limits.value_problem(value, ctype)
        if problem:
            raise SchemaError(file, f"{ptr}/enum", f"value {i} of the enum cannot be stored in its column: {problem}")
    if isinstance(kw.get("pattern"), str) and limits.text_problem(kw["pattern"]):
        raise SchemaError(file, f"{ptr}/pattern", f"the pattern: {limits.text_problem(kw['pattern'])}")
    low, high = limits.number_range(ctype)
    for key in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        bound = kw.get(key)
        if low is None or isinstance(bound, bool) or not isinstance(bound, int | float):
            continue
        lower = key.endswith("inimum")
        if (bound > high) if lower else (bound < low):  # no value of the column's type could be valid
            message = f"{bound} leaves no value the column's type holds ({low} to {high})"
            raise SchemaError(file, f"{ptr}/{key}", message)
        if (bound <= low) if lower else (bound >= high):  # the type holds nothing past it: no check needed
            kw.pop(key)


def _column(
    name: str,
    ctype: ColumnType,
    nullable: bool,
    default: Default | None,
    node: Node,
    ptr: str,
    path: tuple[str, ...],
    required: bool,
) -> Column:
    text = comment_text(node, ptr)
    return Column(
        name=name,
        type=ctype,
        nullable=nullable,
        default=default,
        comment=clip(text, MAX_COLUMN_COMMENT),
        path=path,
        pointer=ptr,
        notes=notes(text, path, required, node),
    )


def _previous(name: str, node: Node, previous: str | None) -> tuple[str, ...]:
    """The column's name before a `renamedFrom` hint on its property (none when x-sql names the column)."""
    xsql = node.xsql
    if previous is None and xsql.get("renamedFrom") and not xsql.get("column"):
        previous = naming.snake(xsql["renamedFrom"])
    return naming.renamed(name, previous)


def previous_path(node: Node, path: tuple[str, ...]) -> tuple[str, ...]:
    """`path` as it was before a `renamedFrom` hint on its last property; () without one."""
    old = node.xsql.get("renamedFrom")
    return (*path[:-1], old) if path and isinstance(old, str) and old != path[-1] else ()


def purpose(description: str | None, kind: str, parent: str | None = None, path: tuple[str, ...] = ()) -> str:
    """The table's one-line purpose for the docs: the description's first sentence (else what the rows hold:
    the `path` of a `parent` row), and 1:1 or 1:N."""
    suffix = {"object": " (1:1).", "array": " (1:N).", "map": " (1:N)."}.get(kind, "")
    text = (description or "").strip()
    first = text.split(". ")[0].rstrip(".") if text else ""
    if not suffix:
        return f"{first}." if first else ""
    if not first:
        held = f"`{'.'.join(path)}`" if path else "each item"
        first = (
            f"The {held} object of rows of `{parent}`"
            if kind == "object"
            else f"The entries of {held if path else 'the object'} of rows of `{parent}`, one row per key"
            if kind == "map"
            else f"The items of {held} of rows of `{parent}`, one row each"
        )
    return f"{first}{suffix}"


def comment_text(node: Node, ptr: str | None = None) -> str | None:
    """A column or table comment: the description, else the title (refused if no database can hold it)."""
    for key in ("description", "title"):
        value = node.kw.get(key)
        if isinstance(value, str) and value.strip():
            if limits.text_problem(value):
                raise SchemaError(node.src.file, f"{ptr or node.src.ptr}/{key}", f"{limits.text_problem(value)}")
            return value
    return None


def clip(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def notes(description: str | None, path: tuple[str, ...], required: bool, node: Node) -> str:
    parts: list[str] = []
    if len(path) > 1:
        parts.append(f"Mirrors `{'.'.join(path)}`.")
    if description:
        parts.append(description.strip())
    elif not parts:
        parts.append("Required by schema." if required else "Optional.")
    if node.kw.get("deprecated") is True:
        parts.append("Deprecated.")
    enum = node.kw.get("enum")
    if isinstance(enum, list) and enum:
        parts.append("Enum: " + ", ".join(f"`{v}`" for v in dedupe(enum)) + ".")  # a repeat says nothing new
    return " ".join(parts)


def _as_kind(value: Any, kind: str) -> Any:
    """An integer written with a fraction or an exponent (`1.0`, `1e20`) as the int it is for an `integer`
    column: JSON Schema counts it as an integer, so an enum keeps it (its CHECK refused valid documents) and a
    default is stored, or refused when out of range, instead of being dropped."""
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _fits(value: Any, kind: str) -> bool:
    found = json_type(value)
    return found == kind or (kind == "number" and found == "integer")


def _default(value: Any, kind: str, ctype: ColumnType, enum: Any) -> Default | None:
    """A server default, when the schema's `default` is a value the column can hold as it is written."""
    value = _as_kind(value, kind)
    if value is None or not _fits(value, kind) or ctype.kind == "json":
        return None
    if isinstance(enum, list) and value not in enum:
        return None
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        return None
    if ctype.kind in ("varchar", "enum") and ctype.length is not None and len(str(value)) > ctype.length:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and limits.value_problem(value, ctype):
        return Default("literal", value)  # out of the column's range: refused, with its pointer, by the caller
    conversion = KINDS[ctype.kind].conversion(ctype)  # the runtime's: a default it could not store is none
    parser = conversion[0] if conversion else None
    if parser is not None:
        try:
            parser(value)
        except (ValueError, TypeError, ArithmeticError):
            return None
    return Default("literal", value)


def _value_renames(file: str, ptr: str, node: Node, values: list[Any]) -> tuple[tuple[str, str], ...]:
    """The (new, previous) pairs of a string enum's `renamedValues`, each new value one of the enum's; refused
    when no revision could carry them out as asked. An enum type or a CHECK over the values renames them alike."""
    renames = node.xsql.get("renamedValues", {})
    for new_value in renames:
        if new_value not in values:
            raise SchemaError(file, f"{ptr}/x-sql/renamedValues", f"{new_value!r} is not a value of the enum")
    _refuse_ambiguous_renames(file, f"{ptr}/x-sql/renamedValues", renames)
    return tuple(sorted(renames.items()))


def _refuse_ambiguous_renames(file: str, ptr: str, renames: Mapping[str, str]) -> None:
    """`renamedValues` ({new: previous}) that no revision can carry out as asked: one value renamed to two, or
    a cycle (a swap), which leaves the enum's values as they were, so that a later `generate` could not tell
    the swap made from one still to make (the hint may stay in the schema)."""
    seen: dict[str, str] = {}
    for new, prev in renames.items():
        if prev in seen:
            raise SchemaError(file, ptr, f"{prev!r} is renamed to both {seen[prev]!r} and {new!r}; keep one")
        seen[prev] = new
    for start in renames.values():
        cycle, value = [start], seen[start]
        while value in seen and value not in cycle:
            cycle.append(value)
            value = seen[value]
        if value == start:
            spelled = " → ".join(repr(v) for v in [*cycle, start])
            temp = f"{start}_old"
            raise SchemaError(
                file,
                ptr,
                f"swaps values ({spelled}): the enum keeps the same values, so a revision could not tell this "
                "swap from one already made, and the stored values would not be swapped. Swap in two steps: "
                f"rename {start!r} to a value the enum does not hold ({{{json.dumps(temp)}: {json.dumps(start)}}}), "
                f"run `schemarel generate`, then give these renames with {json.dumps(temp)} as the previous value "
                f"where {json.dumps(start)} is (a chain, which one revision renames at once)",
            )
