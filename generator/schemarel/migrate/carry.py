"""Which operation of a revision carries which Change: the doc and the guards read the changes off the ops.

Alembic's op objects carry their own `reverse()` and diff tuple; ours carry, in `op.info["changes"]`, the
Changes (description, destructiveness, data check, and the reverse's) they carry out. The plan builds the
ops phase by phase; each phase hands its ops to `Carrier.take` with what it works on, and the Changes of
that kind and subject go onto its first op. A revision's changes are then the ones its ops carry, in the order they run,
so a change no op makes is never documented nor guarded as if it were (see `Carrier.leftovers`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from alembic.operations import ops

from schemarel.migrate.diff import Change, Diff

CONSTRAINTS = ("unique constraint", "index", "check constraint")
COLUMN_LEVEL = ("column", "type", "nullability", "default", "comment", "collation")


def table_of(c: Change) -> str:
    return c.name.rsplit(".", 1)[0] if c.what in COLUMN_LEVEL else c.name


def _column_of(c: Change) -> str:
    return c.name.rsplit(".", 1)[-1]


class Carrier:
    """Hands each Change of a diff to the first op of the phase that carries it out, once."""

    def __init__(self, d: Diff) -> None:
        # a renamed schema file changes no database object: no op carries it (`plan` lists it first)
        self.pending = [c for c in d.changes if c.what != "schema"]
        self.enum_table = {e.new.name: e.table for e in d.enums}
        # an enum column's default is reset by the op that changes the enum's values
        self.enum_columns = {(e.table, e.column) for e in d.enums if e.old.values != e.new.values}
        self.phases: dict[str, Callable[[Change, Any], bool]] = {
            "renames": lambda c, t: c.action == "rename" and c.what not in ("enum value", "stored value")
            and self._table(c) == t,
            "drop_constraints": lambda c, t: c.action == "drop" and c.what in CONSTRAINTS and c.name == t,
            "enum_values": lambda c, e: (c.what == "enum value" and c.name == e.new.name)
            or (c.what == "default" and (table_of(c), _column_of(c)) == (e.table, e.column)),
            "create_table": lambda c, t: (c.action, c.what, c.name) == ("add", "table", t),
            "recollate": lambda c, t: (c.action, c.what) == ("alter", "collation") and table_of(c) == t,
            "key_switch": lambda c, s: (c.action, c.what, c.name) == ("alter", "primary key", s.pair.new.name),
            "add_columns": lambda c, t: (c.action, c.what) == ("add", "column") and table_of(c) == t,
            "move": lambda c, m: c.action == "move" and table_of(c) in (m.parent, m.child.name)
            and _column_of(c) in m.columns,
            "stored_values": lambda c, r: c.what == "stored value" and c.name == f"{r.table}.{r.column}",
            "alter_columns": lambda c, t: c.action == "alter" and table_of(c) == t and not self._enum_default(c),
            "drop_columns": lambda c, t: (c.action, c.what) == ("drop", "column") and table_of(c) == t,
            "drop_table": lambda c, t: (c.action, c.what, c.name) == ("drop", "table", t),
            "add_constraints": lambda c, t: c.action == "add" and c.what in CONSTRAINTS and c.name == t,
        }  # fmt: skip

    def _table(self, c: Change) -> str:
        return self.enum_table.get(c.name, c.name) if c.what == "enum type" else table_of(c)

    def _enum_default(self, c: Change) -> bool:
        return c.what == "default" and (table_of(c), _column_of(c)) in self.enum_columns

    def take(self, phase: str, subject: Any, operations: Sequence[ops.MigrateOperation]) -> list[ops.MigrateOperation]:
        """`operations` (a phase's ops for `subject`), the first carrying the changes it makes."""
        if operations:
            matches = self.phases[phase]
            taken = [c for c in self.pending if matches(c, subject)]
            self.pending = [c for c in self.pending if not matches(c, subject)]
            operations[0].info.setdefault("changes", []).extend(taken)
        return list(operations)

    @property
    def leftovers(self) -> list[Change]:
        """Changes no op took: a builder/describer mismatch (the property test holds this empty)."""
        return list(self.pending)


def carried(operations: Sequence[ops.MigrateOperation]) -> list[Change]:
    """The changes a revision's ops carry, in the order the upgrade runs them."""
    return [c for op in operations for c in op.info.get("changes", ())]
