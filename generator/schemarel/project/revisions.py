"""Revisions a user asks for: an empty hand-written one at the head, and `generate --rebase` after a merge."""

from __future__ import annotations

import ast
import re
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from schemarel.errors import HistoryError, SchemarelError
from schemarel.project.config import output_owner
from schemarel.project.history import (
    VERSIONS,
    DiskSource,
    GitSource,
    History,
    Revision,
    Source,
    read_history,
    read_scripts,
)
from schemarel.project.pipeline import Generation, Settings, build
from schemarel.render.output import write_tree


def add_manual_revision(settings: Settings, message: str) -> Path:
    """Write an empty revision after the head (through Alembic and script.py.mako, as `alembic revision`)."""
    from alembic import command
    from alembic.config import Config

    gen = build(settings, write_revision=False)
    if gen.pending_change:
        raise SchemarelError(
            "the schemas changed since the last revision: run `schemarel generate` first, so that the "
            "hand-written revision follows the generated one"
        )
    owner = output_owner("generate", settings.schemas_dir, settings.templates_dir)
    write_tree(settings.out_dir, gen.files, owner)  # script.py.mako and alembic.ini must be there
    config = Config(str(settings.out_dir / "alembic.ini"))
    script = command.revision(config, message=message, rev_id=gen.history.next_id(), head=gen.history.head or "head")
    if script is None or isinstance(script, list):  # only with branch labels, which schemarel never sets
        raise SchemarelError("Alembic wrote no single revision")
    write_tree(settings.out_dir, build(settings, write_revision=False).files, owner)  # history.sum, the index list it
    return Path(script.path)


@dataclass(frozen=True)
class Rebased:
    generation: Generation
    moved: list[Revision]  # this branch's revisions after the fork, as it committed them
    after: Revision | None  # the other branch's head they now follow


@dataclass(frozen=True)
class Overlay:
    """Files not written yet (`files`), over a source that has the rest."""

    files: dict[str, bytes]
    base: Source

    def read(self, rel: str) -> bytes | None:
        return self.files[rel] if rel in self.files else self.base.read(rel)

    def listdir(self, rel: str) -> list[str]:
        mine = {p.rsplit("/", 1)[-1] for p in self.files if p.rsplit("/", 1)[0] == rel}
        return sorted(mine | set(self.base.listdir(rel)))

    def where(self, rel: str) -> str:
        return rel if rel in self.files else self.base.where(rel)


def rebase(settings: Settings) -> Rebased:
    """Move this branch's revisions after the other branch's, during or right after a git merge.

    The other branch's history is read from git as it committed it (verified against its history.sum) and
    kept byte for byte. This branch's generated revisions after the fork become one revision derived anew
    from the other branch's head model to what the merged schemas give now; its hand-written ones follow,
    in their order, with only their `revision`/`down_revision` lines and file names changed.
    """
    try:
        read_history(DiskSource(settings.out_dir))
    except HistoryError:
        pass  # a fork, conflict markers: what --rebase is for
    else:
        raise SchemarelError("no two revisions follow one parent: nothing to rebase; run `schemarel generate`")
    root, prefix = _repository(settings.out_dir)
    theirs_ref, ours_ref = _sides(root)
    theirs = read_history(GitSource(root, theirs_ref, prefix))
    ours = read_history(GitSource(root, ours_ref, prefix))
    shared = 0
    while (
        shared < min(len(ours.revisions), len(theirs.revisions))
        and ours.revisions[shared].files == theirs.revisions[shared].files
    ):
        shared += 1
    moved = ours.revisions[shared:]
    message = settings.message or "; ".join(r.message for r in moved if r.generated) or None
    gen = build(replace(settings, message=message), history=History(list(theirs.revisions), theirs.source))
    manual = [r for r in moved if not r.generated]
    if manual:
        chain = list(gen.history.revisions)
        files = {rel: gen.files[rel] for rev in chain[len(theirs.revisions) :] for rel in rev.files}
        history = History(chain, Overlay(files, theirs.source))
        for rev in manual:
            moved_rev = _rechain(rev, ours.source, history, files)
            history.revisions.append(moved_rev)
        gen = build(settings, write_revision=False, history=history)
    _refuse_dropping_scripts(settings, gen, moved)
    return Rebased(gen, moved, theirs.revisions[-1] if theirs.revisions else None)


def _rechain(rev: Revision, source: Source, history: History, files: dict[str, bytes]) -> Revision:
    """A hand-written revision with a new id after the head: its header lines and file name change, nothing else."""
    new_id, head = history.next_id(), history.head
    text = (source.read(rev.script) or b"").decode("utf-8")
    lines = text.splitlines(keepends=True)
    for node in ast.parse(text).body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            value = new_id if target.id == "revision" else head
            lines[node.lineno - 1] = f"{target.id} = {_id_literal(value)}\n"
    text = "".join(lines)
    text = re.sub(r"^Revision ID: .*$", f"Revision ID: {new_id}", text, count=1, flags=re.MULTILINE)
    text = re.sub(r"^Revises: .*$", f"Revises: {head or ''}", text, count=1, flags=re.MULTILINE)
    name = rev.script.rsplit("/", 1)[-1]
    name = name[len(rev.id) :].lstrip("_") if name.startswith(rev.id) else name
    script = f"{VERSIONS}/{new_id}_{name}"
    files[script] = text.encode("utf-8")
    return Revision(new_id, head, rev.message, script)


def _id_literal(value: str | None) -> str:
    """A revision id as script.py.mako spells it, and ruff formats it: in double quotes where it can be."""
    return repr(value) if value is None or '"' in value or "\\" in value else f'"{value}"'


def _refuse_dropping_scripts(settings: Settings, gen: Generation, moved: list[Revision]) -> None:
    """A script on disk that neither branch committed (written during the merge) is never deleted."""
    replaced = {r.script for r in moved}
    for script in read_scripts(DiskSource(settings.out_dir)):
        if script.path not in gen.files and script.path not in replaced:
            raise HistoryError(
                str(settings.out_dir / script.path),
                "",
                "is in neither branch's history (written during the merge?): --rebase would drop it; "
                "commit it on one branch or move it aside first",
            )


def _git(cwd: Path, *args: str) -> str | None:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def _repository(out_dir: Path) -> tuple[Path, str]:
    out = out_dir.resolve()
    top = _git(out.parent, "rev-parse", "--show-toplevel")
    if top is None:
        raise SchemarelError(f"{out_dir} is not in a git repository: --rebase reads both branches from git")
    return Path(top), out.relative_to(Path(top).resolve()).as_posix()


def _sides(root: Path) -> tuple[str, str]:
    """(the other branch, this branch) as git names them during a merge, a rebase, or after a merge commit."""
    if _git(root, "rev-parse", "-q", "--verify", "MERGE_HEAD"):
        return "MERGE_HEAD", "HEAD"
    if _git(root, "rev-parse", "-q", "--verify", "REBASE_HEAD"):
        return "HEAD", "REBASE_HEAD"  # a rebase replays this branch onto the other one, which HEAD is
    if _git(root, "rev-parse", "-q", "--verify", "HEAD^2"):
        return "HEAD^2", "HEAD^1"
    raise SchemarelError(
        "no merge in progress, no rebase in progress and HEAD is no merge commit: --rebase cannot tell this "
        "branch's revisions from the other branch's. Run it after `git merge OTHER` stops on the conflict"
    )
