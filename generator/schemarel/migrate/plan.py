"""What one revision does: the diff, its ops both ways, their rendered bodies, the changes and a summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from schemarel.ir import Database
from schemarel.migrate import body, carry, keyswitch
from schemarel.migrate.diff import Change, Diff, diff
from schemarel.migrate.guard import data_checks, downgrade_changes
from schemarel.migrate.phases import Builder
from schemarel.sql.metadata import build_metadata


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


def plan(
    old: Database | None,
    new: Database,
    old_pointers: Mapping[str, str] | None = None,
    new_pointers: Mapping[str, str] | None = None,
) -> Plan:
    """Operations that take a database at `old` (None: empty) to `new`."""
    d = diff(old or Database(()), new, old_pointers or {}, new_pointers or {})
    switches = keyswitch.detect(d, old_pointers or {}, new_pointers or {})
    carrier = carry.Carrier(d)  # each op carries the Changes it makes: the doc and the guards read them off the ops
    upgrade = Builder(d, build_metadata(d.old), build_metadata(new), carrier, switches).build()
    downgrade = [op.reverse() for op in reversed(upgrade)]
    changes = carry.carried(upgrade) + carrier.leftovers
    imports: set[str] = set()
    up_code = body.guarded(body.render(upgrade, imports), "upgrade", data_checks(changes), imports)
    down_checks = data_checks(downgrade_changes(changes))
    down_code = body.guarded(body.render(downgrade, imports), "downgrade", down_checks, imports)
    added = d.added_tables
    created_enums = {c.type.enum for t in added for c in t.columns if c.type.enum}
    return Plan(
        upgrade=up_code,
        downgrade=down_code,
        summary=summary(d),
        created_tables=tuple(t.name for t in added),
        dropped_tables=tuple(t.name for t in d.dropped_tables),
        created_enums=tuple(e.name for e in new.enums if e.name in created_enums),
        dropped_enums=tuple(e.name for e in d.old.enums if e.name not in {n.name for n in new.enums}),
        uses_uuid_default=any(c.default and c.default.kind == "uuid" for t in added for c in t.columns),
        external_tables=tuple(sorted({fk.ref_table for t in added for fk in t.foreign_keys if fk.external})),
        imports=tuple(sorted(imports)),
        changes=tuple(changes),
    )


def summary(d: Diff) -> str:
    """A revision message derived from the changes: the first few, then how many more."""
    roots = [t.name for t in d.added_tables if t.parent is None]
    if not d.old.schemas:
        return "create " + ", ".join(roots)
    phrases: list[str] = []
    for c in d.changes:
        subject = c.name.split(".")[-1] if c.what in ("column", "type", "nullability", "default", "comment") else c.name
        if c.action == "rename":
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
