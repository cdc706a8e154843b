"""`schemarel inspect`: the planned tables, columns, constraints and every fallback, without writing anything.

The plan is plain data (the `--format json` report); the terminal view lays the same data out with rich,
which colours only a terminal and honours NO_COLOR. Warnings name what the database will not do for you:
JSON-stored values, schema keywords that only JSON Schema validation enforces, shortened identifiers,
tables owned by another system.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from schemarel import naming
from schemarel.errors import SchemaError
from schemarel.ir import Column, Database, SchemaModel, Table
from schemarel.schema.loader import SourceSchema
from schemarel.schema.refs import deref_raw
from schemarel.sql.checks import DIALECT_ONLY, RULE_OF_KEYWORD
from schemarel.sql.metadata import dialect_default, dialect_type
from schemarel.sql.types import FORMAT_TYPES
from schemarel.text import terminal

DIALECTS = {"postgresql": postgresql.dialect, "sqlite": sqlite.dialect, "mysql": mysql.dialect}
# Keywords a column cannot hold the database to (the type covers `maxLength`, `enum`, `type`).
UNENFORCED = ("pattern", "minLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
ARRAY_UNENFORCED = ("minItems", "maxItems", "contains")
TYPED_FORMATS = {fmt for (_kind, fmt), ctype in FORMAT_TYPES.items() if fmt and ctype.kind not in ("text", "varchar")}


def plan(
    db: Database, sources: list[SourceSchema], only: str | None, dialect_name: str, examples: tuple[Any, ...] = ()
) -> list[dict[str, Any]]:
    """The report of every schema (or of `only`: a schema name or file path); `examples`: documents of `only`
    whose text the JSON share is measured on (else the schema's own root `examples`)."""
    by_name = {s.name: s for s in sources}
    models = list(db.schemas)
    if only is not None:
        models = [m for m in models if only in (m.name, m.path, by_name[m.name].path.as_posix())]
        if not models:
            known = ", ".join(sorted(by_name))
            raise SchemaError(only, "", f"no such schema; known schemas: {known}")
    dialect = DIALECTS[dialect_name]()
    enums = {e.name: e for e in db.enums}
    return [
        {
            "name": m.name,
            "title": m.title,
            "path": m.path,
            "dialect": dialect_name,
            "tables": [_table(t, enums, dialect) for t in m.tables],
            "enums": [{"name": e.name, "values": list(e.values)} for e in m.enums],
            "warnings": _warnings(m, by_name[m.name], dialect_name),
            "json": json_report(m, examples or _root_examples(by_name[m.name])),
        }
        for m in models
    ]


def _table(t: Table, enums: Any, dialect: sa.engine.Dialect) -> dict[str, Any]:
    constraints: list[dict[str, Any]] = [
        {"kind": "primary key", "name": t.primary_key.name, "columns": t.primary_key.columns}
    ]
    for fk in t.foreign_keys:
        target = f"{fk.ref_table}({', '.join(fk.ref_columns)}) ON DELETE {fk.ondelete}"
        constraints.append({"kind": "foreign key", "name": fk.name, "columns": fk.columns, "references": target})
    constraints += [{"kind": "unique", "name": u.name, "columns": u.columns} for u in t.uniques]
    constraints += [{"kind": "index", "name": i.name, "columns": i.columns} for i in t.indexes]
    constraints += [{"kind": "check", "name": c.name, "columns": (), "sql": c.sqltext} for c in t.checks]
    return {
        "name": t.name,
        "kind": t.kind,
        "parent": t.parent,
        "pointer": t.pointer,
        "columns": [
            {
                "name": c.name,
                "type": dialect_type(c, enums, dialect),
                "nullable": c.nullable,
                "default": _plain_default(c, dialect),
                "from": _origin(t, c),
            }
            for c in t.columns
        ],
        "constraints": [{**c, "columns": list(c["columns"])} for c in constraints],
    }


def json_report(model: SchemaModel, documents: tuple[Any, ...] | list[Any]) -> dict[str, Any]:
    """How much of the schema is stored as JSON: JSON columns among the columns holding document values
    (`_extra` counted), and the share of the documents' text that lands in them (None without documents)."""
    from schemarel.errors import ValueRejected
    from schemarel.runtime.jsonshare import JsonShare, json_share

    held = [c for t in model.tables for c in t.columns if c.path or c.name in (t.value_column, t.json_root)]
    json_columns = sum(c.type.kind == "json" for c in held) + sum(bool(t.extra_column) for t in model.tables)
    total, measured = JsonShare(0, 0), 0
    for document in documents:
        try:
            total += json_share(model, document)
            measured += 1
        except (ValueRejected, TypeError, AttributeError):  # not a document of this schema: not measured
            continue
    return {
        "json_columns": json_columns,
        "columns": len(held) + sum(bool(t.extra_column) for t in model.tables),
        "documents": measured,
        "text_share": round(total.share, 4) if measured else None,
    }


def _root_examples(source: SourceSchema) -> list[Any]:
    found = source.contents.get("examples") if isinstance(source.contents, dict) else None
    return found if isinstance(found, list) else []


def _origin(t: Table, c: Column) -> str:
    """Where the column's value comes from: a document path, the array item, the parent's key, the database."""
    if c.path:
        return ".".join(c.path)
    if c.name == t.value_column:
        return "(map value)" if t.kind == "map" else "(array item)"
    if t.entries is not None and c.name == t.entries.key_column:
        return "(map key)"
    if t.parent_fk is not None and c.name in t.parent_fk.columns:
        return "(parent's key)"
    return "(database)"


def _plain_default(column: Column, dialect: sa.engine.Dialect) -> str | None:
    if column.default is None:
        return None
    return dialect_default(column, dialect).strip("` ").replace("\\|", "|")


def _warnings(model: SchemaModel, source: SourceSchema, dialect: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []

    def warn(pointer: str, where: str, message: str) -> None:
        found.append({"pointer": pointer, "where": where, "message": message})

    for w in model.warnings:
        warn(w.pointer, w.file, w.message)
    for t in model.tables:
        enforced = {(ck.column, ck.rule) for ck in t.checks if dialect in DIALECT_ONLY.get(ck.rule, (dialect,))}
        if t.kind == "array":
            node = _node_at(source, t.pointer)
            kept = [k for k in ARRAY_UNENFORCED if k in node]
            if kept:
                warn(t.pointer, t.name, f"{_keywords(kept)} of the array: only JSON Schema validation checks it")
        for c in t.columns:
            where = f"{t.name}.{c.name}"
            if c.type.kind == "json":
                warn(
                    c.pointer, where, "stored as one JSON value: the database neither types nor constrains its contents"
                )
            if not c.pointer:
                continue
            node = _node_at(source, c.pointer)
            kept = [k for k in UNENFORCED if k in node and (c.name, RULE_OF_KEYWORD.get(k)) not in enforced]
            if node.get("format") and node["format"] not in TYPED_FORMATS:
                kept.append("format")
            if kept:
                warn(c.pointer, where, f"{_keywords(kept)}: only JSON Schema validation enforces it, not the column")
        for fk in t.foreign_keys:
            if fk.external:
                warn(
                    t.pointer,
                    t.name,
                    f"references `{fk.ref_table}`, which schemarel does not create; upgrades stop until it exists",
                )
        for name, full in _full_names(t):
            if name != full:
                warn(t.pointer, t.name, f"`{full}` is longer than {naming.MAX_IDENTIFIER_BYTES} bytes: named `{name}`")
    if dialect == "sqlite":
        for e in model.enums:
            warn(e.pointer, e.name, "SQLite has no enum types: a CHECK constraint on the column stands in for it")
    return found


def _keywords(names: list[str]) -> str:
    return ", ".join(f"`{k}`" for k in names)


def _full_names(t: Table) -> list[tuple[str, str]]:
    """(actual, unshortened) for each constraint name the naming convention derives."""
    convention = naming.NAMING_CONVENTION
    pairs = [(t.primary_key.name, convention["pk"] % {"table_name": t.name})]
    for fk in t.foreign_keys:
        full = convention["fk"] % {
            "table_name": t.name,
            "column_names": "__".join(fk.columns),
            "referred_table_name": fk.ref_table,
        }
        pairs.append((fk.name, full))
    for kind, items in (("uq", t.uniques), ("ix", t.indexes)):
        pairs += [
            (c.name, convention[kind] % {"table_name": t.name, "column_names": "__".join(c.columns)}) for c in items
        ]
    return pairs


def _node_at(source: SourceSchema, pointer: str) -> dict[str, Any]:
    """The schema node at a JSON pointer of the file, following `$ref`s on the way; {} if it is not there."""
    node, resolver = deref_raw(source, source.contents, source.resolver, "#")
    for part in [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("#").split("/") if p]:
        child = node.get(part) if isinstance(node, dict) else None
        if child is None:
            return {}
        try:
            node, resolver = (
                deref_raw(source, child, resolver, pointer) if isinstance(child, dict) else (child, resolver)
            )
        except SchemaError:
            return {}
    return node if isinstance(node, dict) else {}


def _shown(value: Any) -> Any:
    """Every string of the report as `terminal` shows it (schema text may hold ESC, CSI, bidi overrides), and
    as rich's markup escapes it: a property named `[link=…]` must not become a terminal hyperlink."""
    from rich.markup import escape

    if isinstance(value, str):
        return escape(terminal(value))
    if isinstance(value, list | tuple):
        return [_shown(v) for v in value]
    if isinstance(value, dict):
        return {k: _shown(v) for k, v in value.items()}
    return value


def render(report: list[dict[str, Any]]) -> None:
    """The report as terminal tables (colour only on a terminal; NO_COLOR honoured by rich)."""
    from rich.console import Console
    from rich.table import Table as RichTable

    console = Console(highlight=False)
    for schema in _shown(report):
        console.rule(f"[bold]{schema['title']}[/] · {schema['path']} · types as {schema['dialect']}")
        for t in schema["tables"]:
            parent = f", child of {t['parent']}" if t["parent"] else ""
            grid = RichTable(title=f"{t['name']} ({t['kind']}{parent})", title_justify="left", expand=False)
            for header in ("column", "type", "null", "default", "from the document"):
                grid.add_column(header, overflow="fold")
            for c in t["columns"]:
                grid.add_row(c["name"], c["type"], "yes" if c["nullable"] else "no", c["default"] or "", c["from"])
            console.print(grid)
            keys = RichTable(box=None, show_header=False, padding=(0, 1, 0, 2))
            for _ in range(4):
                keys.add_column(overflow="fold")
            for c in t["constraints"]:
                details = c.get("references", c.get("sql", ""))
                keys.add_row(c["kind"], c["name"], f"({', '.join(c['columns'])})", details)
            console.print(keys)
        for e in schema["enums"]:
            console.print(f"enum [bold]{e['name']}[/]: {', '.join(e['values'])}")
        share = schema["json"]
        text = (
            ""
            if share["text_share"] is None
            else f"; {share['text_share']:.0%} of the text of {naming.counted(share['documents'], 'document')}"
        )
        console.print(f"stored as JSON: {share['json_columns']} of {share['columns']} value columns{text}")
        if schema["warnings"]:
            console.print(f"[yellow]{naming.counted(len(schema['warnings']), 'warning')}[/]")
            for w in schema["warnings"]:
                console.print(f"  [yellow]![/] {w['where']} ({w['pointer']}): {w['message']}")
        else:
            console.print("no warnings")
