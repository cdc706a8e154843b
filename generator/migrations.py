"""Migration operations: the difference between two relational models as Alembic ops, rendered by Alembic."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import render_python_code
from alembic.operations import ops

from .checks import constraint_source
from .ir import Database, Table, snapshot
from .sqlfuncs import boolean_default, uuid_default
from .sqlmodel import build_metadata

_ALEMBIC_MARKERS = re.compile(r"^\s*# ### .* ###\n?", re.MULTILINE)


@dataclass(frozen=True)
class Plan:
    """What one revision does: rendered upgrade and downgrade bodies and a one-line summary."""

    upgrade: str
    downgrade: str
    summary: str
    created_tables: tuple[str, ...]
    dropped_tables: tuple[str, ...]
    created_enums: tuple[str, ...]
    dropped_enums: tuple[str, ...]
    uses_uuid_default: bool
    external_tables: tuple[str, ...]  # referenced, never created: the upgrade checks they exist
    imports: tuple[str, ...]


def plan(old: Database | None, new: Database) -> Plan:
    """Operations that take a database at `old` (None: empty) to `new`."""
    new_md = build_metadata(new)
    old_md = build_metadata(old) if old else sa.MetaData()
    old_tables = {t.name: t for t in old.tables} if old else {}
    new_tables = {t.name: t for t in new.tables}
    upgrade: list[ops.MigrateOperation] = []
    added = [t for t in new.tables if t.name not in old_tables]
    for table in added:
        upgrade.extend(_create_table(new_md.tables[table.name]))
    dropped = [t for t in reversed(old.tables) if t.name not in new_tables] if old else []
    for table in dropped:
        upgrade.append(_create_table(old_md.tables[table.name])[0].reverse())
    if old is not None:
        for table in new.tables:
            if table.name in old_tables and snapshot(old_tables[table.name]) != snapshot(table):
                upgrade.extend(_alter_table(old_tables[table.name], table, old_md, new_md))
    # dropping a table drops its indexes; MySQL refuses to drop an index a foreign key needs beforehand
    created = {t.name for t in added}
    downgrade = [
        op.reverse() for op in reversed(upgrade) if not (isinstance(op, ops.CreateIndexOp) and op.table_name in created)
    ]
    old_enums = {e.name for e in old.enums} if old else set()
    new_enums = {e.name for e in new.enums}
    imports: set[str] = set()
    up_code = _render(upgrade, imports)
    down_code = _render(downgrade, imports)
    return Plan(
        upgrade=up_code,
        downgrade=down_code,
        summary=_summary(added, dropped, bool(upgrade)),
        created_tables=tuple(t.name for t in added),
        dropped_tables=tuple(t.name for t in dropped),
        created_enums=tuple(e.name for e in new.enums if e.name not in old_enums),
        dropped_enums=tuple(e.name for e in (old.enums if old else ()) if e.name not in new_enums),
        uses_uuid_default=any(c.default and c.default.kind == "uuid" for t in added for c in t.columns),
        external_tables=tuple(sorted({fk.ref_table for t in added for fk in t.foreign_keys if fk.external})),
        imports=tuple(sorted(imports)),
    )


def _create_table(table: sa.Table) -> list[ops.MigrateOperation]:
    result: list[ops.MigrateOperation] = [ops.CreateTableOp.from_table(table)]
    result.extend(ops.CreateIndexOp.from_index(ix) for ix in sorted(table.indexes, key=lambda i: str(i.name)))
    return result


def _alter_table(old: Table, new: Table, old_md: sa.MetaData, new_md: sa.MetaData) -> list[ops.MigrateOperation]:
    """Column-level changes of one table; renames and enum changes come with schema evolution."""
    result: list[ops.MigrateOperation] = []
    old_t, new_t = old_md.tables[old.name], new_md.tables[new.name]
    old_cols = {c.name: c for c in old.columns}
    for col in new.columns:
        if col.name not in old_cols:
            result.append(ops.AddColumnOp.from_column_and_tablename(None, new.name, new_t.c[col.name].copy()))
        elif snapshot(old_cols[col.name]) != snapshot(col):
            o, n = old_t.c[col.name], new_t.c[col.name]
            result.append(
                ops.AlterColumnOp(
                    new.name,
                    col.name,
                    existing_type=o.type,
                    existing_nullable=o.nullable,
                    existing_server_default=o.server_default,
                    existing_comment=o.comment,
                    modify_nullable=n.nullable if n.nullable != o.nullable else None,
                    modify_type=n.type if old_cols[col.name].type != col.type else None,
                    modify_server_default=n.server_default if o.server_default != n.server_default else False,
                    modify_comment=n.comment if n.comment != o.comment else False,
                )
            )
    new_names = {c.name for c in new.columns}
    for col in old.columns:
        if col.name not in new_names:
            result.append(ops.DropColumnOp.from_column_and_tablename(None, old.name, old_t.c[col.name].copy()))
    return result


def _render_item(imports: set[str]) -> Any:
    """Alembic render hook for what it cannot spell portably: our uuid default, JSON/JSONB, booleans."""

    def render(type_: str, obj: Any, autogen_context: Any) -> str | bool:
        if type_ == "server_default" and isinstance(obj, sa.DefaultClause):
            if isinstance(obj.arg, uuid_default):
                imports.add("from generator.sqlfuncs import uuid_default")
                return "uuid_default()"
            if isinstance(obj.arg, boolean_default):
                imports.add("from generator.sqlfuncs import boolean_default")
                return f"boolean_default({obj.arg.value})"
            if isinstance(obj.arg, sa.sql.elements.True_ | sa.sql.elements.False_):
                return "sa.true()" if isinstance(obj.arg, sa.sql.elements.True_) else "sa.false()"
            if isinstance(obj.arg, sa.sql.functions.now):
                return "sa.func.now()"
        if type_ == "check" and "schemarel_check" in obj.info:
            return constraint_source(obj.info["schemarel_check"], f"op.f({obj.name!r})")
        if type_ == "type" and isinstance(obj, sa.JSON):
            imports.add("from sqlalchemy.dialects import postgresql")
            return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
        return False

    return render


def _render(operations: list[ops.MigrateOperation], imports: set[str]) -> str:
    if not operations:
        return "    pass\n"
    code = render_python_code(ops.UpgradeOps(ops=operations), render_item=_render_item(imports))
    return _ALEMBIC_MARKERS.sub("", code).rstrip() + "\n"


def _summary(added: list[Table], dropped: list[Table], changed: bool) -> str:
    roots = [t.name for t in added if t.kind == "root"]
    if roots:
        return "create " + ", ".join(roots)
    if dropped:
        return "drop " + ", ".join(t.name for t in dropped if t.kind == "root") or "drop tables"
    return "alter tables" if changed else "no changes"
