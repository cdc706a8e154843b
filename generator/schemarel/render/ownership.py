"""Which folders schemarel may replace: absent or empty ones and those holding its marker; everything else is refused.

`generate` and `docs --site` replace their output folder whole, so pointing one at `src/app`, `schemas/` or
the project would delete the user's files. A folder schemarel wrote holds `.schemarel-output`, whose first
line names the command that owns it; a `generated/` written before the marker existed is recognised once by
its layout (only the paths schemarel writes, and snapshots that are schemarel's JSON) and marked then.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from schemarel.errors import SchemarelError
from schemarel.render.tree import UnsafeFile, kind_of, read_regular, scan

MARKER = ".schemarel-output"
KINDS = {"generate": "schemarel generate", "site": "schemarel docs --site"}
# every path `generate` has ever written: what a marker-less `generated/` may hold to be adopted
_LEGACY_LAYOUT = re.compile(
    r"__init__\.py|alembic\.ini|migrations/(env\.py|script\.py\.mako|history\.sum)"
    r"|migrations/versions/[^/]+\.py|migrations/snapshots/[^/]+\.json"  # hand-written revisions: any id
    r"|models/\w+\.py|documents/\w+\.py|schemas/[^/]+\.schema\.json|docs/[^/]+\.md|docs/migrations/[^/]+\.md",
    re.ASCII,
)
_LEGACY_TOP = {"__init__.py", "alembic.ini", "migrations", "models", "documents", "schemas", "docs", "__pycache__"}
_SNAPSHOT_KEYS = {"revision", "down_revision", "message", "slug"}  # and the model: "database" or a "patch"


class OutputRefused(SchemarelError):
    """schemarel will not replace this folder (it is not its own output, or replacing it would lose input)."""


@dataclass(frozen=True)
class Owner:
    """The command replacing a folder, and the folders that must survive it (label, path)."""

    kind: str  # a key of KINDS
    roots: tuple[tuple[str, Path], ...] = ()  # the project, the working directory: never it nor a parent of it
    inputs: tuple[tuple[str, Path], ...] = ()  # schemas, templates, generated/ for the site: no overlap at all


def marker_text(kind: str) -> bytes:
    return (
        f"{KINDS[kind]}\n"
        f"This folder is written by `{KINDS[kind]}`, which replaces it whole: keep no other file in it.\n"
        "schemarel replaces only folders holding this file (or empty ones), so keep it.\n"
    ).encode()


def marked_kind(folder: Path) -> str | None:
    """The command whose marker `folder` holds (a regular file, not a link), or None."""
    try:
        first = read_regular(folder, MARKER).decode("utf-8", "replace").splitlines()[:1]
    except (UnsafeFile, OSError):
        return None
    return next((k for k, line in KINDS.items() if first == [line]), None)


def replaceable(target: Path, owner: Owner) -> str:
    """Why `target` may be replaced ("absent", "empty", "marked", "legacy"); OutputRefused saying why not."""
    odd = kind_of(target)
    if odd == "symlink":
        _refuse(target, "is a symbolic link; schemarel replaces only a real folder it wrote")
    if odd is not None or (target.exists() and not target.is_dir()):
        _refuse(target, "is a file, not a folder")
    resolved = target.resolve()
    # a root may hold the output (generated/ is in the project); an input may not even do that
    for label, folder, may_hold in [(*r, True) for r in owner.roots] + [(*i, False) for i in owner.inputs]:
        folder = folder.resolve()
        if folder == resolved:
            _refuse(target, f"is the {label}")
        if folder.is_relative_to(resolved):
            _refuse(target, f"holds the {label} ({folder})")
        if not may_hold and resolved.is_relative_to(folder):
            _refuse(target, f"is inside the {label} ({folder})")
    if not target.exists():
        return "absent"
    entries = os.listdir(target)
    if not entries:
        return "empty"
    if ".git" in entries:
        _refuse(target, "holds a Git repository (.git)")
    kind = marked_kind(target)
    if kind == owner.kind:
        return "marked"
    if kind is not None:
        _refuse(target, f"holds the output of `{KINDS[kind]}`, not of `{KINDS[owner.kind]}`")
    if owner.kind == "generate" and is_legacy_generated(target):
        return "legacy"
    _refuse(
        target,
        f"is not empty and schemarel did not write it (it has no {MARKER}); "
        "choose a new or empty folder, or move its files away",
    )
    raise AssertionError("unreachable")  # _refuse raises


def is_legacy_generated(folder: Path) -> bool:
    """A `generated/` written before the marker: only paths schemarel writes, and its snapshots' JSON."""
    try:
        if not set(os.listdir(folder)) <= _LEGACY_TOP:  # a cheap look first: never read a home folder whole
            return False
        tree = scan(folder)
    except (UnsafeFile, OSError):
        return False
    snapshots = [p for p in tree.files if p.startswith("migrations/snapshots/")]
    if tree.odd or not snapshots:  # the snapshots are the signature (a tree cut down to its history is one)
        return False
    if not all(_LEGACY_LAYOUT.fullmatch(p) for p in tree.files):
        return False
    for path in snapshots:
        try:
            data = json.loads(tree.files[path])
        except ValueError:
            return False
        if not isinstance(data, dict) or not data.keys() >= _SNAPSHOT_KEYS or not {"database", "patch"} & data.keys():
            return False
    return True


def _refuse(target: Path, why: str) -> None:
    raise OutputRefused(f"refusing to replace {target}: it {why}")
