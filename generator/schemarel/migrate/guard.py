"""The guards, read off the Changes: consent for destructive changes at generate time, data checks at run time.

A revision that may lose data or fail on existing rows needs consent before it is written; once written, it
checks the rows each step cannot keep (`protect_data`) before it changes anything. Both read the same
Changes, and a downgrade's are the reverses of the upgrade's (`Change.reverse()`).
"""

from __future__ import annotations

from collections.abc import Sequence

from schemarel.errors import SchemarelError
from schemarel.migrate.diff import Change, DataCheck


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


def downgrade_changes(changes: Sequence[Change]) -> list[Change]:
    """The downgrade's changes, in the order it runs them: the reverses of the upgrade's, last first."""
    return [c.reverse() for c in reversed(changes)]


def downgrade_risks(changes: Sequence[Change]) -> list[Change]:
    """The downgrade's destructive steps, in the order it runs them."""
    return [r for r in downgrade_changes(changes) if r.destructive]


def data_checks(changes: Sequence[Change]) -> list[DataCheck]:
    """What `protect_data` checks before a step makes `changes`: their checks, in order; the values one enum
    column loses are checked at once (a check per value would count the same rows again)."""
    checks: list[DataCheck] = []
    lost: dict[DataCheck, list[str]] = {}
    for c in changes:
        if not c.check:
            continue
        if c.check[0] != "enum_values":
            checks.append(c.check)
        elif c.check[:3] in lost:
            lost[c.check[:3]].extend(c.check[3])
        else:
            lost[c.check[:3]] = list(c.check[3])
            checks.append((*c.check[:3], lost[c.check[:3]]))
    return checks


def refuse_destructive(changes: Sequence[Change], allowed: bool) -> None:
    """Raise DestructiveChange (exit 2) when a change is destructive and the user did not allow it."""
    destructive = [c for c in changes if c.destructive]
    if destructive and not allowed:
        raise DestructiveChange(destructive)
