"""Revisions a user asks for: an empty hand-written one at the head, and `generate --rebase` after a merge."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from schemarel.errors import HistoryError, SchemarelError
from schemarel.project.history import GitSource, History, Revision, read_history
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
    write_tree(settings.out_dir, gen.files)  # script.py.mako and alembic.ini must be there
    config = Config(str(settings.out_dir / "alembic.ini"))
    script = command.revision(config, message=message, rev_id=gen.history.next_id(), head=gen.history.head or "head")
    if script is None or isinstance(script, list):  # only with branch labels, which schemarel never sets
        raise SchemarelError("Alembic wrote no single revision")
    write_tree(settings.out_dir, build(settings, write_revision=False).files)  # history.sum and the index list it
    return Path(script.path)


@dataclass(frozen=True)
class Rebased:
    generation: Generation
    moved: list[Revision]  # this branch's revisions that were replaced
    after: Revision | None  # the other branch's head they now follow


def rebase(settings: Settings) -> Rebased:
    """Move this branch's generated revisions after the other branch's, during or right after a git merge.

    The other branch's history is read from git as it committed it (verified against its history.sum) and
    kept byte for byte; this branch's revisions after the fork are dropped and one revision is derived anew
    from the other branch's head model to what the merged schemas give now.
    """
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
    manual = [r for r in moved if not r.generated]
    if manual:
        raise HistoryError(
            str(settings.out_dir / manual[0].script),
            "",
            "this branch's side of the merge holds a hand-written revision: set its down_revision by hand to "
            f"follow {theirs.head}, after `schemarel generate --rebase` for the generated ones, or squash it",
        )
    message = settings.message or "; ".join(r.message for r in moved) or None
    base = History(list(theirs.revisions), theirs.source)
    gen = build(replace(settings, message=message), history=base)
    return Rebased(gen, moved, theirs.revisions[-1] if theirs.revisions else None)


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
