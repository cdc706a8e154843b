"""A user's disk in miniature for the file-safety tests: a project among foreign folders, links, schemarel output.

`build_sandbox` lays it out; `TARGETS` says, for each folder an output could be pointed at, whether
`generate` and `docs --site` may replace it (the specification the tests hold the code to); `state` records
every entry below a folder without following links, so that a test can tell exactly what changed.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from conftest import REPO
from schemarel.render.ownership import MARKER, marker_text

V = TypeVar("V")

# target (relative to the project) → (may `generate` replace it, may `docs --site` replace it)
TARGETS: dict[str, tuple[bool, bool]] = {
    "new": (True, True),  # absent
    "new/deeper": (True, True),
    "notes/new": (True, True),  # absent inside a foreign folder: its files stay
    "link_notes/new": (True, True),  # absent, reached through a link
    "../outside/new": (True, True),
    "empty": (True, True),
    "../outside_empty": (True, True),
    "generated": (True, False),  # generate's own (marked); the site's input
    "generated/new": (True, False),
    "legacy": (True, False),  # a generated/ from before the marker: adopted by generate only
    "fakelegacy": (False, False),  # the same with one user file more
    "site": (False, True),  # a site schemarel built (marked)
    "gitsite": (False, False),  # marked, but a Git work tree (a gh-pages checkout)
    "markerlink": (False, False),  # its marker is a link to a real one
    "wrongmarker": (False, False),  # a marker file whose first line is not schemarel's
    "notes": (False, False),
    "src": (False, False),
    "src/app": (False, False),
    "afile.txt": (False, False),
    "notes/todo.md": (False, False),
    "schemas": (False, False),
    "schemas/new": (False, False),
    "templates": (False, False),
    "templates/new": (False, True),  # `docs` reads no templates
    ".": (False, False),
    "..": (False, False),
    "../outside": (False, False),
    "link_notes": (False, False),
    "link_empty": (False, False),
    "link_site": (False, False),
    "dangling": (False, False),
    "schemas_link": (False, False),
    ".git": (False, False),
}
SPELLINGS = ("plain", "dot", "absolute", "detour", "link_detour")


def spell(project: Path, target: str, how: str) -> str:
    """`target` written another way that names the same entry (links in the middle are resolved by the OS)."""
    if how == "dot":
        return f"./{target}"
    if how == "absolute":
        return os.path.join(str(project), target)
    if how == "detour":
        return f"src/../{target}"
    if how == "link_detour":
        return f"link_notes/../{target}"  # the link resolves first: `..` of notes/ is the project
    return target


def build_sandbox(base: Path) -> Path:
    """Lay out `base/project` (the working directory) among foreign folders; returns the project."""
    project = base / "project"
    (base / "outside").mkdir(parents=True)
    (base / "outside/a.txt").write_text("a user's file outside the project\n")
    (base / "outside_empty").mkdir()
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "app"\n')
    (project / ".git").mkdir()
    (project / ".git/HEAD").write_text("ref: refs/heads/main\n")
    shutil.copytree(REPO / "schemas", project / "schemas")
    (project / "templates").mkdir()
    (project / "templates/README.txt").write_text("overrides go here\n")
    (project / "notes").mkdir()
    (project / "notes/todo.md").write_text("- buy milk\n")
    (project / "src/app").mkdir(parents=True)
    (project / "src/app/main.py").write_text("print('the app')\n")
    (project / "empty").mkdir()
    (project / "afile.txt").write_text("just a file\n")
    shutil.copytree(REPO / "generated", project / "generated", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(project / "generated", project / "legacy")
    (project / "legacy" / MARKER).unlink()
    shutil.copytree(project / "legacy", project / "fakelegacy")
    (project / "fakelegacy/NOTES.txt").write_text("my notes about the models\n")
    for name in ("site", "gitsite"):
        (project / name).mkdir()
        (project / name / MARKER).write_bytes(marker_text("site"))
        (project / name / "index.html").write_text("<h1>old site</h1>\n")
    (project / "gitsite/.git").mkdir()
    (project / "gitsite/.git/HEAD").write_text("ref: refs/heads/gh-pages\n")
    (project / "markerlink").mkdir()
    (project / "markerlink" / MARKER).symlink_to(project / "site" / MARKER)
    (project / "markerlink/mine.txt").write_text("mine\n")
    (project / "wrongmarker").mkdir()
    (project / "wrongmarker" / MARKER).write_text("something else\n")
    (project / "wrongmarker/mine.txt").write_text("mine\n")
    (project / "link_notes").symlink_to("notes")
    (project / "link_empty").symlink_to("empty")
    (project / "link_site").symlink_to("site")
    (project / "dangling").symlink_to("missing")
    (project / "schemas_link").symlink_to("schemas")
    return project


def state(root: Path) -> dict[str, tuple[str, ...] | tuple[str, bytes]]:
    """Every entry below `root` → ("dir",), ("link", target) or ("file", bytes); links are never followed."""
    found: dict[str, tuple[str, ...] | tuple[str, bytes]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            mode = os.lstat(path).st_mode
            rel = path.relative_to(root).as_posix()
            if stat.S_ISLNK(mode):
                found[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(mode):
                found[rel] = ("dir",)
            else:
                found[rel] = ("file", path.read_bytes())
    return found


def outside(entries: Mapping[str, V], folder: str) -> dict[str, V]:
    """The entries that are not `folder` or below it."""
    return {k: v for k, v in entries.items() if k != folder and not k.startswith(folder + "/")}


def changed_only_below(before: Mapping[str, object], after: Mapping[str, object], written: str) -> bool:
    """Whether everything outside `written` is as it was (new, empty parent folders of it aside)."""
    created = {k for k in after.keys() - before.keys() if written.startswith(k + "/")}
    if any(after[k] != ("dir",) for k in created):
        return False
    return outside({k: v for k, v in after.items() if k not in created}, written) == outside(before, written)
