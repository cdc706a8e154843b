"""Template contexts: every decision a template needs (names, types, literals), made here as plain data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from schemarel import naming
from schemarel.errors import SchemaError
from schemarel.ir import Column, Database, EnumType, SchemaModel, SchemaWarning, Table
from schemarel.sql import checks
from schemarel.sql.kinds import KINDS
from schemarel.sql.spelling import (
    display_default,
    display_type,
    external_tables,
    inexact_columns,
    keyed_columns,
    needs_literal,
    type_expr,
)
from schemarel.text import md_code, py_literal


@dataclass(frozen=True)
class AttrView:
    name: str
    annotation: str
    call: str  # mapped_column(...) or relationship(...)


@dataclass(frozen=True)
class ClassView:
    class_name: str
    table: str
    docstring: str
    table_args: tuple[str, ...]
    columns: tuple[AttrView, ...]
    relationships: tuple[AttrView, ...]


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    type: str
    nullable: str
    default: str
    notes: str


@dataclass(frozen=True)
class TableDoc:
    name: str
    purpose: str
    columns: tuple[ColumnDoc, ...]
    constraints: tuple[str, ...]


_py = py_literal


@dataclass(frozen=True)
class PythonNames:
    """The Python names of the generated models: a module per schema, a class per table."""

    modules: dict[str, str]  # schema name → module
    classes: dict[str, str]  # table name → class


def python_names(db: Database, files: Mapping[str, str]) -> PythonNames:
    """Modules and classes for every schema and table (`files`: schema name → its file, for errors).

    Within a schema a keyword or reserved name is renamed deterministically (`None` → `NoneRow`); two schemas
    whose files, or tables, would become one module or class are refused, naming both: renaming either
    silently would move a name other code imports whenever a schema is added."""
    modules: dict[str, str] = {}
    module_owner: dict[str, str] = {}
    classes: dict[str, str] = {}
    class_owner: dict[str, tuple[str, str]] = {}
    for model in db.schemas:
        module = naming.module_identifier(model.name)
        if module in module_owner:
            other = files[module_owner[module]]
            raise SchemaError(files[model.name], "#", f"its models module models/{module}.py would also be the "
                              f"one of {other}: rename one of the two files")  # fmt: skip
        modules[model.name], module_owner[module] = module, model.name
        mine: set[str] = set()
        for table in model.tables:
            name = base = naming.class_identifier(table.class_name)
            number = 2
            while name in mine:  # a renamed class meeting another of the schema (`BaseRow`)
                name, number = f"{base}{number}", number + 1
            if name in class_owner:
                schema, pointer = class_owner[name]
                raise SchemaError(files[model.name], table.pointer, f"table {table.name!r} would have model class "
                                  f"{name}, as a table of {files[schema]}{pointer} has: set "
                                  '"x-sql": {"table": "<another name>"} on one of them')  # fmt: skip
            mine.add(name)
            classes[table.name] = name
        class_owner.update((c, (model.name, t.pointer)) for t in model.tables for c in [classes[t.name]])
    return PythonNames(modules, classes)


def name_warnings(model: SchemaModel, names: PythonNames, file: str) -> tuple[SchemaWarning, ...]:
    """Where a Python name had to differ from the schema's beyond the documented `_` for a keyword: a column
    whose attribute another column took, a class or a module renamed for a name Python or the package has."""
    found = []
    if names.modules[model.name] != naming.snake(model.name):
        found.append(SchemaWarning(file, "#", f"its models module is models/{names.modules[model.name]}.py"))
    for table in model.tables:
        if names.classes[table.name] != table.class_name:
            message = f"the model class of table {table.name!r} is {names.classes[table.name]}"
            found.append(SchemaWarning(file, table.pointer, message))
        attrs = naming.attribute_names(c.name for c in table.columns)
        for col in table.columns:
            if attrs[col.name] != naming.attribute_name(col.name):
                message = (
                    f"column {table.name}.{col.name} is attribute {attrs[col.name]} of its model: "
                    f"{naming.attribute_name(col.name)} is another column's"
                )
                found.append(SchemaWarning(file, col.pointer or table.pointer, message))
    return tuple(found)


def _relationship_attr(table: Table) -> str:
    return naming.snake(table.json_property or table.name)


def model_classes(model: SchemaModel, db: Database, names: PythonNames) -> tuple[ClassView, ...]:
    enums = {e.name: e for e in db.enums}
    columns = {}
    attrs: dict[str, dict[str, str]] = {}  # table → column → attribute
    taken: dict[str, set[str]] = {}
    for table in model.tables:
        keyed = keyed_columns(table)
        attrs[table.name] = naming.attribute_names(c.name for c in table.columns)
        columns[table.name] = tuple(
            _column_attr(table, c, enums, keyed.get(c.name, False), attrs[table.name][c.name]) for c in table.columns
        )
        taken[table.name] = {c.name for c in columns[table.name]}
    # both ends of every parent → child relationship, named first so that back_populates can name the other
    down: dict[str, str] = {}  # child table → attribute on the parent class
    up: dict[str, str] = {}  # child table → attribute on the child class
    for table in model.tables:
        if table.parent:
            down[table.name] = _free(naming.attribute_name(_relationship_attr(table)), taken[table.parent])
            up[table.name] = _free(naming.attribute_name(naming.singular(table.parent)), taken[table.name])
    classes = []
    for table in model.tables:
        rels: list[AttrView] = []
        for child in (t for t in model.tables if t.parent == table.name):
            child_class = names.classes[child.name]
            common = f'back_populates={_py(up[child.name])}, cascade="all, delete-orphan", passive_deletes=True'
            if child.kind == "object":
                annotation, call = f"Mapped[{child_class} | None]", f"relationship({common}, uselist=False)"
            else:
                order = f"{child_class}.{attrs[child.name][child.primary_key.columns[0]]}"
                annotation = f"Mapped[list[{child_class}]]"
                call = f"relationship({common}, order_by={_py(order)})"
            rels.append(AttrView(down[child.name], annotation, call))
        if table.parent:
            call = f"relationship(back_populates={_py(down[table.name])})"
            rels.append(AttrView(up[table.name], f"Mapped[{names.classes[table.parent]}]", call))
        classes.append(
            ClassView(
                class_name=names.classes[table.name],
                table=table.name,
                docstring=table.comment or table.purpose or f"Rows of `{table.name}`.",
                table_args=_table_args(table),
                columns=columns[table.name],
                relationships=tuple(rels),
            )
        )
    return tuple(classes)


def _free(name: str, taken: set[str]) -> str:
    while name in taken:
        name = f"{name}_rel"
    taken.add(name)
    return name


def _column_attr(table: Table, col: Column, enums: dict[str, EnumType], keyed: bool | str, attr: str) -> AttrView:
    py_type = KINDS[col.type.kind].python
    if col.type.kind == "enum" and col.type.enum in enums:  # a typo in a label is a type error
        py_type = f"Literal[{', '.join(_py(v) for v in enums[col.type.enum].values)}]"
    annotation = f"Mapped[{py_type} | None]" if col.nullable else f"Mapped[{py_type}]"
    args = [_py(col.name)] if attr != col.name else []
    args.append(type_expr(col, enums, keyed, col.name not in inexact_columns(table)))
    if col.name in table.primary_key.columns and col.default and col.default.kind == "uuid":
        args.append("default=uuid.uuid4")  # client-side ids keep multi-row INSERTs batched
    if col.default and col.default.kind == "uuid":
        args.append("server_default=uuid_default()")
    elif col.default and col.default.kind == "now":
        args.append("server_default=sa.func.now()")
    elif col.default and col.default.kind == "literal":
        value = col.default.value
        if isinstance(value, bool):
            args.append(f"server_default=boolean_default({value})")
        elif isinstance(value, int | float):
            args.append(f"server_default=sa.text({_py(repr(value))})")
        else:
            text = str(value)
            args.append(
                f"server_default=sa.literal({_py(text)}, sa.Text())"
                if needs_literal(text)
                else f"server_default={_py(text)}"
            )
    if col.default and col.default.kind == "sequence":
        args.append("autoincrement=True")
    args.append(f"nullable={col.nullable}")
    if col.comment:
        args.append(f"comment={_py(col.comment)}")
    return AttrView(attr, annotation, f"mapped_column({', '.join(args)})")


def _table_args(table: Table) -> tuple[str, ...]:
    def cols(names: tuple[str, ...]) -> str:
        return ", ".join(_py(n) for n in names)

    args = [f"sa.PrimaryKeyConstraint({cols(table.primary_key.columns)}, name={_py(table.primary_key.name)})"]
    for fk in table.foreign_keys:
        refs = ", ".join(_py(f"{fk.ref_table}.{c}") for c in fk.ref_columns)
        args.append(
            f"sa.ForeignKeyConstraint([{cols(fk.columns)}], [{refs}], name={_py(fk.name)}, ondelete={_py(fk.ondelete)})"
        )
    args += [f"sa.UniqueConstraint({cols(u.columns)}, name={_py(u.name)})" for u in table.uniques]
    args += [f"sa.Index({_py(i.name)}, {cols(i.columns)})" for i in table.indexes]
    # conv(): the name is final (the metadata's naming convention would otherwise wrap it again)
    args += [checks.constraint_source(c, f"sa.schema.conv({_py(c.name)})") for c in table.checks]
    if table.comment:
        args.append(f'{{"comment": {_py(table.comment)}}}')
    return tuple(args)


def table_docs(model: SchemaModel, db: Database) -> tuple[TableDoc, ...]:
    enums = {e.name: e for e in db.enums}
    docs = []
    for t in model.tables:
        columns = tuple(
            ColumnDoc(c.name, display_type(c, enums), "YES" if c.nullable else "NO", display_default(c), c.notes)
            for c in t.columns
        )
        pk = t.primary_key
        constraints = [f"{md_code(pk.name)} – primary key ({_code_list(pk.columns)})."]
        for fk in t.foreign_keys:
            constraints.append(
                f"{md_code(fk.name)} – foreign key ({_code_list(fk.columns)}) → "
                f"{md_code(fk.ref_table)} ({_code_list(fk.ref_columns)}), ON DELETE {fk.ondelete}."
            )
        for uq in t.uniques:
            constraints.append(f"{md_code(uq.name)} – unique ({_code_list(uq.columns)}).")
        for ix in t.indexes:
            constraints.append(f"{md_code(ix.name)} – index ({_code_list(ix.columns)}).")
        for ck in t.checks:
            constraints.append(f"{md_code(ck.name)} – check {md_code(ck.sqltext)}.")
        docs.append(TableDoc(t.name, t.purpose, columns, tuple(constraints)))
    return tuple(docs)


def _code_list(names: tuple[str, ...]) -> str:
    return ", ".join(md_code(n) for n in names)


def enum_lines(model: SchemaModel) -> tuple[str, ...]:
    return enum_type_lines(model.enums)


def enum_type_lines(enums: Iterable[EnumType]) -> tuple[str, ...]:
    return tuple(f"{md_code(e.name)} – PostgreSQL enum with values {_code_list(e.values)}." for e in enums)


def any_uuid_default(tables: Any) -> bool:
    return any(c.default is not None and c.default.kind == "uuid" for t in tables for c in t.columns)


@dataclass(frozen=True)
class ExternalTableView:
    name: str
    column: str
    type: str


def external_table_views(db: Database) -> tuple[ExternalTableView, ...]:
    return tuple(
        ExternalTableView(name, column, type_expr(Column(column, ctype, False), {}, keyed=True, exact=False))
        for name, column, ctype in external_tables(db)
    )
