"""Writing an output folder atomically (only one schemarel may replace), and comparing it with what it should hold."""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from schemarel.errors import SchemarelError
from schemarel.render.ownership import MARKER, OutputRefused, Owner, marker_text, replaceable
from schemarel.render.tree import safe_relative, scan


@dataclass(frozen=True)
class Drift:
    path: str
    kind: str  # "missing", "extra", "changed"; "symlink" or "special" for what is there but was not read
    diff: str = ""


def current_tree(out_dir: Path) -> dict[str, bytes]:
    """Every regular file below `out_dir` (relative posix path → bytes): caches, links and the marker left out."""
    files = scan(out_dir).files
    files.pop(MARKER, None)
    return files


def drift(out_dir: Path, expected: dict[str, bytes]) -> list[Drift]:
    """How `out_dir` differs from `expected`; a link or special file is reported without being read."""
    tree = scan(out_dir)
    actual = {path: data for path, data in tree.files.items() if path != MARKER}
    result = []
    for path in sorted(expected.keys() | actual.keys() | tree.odd.keys()):
        if path in tree.odd:
            result.append(Drift(path, tree.odd[path]))
        elif path not in actual:
            result.append(Drift(path, "missing"))
        elif path not in expected:
            result.append(Drift(path, "extra"))
        elif actual[path] != expected[path]:
            result.append(Drift(path, "changed", _unified(_label(out_dir), path, actual[path], expected[path])))
    return result


def _label(out_dir: Path) -> str:
    """The folder's name in a diff's header: its own name, also when given as `.` or `..` (run from inside)."""
    return out_dir.name if out_dir.name not in ("", "..") else out_dir.resolve().name


def _unified(prefix: str, path: str, old: bytes, new: bytes) -> str:
    lines = difflib.unified_diff(
        old.decode("utf-8", "replace").splitlines(keepends=True),
        new.decode("utf-8", "replace").splitlines(keepends=True),
        fromfile=f"{prefix}/{path} (on disk)",
        tofile=f"{prefix}/{path} (from schemas)",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def write_tree(out_dir: Path, files: dict[str, bytes], owner: Owner) -> list[Drift]:
    """Make `out_dir` hold exactly `files` (and the marker of `owner`); all or nothing.

    Refused (OutputRefused, exit 2, nothing touched) unless `out_dir` is absent, empty or schemarel's own
    output of the same command, and apart from the folders `owner` protects; a path in `files` that would
    leave `out_dir` is refused too. A failure leaves the old tree in place.
    """
    for rel in files:
        if safe_relative(rel).parts[0] == MARKER:
            raise OutputRefused(f"refusing to write {rel!r}: the name is schemarel's marker")
    how = replaceable(out_dir, owner)
    changes = drift(out_dir, files)
    marker = marker_text(owner.kind)
    if how == "marked" and not changes and scan(out_dir).files.get(MARKER) == marker:
        return changes
    if how != "marked":
        changes.append(Drift(MARKER, "missing"))
    try:
        _swap(out_dir, {**files, MARKER: marker})
    except OSError as exc:
        failed = SchemarelError(f"cannot write {out_dir}: {exc.strerror or exc}; it was left as it was")
        failed.exit_code = 1  # the disk, not the input or the options
        raise failed from None
    return changes


def _swap(out_dir: Path, files: dict[str, bytes]) -> None:
    """Write `files` in a private folder beside `out_dir`, then exchange the two with renames.

    The old tree is moved into the same private folder (a fresh name no one else uses) before the new one takes
    its place, and put back if that fails; the private folder is removed in every case.
    """
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    private = Path(tempfile.mkdtemp(prefix=".schemarel-", dir=out_dir.parent))
    try:
        new, old = private / "new", private / "old"
        new.mkdir()  # the umask's mode, as any folder the user makes (mkdtemp's own is 0700)
        for rel, content in files.items():
            target = new / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        if os.path.lexists(out_dir):
            os.rename(out_dir, old)
            try:
                os.rename(new, out_dir)
            except BaseException:
                os.rename(old, out_dir)
                raise
        else:
            os.rename(new, out_dir)
    finally:
        shutil.rmtree(private, ignore_errors=True)
