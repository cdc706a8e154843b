"""Reading a folder schemarel writes without following symbolic links, and paths that cannot leave it.

`generated/` and `generated/docs` may come from someone else's commit: a file there replaced by a link to
`/proc/self/environ` or `~/.ssh/id_rsa` must be reported, never read (and never diffed, copied or
published). Checks are made on each path component with `lstat` and the final open uses `O_NOFOLLOW`; a
link swapped in between by a concurrent process on the same machine is out of scope (that process could
read the target itself).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from schemarel.errors import HistoryError, SchemarelError

IGNORED_DIRS = {"__pycache__"}
IGNORED_SUFFIXES = (".pyc",)
# O_NOFOLLOW refuses a link as the last component; O_NONBLOCK keeps a FIFO from blocking the open
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


class UnsafeFile(HistoryError):
    """A file schemarel would have to read through a symbolic link, or one that is not a regular file."""


class UnsafePath(SchemarelError):
    """An output path (from a file name, a revision slug, a table name) that would leave its folder."""


@dataclass
class Scan:
    """A folder's regular files (relative posix path → bytes) and what was not read: links, special files."""

    files: dict[str, bytes] = field(default_factory=dict)
    odd: dict[str, str] = field(default_factory=dict)  # relative path → "symlink" or "special"


def safe_relative(rel: str) -> PurePosixPath:
    """`rel` if it names a path strictly below its folder (relative, no `..`/`.`/empty part); else UnsafePath."""
    path = PurePosixPath(rel)
    parts = rel.split("/")
    if (
        not rel
        or path.is_absolute()
        or any(p in ("", ".", "..") for p in parts)
        or any(c in rel for c in ("\\", "\0"))  # a Windows separator; NUL ends C strings
    ):
        raise UnsafePath(f"refusing to write {rel!r}: an output path must stay inside its folder")
    return path


def kind_of(path: Path) -> str | None:
    """None for a real directory or regular file (or nothing), else "symlink" or "special"; never follows."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        return "symlink"
    return None if stat.S_ISDIR(mode) or stat.S_ISREG(mode) else "special"


def refuse_link(path: Path) -> None:
    """UnsafeFile if `path` itself is a symbolic link or a special file."""
    odd = kind_of(path)
    if odd is not None:
        raise UnsafeFile(str(path), "", _why(odd))


def is_regular(root: Path, rel: str) -> bool:
    """Whether `root/rel` is a regular file; UnsafeFile if `root` or any part of `rel` is a link or special file."""
    current = root
    refuse_link(current)
    for part in safe_relative(rel).parts:
        current = current / part
        refuse_link(current)
    return current.is_file()


def read_regular(root: Path, rel: str) -> bytes:
    """The bytes of `root/rel`; UnsafeFile if `root` or any part of `rel` is a link, or the file is not regular."""
    is_regular(root, rel)
    return _read_file(root / rel)


def scan(root: Path) -> Scan:
    """Every regular file below `root` (caches left out); links and special files are listed, not read."""
    result = Scan()
    refuse_link(root)
    if root.is_dir():
        _walk(root, "", result)
    return result


def _walk(folder: Path, prefix: str, result: Scan) -> None:
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda e: e.name)
    for entry in entries:
        rel = prefix + entry.name
        if entry.is_symlink():
            result.odd[rel] = "symlink"
        elif entry.is_dir(follow_symlinks=False):
            if entry.name not in IGNORED_DIRS:
                _walk(Path(entry.path), rel + "/", result)
        elif entry.is_file(follow_symlinks=False):
            if not entry.name.endswith(IGNORED_SUFFIXES):
                try:
                    result.files[rel] = _read_file(Path(entry.path))
                except UnsafeFile:  # replaced by a link since it was listed
                    result.odd[rel] = "symlink"
        else:
            result.odd[rel] = "special"


def _read_file(path: Path) -> bytes:
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if os.path.islink(path):
            raise UnsafeFile(str(path), "", _why("symlink")) from None
        raise UnsafeFile(str(path), "", f"cannot be read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise UnsafeFile(str(path), "", _why("special"))
        return handle.read()


def _why(kind: str) -> str:
    if kind == "symlink":
        return "a symbolic link, not read: schemarel neither reads nor writes through links"
    return "not a regular file, not read"
