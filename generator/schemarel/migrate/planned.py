"""A revision's plan as data (rendered bodies, changes, summary): what both planners share, without SQLAlchemy."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from schemarel.migrate.diff import Change, DataCheck, Diff
from schemarel.migrate.guard import data_checks, downgrade_changes

# schemarel.support's data moves, which a body calls by name (schemarel.migrate.ops writes the calls)
DATAMOVE_FUNCTIONS = ("backfill", "copy_to_child", "copy_to_parent", "rename_pointers", "rename_values")


@dataclass(frozen=True)
class Plan:
    """What one revision does: rendered upgrade and downgrade bodies, the changes, a one-line summary."""

    upgrade: str
    downgrade: str
    summary: str
    created_tables: tuple[str, ...]
    dropped_tables: tuple[str, ...]
    created_enums: tuple[str, ...]  # by the tables this revision creates (PostgreSQL creates them with the table)
    dropped_enums: tuple[str, ...]
    uses_uuid_default: bool
    external_tables: tuple[str, ...]  # referenced, never created: the upgrade checks they exist
    imports: tuple[str, ...]
    changes: tuple[Change, ...] = field(default=())


def assemble(d: Diff, upgrade: str, downgrade: str, changes: Sequence[Change], imports: set[str]) -> Plan:
    """The Plan of `d` from its rendered bodies (see `finish`) and the changes its ops carry, in order."""
    up_code = guarded(upgrade, "upgrade", data_checks(changes), imports)
    down_code = guarded(downgrade, "downgrade", data_checks(downgrade_changes(changes)), imports)
    added = d.added_tables
    created_enums = {c.type.enum for t in added for c in t.columns if c.type.enum}
    return Plan(
        upgrade=up_code,
        downgrade=down_code,
        summary=summary(d),
        created_tables=tuple(t.name for t in added),
        dropped_tables=tuple(t.name for t in d.dropped_tables),
        created_enums=tuple(e.name for e in d.new.enums if e.name in created_enums),
        dropped_enums=tuple(e.name for e in d.old.enums if e.name not in {n.name for n in d.new.enums}),
        uses_uuid_default=any(c.default and c.default.kind == "uuid" for t in added for c in t.columns),
        external_tables=tuple(sorted({fk.ref_table for t in added for fk in t.foreign_keys if fk.external})),
        imports=tuple(sorted(imports)),
        changes=tuple(changes),
    )


def finish(code: str, imports: set[str]) -> str:
    """A rendered body as a revision holds it, with the imports of what it names (MySQL's types, data moves)."""
    if "mysql." in code:  # MySQL's variants of types (LONGTEXT, DATETIME(6)), which Alembic spells by module
        imports.add("from sqlalchemy.dialects import mysql")
    used = sorted(f for f in DATAMOVE_FUNCTIONS if re.search(rf"^\s*{f}\(", code, re.MULTILINE))
    if used:
        imports.add(f"from schemarel.support import {', '.join(used)}")
    return code.rstrip() + "\n"


def summary(d: Diff) -> str:
    """A revision message derived from the changes: the first few, then how many more."""
    roots = [t.name for t in d.added_tables if t.parent is None]
    if not d.old.schemas:
        return "create " + ", ".join(roots)
    phrases: list[str] = []
    for c in d.changes:
        subject = c.name.split(".")[-1] if c.what in ("column", "type", "nullability", "default", "comment") else c.name
        if c.what == "collation":  # every string column at once, when schemarel's own choice changed
            phrase = "strings compare exactly on MariaDB and MySQL"
        elif c.action == "rename":
            phrase = f"rename {c.what} {c.before} to {c.after}"
        elif c.what == "enum value":
            phrase = f"{c.action} {c.before or c.after} in {c.name}"
        elif c.action == "alter":
            phrase = f"alter {subject} {c.what}"
        else:
            phrase = f"{c.action} {c.what} {subject}"
        if phrase not in phrases:
            phrases.append(phrase)
    if not phrases:
        return "no changes"
    head = "; ".join(phrases[:2])
    return head if len(phrases) <= 2 else f"{head} and {len(phrases) - 2} more"


def guarded(code: str, step: str, checks: list[DataCheck], imports: set[str]) -> str:
    """`code` after a `protect_data` call: data the step cannot keep is refused (or warned about) first."""
    if not checks:
        return code
    imports.add("from schemarel.support import protect_data")
    lines = "".join(f"        {check!r},\n" for check in checks)
    guard = f"    protect_data(op, revision, {step!r}, [\n{lines}    ])\n"
    return guard if code == "    pass\n" else guard + code
