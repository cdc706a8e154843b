"""Typed documents: each schema's JSON Schema as `TypedDict`s (and `Literal`s for enums), with the typed store
protocols and lookup filters of `templates/documents.py.j2`.

TypedDicts, not dataclasses: the Store reads and writes JSON-shaped dicts, so typed documents cost nothing at
run time (no conversion on the hot path), `NotRequired` keeps "absent" apart from `null` exactly as the Store
does, and a property whose name is no Python identifier (`first-name`, `class`) is still a key.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import inflection

from schemarel import naming
from schemarel.ir import SchemaModel, Table
from schemarel.schema.defaults import Reach, has_default, local_target, merged
from schemarel.text import py_literal

# a `number` reads back as a Decimal (an int when integral); a float given to the Store counts as its repr's Decimal
_NUMBER = "float | Decimal"
_SCALARS = {"string": "str", "integer": "int", "number": _NUMBER, "boolean": "bool", "null": "None"}
# column type kind → the Python type of the document value it holds
_KIND_TYPES = {"boolean": "bool", "smallint": "int", "integer": "int", "bigint": "int", "float": _NUMBER,
               "numeric": _NUMBER}  # fmt: skip
_FILTERS = {"str": "StrFilter", "int": "IntFilter", _NUMBER: "FloatFilter", "bool": "BoolFilter"}
# strings kept in a column of their own type (a date, an instant, a time, a uuid): compared, never matched by a
# pattern (the runtime refuses `startswith` there: the column's text need not be the document's)
_NATIVE_STRINGS = {"date", "datetime", "time", "uuid"}
FORMAT_FILTER = "FormatFilter"
# a filter's value types: those of the documents (a `numeric` column, a number with `multipleOf`, holds numbers)
_WHERE_TYPES = _KIND_TYPES
# the names `get_by` takes besides the properties
_GET_BY_OWN = {"self", "conn"}
_SUFFIXES = ("Where", "Order", "Page", "Store", "AsyncStore")
# what documents.py.j2 imports or defines besides the document's classes
_MODULE_NAMES = {
    "Any", "AsyncIterator", "Decimal", "Iterable", "Iterator", "Literal", "Mapping", "NotRequired", "Path", "Protocol",
    "Sequence", "TypedDict", "cast", "open_store", "sys", "uuid", "store", "async_store",
}  # fmt: skip


@dataclass
class FieldView:
    key: str
    annotation: str
    required: bool
    description: str = ""


@dataclass
class ClassView:
    name: str
    description: str
    fields: list[FieldView]

    @property
    def functional(self) -> bool:
        """Whether a key is no identifier: then the TypedDict is written with the functional syntax."""
        return any(not attribute_key(f.key) for f in self.fields)


@dataclass
class DocumentsView:
    """The context of `documents.py.j2` for one schema."""

    schema: str
    title: str
    root: str  # the document's type name
    root_alias: str | None  # the type of a root that is not an object
    classes: list[ClassView]
    id_type: str
    where: list[tuple[str, str]]  # (path, annotation)
    order_keys: list[str]
    unique: list[tuple[str, str]]  # (property, Python type), get_by's keyword arguments
    filters: list[str] = field(default_factory=list)
    literals: list[tuple[str, str]] = field(default_factory=list)  # (alias, `Literal[…]`), before the classes

    @property
    def exports(self) -> list[str]:
        names = [c.name for c in self.classes] + ([self.root] if self.root_alias else [])
        return [*names, *(self.root + s for s in _SUFFIXES), "store", "async_store"]

    @property
    def page_id_type(self) -> str:
        """The ids of `pages`: a uuid key as its text (what JSON holds), others as `find` gives them."""
        return "str" if self.id_type == "uuid.UUID" else self.id_type

    @property
    def where_functional(self) -> bool:
        return any(not attribute_key(p) for p, _ in self.where)


class _Types:
    """JSON Schema nodes → Python type expressions, naming a TypedDict per object."""

    def __init__(self, contents: dict[str, Any], reserved: set[str]) -> None:
        self.contents = contents
        self.classes: list[ClassView] = []
        self.names: set[str] = set(reserved)  # the module's own names: no class may shadow one
        self.refs: dict[tuple[str, bool], str] = {}
        self.filling = True  # whether the Store fills defaults in at the node being typed
        self.reach = Reach(contents)
        self.literals: dict[str, str] = {}  # `Literal[…]` text → the module-level alias that stands for it

    def literal(self, values: list[str]) -> str:
        """`Literal[values]`, or an alias of it where the functional syntax's string annotation would need escapes.

        A TypedDict written with the functional syntax holds its annotations as strings (they may name classes
        defined further down). A string annotation with escapes in it (a value with quotes or backslashes)
        crashes ruff 0.17 (its locator maps the parsed annotation onto the wrong bytes), and is hard to read:
        such a `Literal` gets an alias, defined before the classes, whose name needs no escape."""
        text = f"Literal[{', '.join(values)}]"
        if "\\" not in repr(f"NotRequired[{text} | None]"):
            return text
        if text not in self.literals:
            alias, n = "_Literal1", 1
            while alias in self.names:
                n += 1
                alias = f"_Literal{n}"
            self.names.add(alias)
            self.literals[text] = alias
        return self.literals[text]

    def name(self, wanted: str) -> str:
        base = _class_name(wanted)
        name, n = base, 2
        while name in self.names:
            name, n = f"{base}{n}", n + 1
        self.names.add(name)
        return name

    def of(self, node: Any, name: str) -> str:
        if node is True or node == {} or not isinstance(node, dict):
            return "Any"
        if "$ref" in node and isinstance(node["$ref"], str):
            return self.ref(node["$ref"])
        if "const" in node:
            return self.literal([q(node["const"])]) if _literal(node["const"]) else "Any"
        if isinstance(node.get("enum"), list):
            values = node["enum"]
            if all(_literal(v) for v in values) and values:
                # each member once: a schema may repeat enum values, and a Literal of thousands of repeats
                # is a megabyte of typing noise (mypy and ruff slow down and ruff's report blows up)
                shown = list(dict.fromkeys(q(v) for v in values if v is not None))
                text = self.literal(shown) if shown else "None"
                return _nullable(text, None in values or node.get("nullable") is True)
            return "Any"
        for combinator in ("oneOf", "anyOf"):
            if isinstance(node.get(combinator), list):
                # the Store fills no default in inside a branch (defaults.py): there a property stays required
                filling, self.filling = self.filling, False
                members = [self.of(m, f"{name}Option{i + 1}") for i, m in enumerate(node[combinator])]
                self.filling = filling
                return _union(members)
        if isinstance(node.get("allOf"), list):
            whole = merged(node)
            return self.of(whole, name) if whole is not None else "Any"
        kinds = node.get("type")
        if isinstance(kinds, list):
            text = _union([self.of({**node, "type": k}, name) for k in kinds])
        elif kinds == "object" or (kinds is None and "properties" in node):
            text = self.object(node, name)
        elif kinds == "array":
            items = node.get("items")
            text = f"list[{self.of(items, inflection.singularize(name) if name.endswith('s') else name + 'Item')}]"
        elif kinds in _SCALARS:
            text = _SCALARS[kinds]
        else:
            return "Any"
        return _nullable(text, node.get("nullable") is True)

    def object(self, node: dict[str, Any], name: str) -> str:
        props = node.get("properties")
        if not isinstance(props, dict) or not props:
            extra = node.get("additionalProperties")
            value = self.of(extra, f"{name}Value") if isinstance(extra, dict) and extra else "Any"
            return f"dict[str, {value}]"
        cls = self.name(name)
        required = set(node.get("required") or ())
        view = ClassView(cls, str(node.get("description") or node.get("title") or ""), [])
        self.classes.append(view)
        for key, sub in props.items():
            annotation = self.of(sub, f"{cls}{inflection.camelize(naming.snake(key))}")
            description = sub.get("description", "") if isinstance(sub, dict) else ""
            # the Store fills a required property's `default` in when it is absent (defaults.py), wherever the
            # value is stored: a document may leave it out, and reads back with it
            defaulted = self.filling and has_default(sub, self.contents)
            view.fields.append(FieldView(key, annotation, key in required and not defaulted, str(description)))
        return cls

    def ref(self, ref: str) -> str:
        if not ref.startswith("#"):
            return "Any"  # a $ref to another file: its type lives in that schema's module
        target = local_target(self.contents, ref)
        if target is None:
            return "Any"
        # a node reached inside a union branch and outside one are two types where a default is filled in
        # below it (only outside): one type where none is
        memo = (ref, self.filling or not self.reach.fills_in(target))
        if ref == "#" and memo[1]:
            return self.root_name
        if memo not in self.refs:
            self.refs[memo] = "Any"  # while it is being built: recursion through a non-object stays Any
            placeholder = self.name(ref.rsplit("/", 1)[-1]) if _is_object(target) else None
            if placeholder is not None:
                self.names.discard(placeholder)
                self.refs[memo] = placeholder
            self.refs[memo] = self.of(target, placeholder or ref.rsplit("/", 1)[-1])
        return self.refs[memo]

    root_name = "Any"


def attribute_key(key: str) -> bool:
    """Whether `key` written as a name in a class body or a signature stays `key`. Python reads an identifier
    NFKC-normalized (`ﬁeld` is `field`) and mangles `__x` in a class to `_Class__x`; a keyword is no name."""
    mangled = key.startswith("__") and not key.endswith("__")
    normalized = unicodedata.normalize("NFKC", key) == key
    return key.isidentifier() and not keyword.iskeyword(key) and not mangled and normalized


def _class_name(wanted: str) -> str:
    """A TypedDict's name from schema text: CamelCase, and never a keyword or a name the module needs."""
    return naming.class_identifier(re.sub(r"\W", "", inflection.camelize(naming.snake(wanted))) or "Document")


def _is_object(node: Any) -> bool:
    return isinstance(node, dict) and (node.get("type") == "object" or "properties" in node)


def q(value: Any) -> str:
    """A Python literal of a schema value (an enum value, a const): text.py's, which escapes every character a
    parser or a formatter could take for a line end; ruff puts the quotes it prefers."""
    return py_literal(value)


def _literal(value: Any) -> bool:
    return value is None or isinstance(value, str | int | bool)


def _nullable(text: str, nullable: bool) -> str:
    return _union([text, "None"]) if nullable else text


def _union(members: list[str]) -> str:
    if "Any" in members:
        return "Any"
    unique = list(dict.fromkeys(m for part in members for m in _split(part)))
    return " | ".join(unique)


def _split(text: str) -> list[str]:
    """The members of a union written by `_union` (brackets respected)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "["
        depth -= ch == "]"
        if depth == 0 and text[i : i + 3] == " | ":
            out.append(text[start:i])
            start = i + 3
    return [*out, text[start:]]


def documents_view(model: SchemaModel, contents: Any) -> DocumentsView:
    """The typed documents of one schema (its JSON contents and its IR)."""
    title = model.title or model.name
    root_name = _class_name(title)
    reserved = {root_name + suffix for suffix in _SUFFIXES} | _MODULE_NAMES | {*_FILTERS.values(), FORMAT_FILTER}
    types = _Types(contents if isinstance(contents, dict) else {}, reserved)
    types.root_name = root_name
    root_type = types.of(contents, title)
    alias = None
    if root_type != types.root_name:
        alias = root_type
        root_type = types.name(title)
    root = model.root
    where, order_keys, unique = _paths(model)
    filters = sorted({one for _, _, f in where for one in f.split(" | ")})
    annotated = [(path, f"{a} | None | {f}") for path, a, f in where]
    return DocumentsView(
        schema=model.name,
        title=title,
        root=root_type,
        root_alias=alias,
        classes=types.classes,
        id_type=_id_type(root),
        where=annotated,
        order_keys=order_keys,
        unique=unique,
        filters=filters,
        literals=[(alias, text) for text, alias in types.literals.items()],
    )


def _id_type(root: Table) -> str:
    key = root.column(root.primary_key.columns[0])
    if key.type.kind == "uuid":
        return "uuid.UUID"
    return _KIND_TYPES.get(key.type.kind, "str")


def _literal_of(values: Sequence[Any] | None) -> str | None:
    """`Literal[values]`, or None where there are none or one is no literal (a fraction, `1.5`)."""
    if not values or not all(_literal(v) and v is not None for v in values):
        return None
    return "Literal[" + ", ".join(dict.fromkeys(q(v) for v in values)) + "]"


def _joined(annotations: list[str]) -> str:
    """The value types of a path's columns as one union, their `Literal`s as one."""
    literals = [a.removeprefix("Literal[").removesuffix("]") for a in annotations if a.startswith("Literal[")]
    others = [a for a in annotations if not a.startswith("Literal[")]
    merged = [f"Literal[{', '.join(literals)}]"] if literals else []
    return " | ".join(dict.fromkeys(merged + others))


def _paths(model: SchemaModel) -> tuple[list[tuple[str, str, str]], list[str], list[tuple[str, str]]]:
    """Filterable paths (as `runtime/query.py` names them) with their value types and filters' types; root
    ordering keys; unique properties."""
    enums = {e.name: e.values for e in model.enums}
    by_name = {t.name: t for t in model.tables}
    where: dict[str, tuple[list[str], list[str]]] = {}  # a path's value types and filters' types
    owners: dict[str, str] = {}
    order: list[str] = []
    unique: list[tuple[str, str]] = []
    for table in model.tables:
        prefix: tuple[str, ...] = ()
        node: Table | None = table
        while node is not None and node.parent is not None:
            prefix = node.parent_path + prefix
            node = by_name.get(node.parent)
        singles = {c.columns[0] for c in (table.primary_key, *table.uniques) if len(c.columns) == 1}
        listing = {c.column: c.value for c in table.checks if c.rule == "in" and isinstance(c.value, list)}
        for column in table.columns:
            if column.type.kind == "json" or not (column.path or column.name == table.value_column):
                continue
            path = ".".join((*prefix, *column.path))
            if not path or owners.setdefault(path, table.name) != table.name:
                continue
            kind = column.type.kind
            held = _WHERE_TYPES.get(kind, "str")
            # the values the column may hold where they are listed (its enum type, or its CHECK … IN: each
            # column of an enum of `"a"`, `1` and `null`, of the merged branches of a union): not any of its type
            listed = enums.get(column.type.enum or "") if kind == "enum" else listing.get(column.name)
            annotation = _literal_of(listed) or held
            types, filters = where.setdefault(path, ([], []))
            union = bool(types)  # another column of a union of scalars: a value of its type is compared there
            types.append(annotation)
            filters.append(FORMAT_FILTER if kind in _NATIVE_STRINGS else _FILTERS[held])
            if union:
                continue
            if table.kind == "root":
                order += [path, f"-{path}"]
                if column.name in singles and attribute_key(path) and path not in _GET_BY_OWN:
                    unique.append((path, annotation))
    joined = [(p, _joined(a), " | ".join(dict.fromkeys(f))) for p, (a, f) in sorted(where.items())]
    return joined, order, unique
