"""The destructive-change guard: a revision that may lose data or fail on existing rows needs consent."""

from __future__ import annotations

from collections.abc import Sequence

from schemarel.errors import SchemarelError
from schemarel.migrate.diff import Change


class DestructiveChange(SchemarelError):
    """Raised instead of writing a revision whose changes are destructive; lists each one."""

    def __init__(self, changes: Sequence[Change]) -> None:
        self.changes = tuple(changes)
        lines = [f"  {c.pointer or '(schema removed)'}: {c.destructive}" for c in self.changes]
        super().__init__(
            "the schema change is destructive; nothing was written. Pass --allow-destructive to write the "
            'revision anyway, or change the schema (a rename keeps data with "x-sql": {"renamedFrom": …}):\n'
            + "\n".join(lines)
        )


def downgrade_risks(changes: Sequence[Change]) -> list[Change]:
    """The downgrade's destructive steps, in the order it runs them: the reverses of the upgrade's changes."""
    return [r for r in (c.reverse() for c in reversed(changes)) if r.destructive]


def refuse_destructive(changes: Sequence[Change], allowed: bool) -> None:
    """Raise DestructiveChange (exit 2) when a change is destructive and the user did not allow it."""
    destructive = [c for c in changes if c.destructive]
    if destructive and not allowed:
        raise DestructiveChange(destructive)
