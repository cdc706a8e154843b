"""What one revision does: the diff, its ops both ways, their rendered bodies, the changes and a summary."""

from __future__ import annotations

from collections.abc import Mapping

from schemarel.ir import Database
from schemarel.migrate import body, carry, keyswitch
from schemarel.migrate.diff import diff
from schemarel.migrate.phases import Builder
from schemarel.migrate.planned import Plan, assemble
from schemarel.sql.metadata import build_metadata


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
    renamed = [c for c in d.changes if c.what == "schema"]
    changes = renamed + carry.carried(upgrade) + carrier.leftovers
    imports: set[str] = set()
    return assemble(d, body.render(upgrade, imports), body.render(downgrade, imports), changes, imports)
