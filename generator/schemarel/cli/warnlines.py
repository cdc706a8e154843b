"""Generate's warnings as a reader can take them in: one line per reason with a count and the first pointers."""

from __future__ import annotations

import re
from collections.abc import Iterable

from schemarel.ir import SchemaWarning

FIRST = 3  # pointers shown on a grouped line; `--verbose` and `schemarel inspect` list every one
# the part of a message that names the one column it made; the rest is the reason shared with its kin
_OWN_COLUMN = re.compile(r"^stored in JSON column [^\s:]+: ")


def reason(warning: SchemaWarning) -> str:
    """What a warning says without the column it names: warnings with the same reason group together."""
    return _OWN_COLUMN.sub("stored in a JSON column each: ", warning.message)


def grouped(warnings: Iterable[SchemaWarning], first: int = FIRST) -> list[str]:
    """One line per (file, reason), in the order the reasons first appear; a reason met once keeps its
    message whole, one met more often gives its count and its first `first` pointers."""
    groups: dict[tuple[str, str], list[SchemaWarning]] = {}
    for warning in warnings:
        groups.setdefault((warning.file, reason(warning)), []).append(warning)
    lines = []
    for (file, why), members in groups.items():
        if len(members) == 1:
            lines.append(str(members[0]))
            continue
        shown = ", ".join(m.pointer or "#" for m in members[:first])
        more = len(members) - first
        rest = f" and {more} more; --verbose lists them" if more > 0 else ""
        lines.append(f"{file}: {why} ({len(members)} times: {shown}{rest})")
    return lines
