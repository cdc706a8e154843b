"""Writing `generated/` atomically, and comparing it with what it should hold (the drift check)."""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

IGNORED_DIRS = {"__pycache__"}
IGNORED_SUFFIXES = (".pyc",)


@dataclass(frozen=True)
class Drift:
    path: str
    kind: str  # "missing", "extra" or "changed"
    diff: str = ""


def current_tree(out_dir: Path) -> dict[str, bytes]:
    """Every file below `out_dir` (relative posix path → bytes), caches left out."""
    files: dict[str, bytes] = {}
    if not out_dir.is_dir():
        return files
    for dirpath, dirnames, filenames in os.walk(out_dir):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS)
        for name in sorted(filenames):
            if name.endswith(IGNORED_SUFFIXES):
                continue
            path = Path(dirpath, name)
            files[path.relative_to(out_dir).as_posix()] = path.read_bytes()
    return files


def drift(out_dir: Path, expected: dict[str, bytes]) -> list[Drift]:
    actual = current_tree(out_dir)
    result = []
    for path in sorted(expected.keys() | actual.keys()):
        if path not in actual:
            result.append(Drift(path, "missing"))
        elif path not in expected:
            result.append(Drift(path, "extra"))
        elif actual[path] != expected[path]:
            result.append(Drift(path, "changed", _unified(out_dir.name, path, actual[path], expected[path])))
    return result


def _unified(prefix: str, path: str, old: bytes, new: bytes) -> str:
    lines = difflib.unified_diff(
        old.decode("utf-8", "replace").splitlines(keepends=True),
        new.decode("utf-8", "replace").splitlines(keepends=True),
        fromfile=f"{prefix}/{path} (on disk)",
        tofile=f"{prefix}/{path} (from schemas)",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def write_tree(out_dir: Path, files: dict[str, bytes]) -> list[Drift]:
    """Make `out_dir` hold exactly `files`; all or nothing: a failure leaves the old tree in place."""
    changes = drift(out_dir, files)
    if not changes:
        return changes
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp's private 0700 would become the output's mode
    try:
        for rel, content in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        if out_dir.exists():
            retired = staging.with_name(staging.name + ".old")
            os.replace(out_dir, retired)
            os.replace(staging, out_dir)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return changes
