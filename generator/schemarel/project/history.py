"""The recorded revision history: the Alembic chain of `versions/`, the snapshots, and `history.sum` guarding them.

A generated revision owns three files: its Alembic script, its snapshot (the relational model it leads to:
the first one in full, every later one as a JSON Patch against the previous generated revision's) and its
migration doc. A hand-written revision owns only its script; it does not change the recorded model.
`migrations/history.sum` lists every revision in chain order with a SHA-256 of each generated file, so an
edited, removed or reordered revision, or a hand-written revision that disappeared, is named by `check`.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import jsonpatch
import simplejson

from schemarel.errors import HistoryError
from schemarel.render.tree import is_regular, read_regular

SNAPSHOTS = "migrations/snapshots"
VERSIONS = "migrations/versions"
MIGRATION_DOCS = "docs/migrations"
SUM_FILE = "migrations/history.sum"
SUM_HEADER = (
    "# schemarel history: every revision in chain order, with the SHA-256 of each file of a generated one.\n"
    "# Written by `schemarel generate`, verified by `schemarel check`; never edit it by hand.\n"
)
_CONFLICT = re.compile(r"^(<{7}|={7}|>{7}|\|{7})( |$)", re.MULTILINE)


class BranchConflict(HistoryError):
    """Two revisions claim one id or one parent: two branches each added one."""


class Source(Protocol):
    """Where the files of `generated/` are read from: the working tree, or a git commit."""

    def read(self, rel: str) -> bytes | None: ...

    def listdir(self, rel: str) -> list[str]: ...

    def where(self, rel: str) -> str: ...


@dataclass(frozen=True)
class DiskSource:
    out_dir: Path

    def read(self, rel: str) -> bytes | None:
        # never through a link (UnsafeFile names it), never outside out_dir (UnsafePath)
        return read_regular(self.out_dir, rel) if is_regular(self.out_dir, rel) else None

    def listdir(self, rel: str) -> list[str]:
        folder = self.out_dir / rel
        return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []

    def where(self, rel: str) -> str:
        return str(self.out_dir / rel)


@dataclass(frozen=True)
class GitSource:
    """`generated/` as commit `ref` of the repository at `root` holds it (`prefix`: its path there)."""

    root: Path
    ref: str
    prefix: str

    def _git(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["git", *args], cwd=self.root, capture_output=True, check=False)

    def read(self, rel: str) -> bytes | None:
        done = self._git("show", f"{self.ref}:{self.prefix}/{rel}")
        return done.stdout if done.returncode == 0 else None

    def listdir(self, rel: str) -> list[str]:
        done = self._git("ls-tree", "--name-only", self.ref, f"{self.prefix}/{rel}/")
        return sorted(line.rsplit("/", 1)[-1] for line in done.stdout.decode().splitlines())

    def where(self, rel: str) -> str:
        return f"{self.ref}:{self.prefix}/{rel}"


@dataclass(frozen=True)
class Revision:
    """One revision of the chain; `database`/`pointers` are the model it leads to (None: hand-written)."""

    id: str
    down_revision: str | None
    message: str
    script: str  # `migrations/versions/<file>.py`
    slug: str = ""
    database: dict[str, Any] | None = None
    # `table` / `table.column` → `file#pointer`: where each came from, to name what a later revision drops.
    # Never compared: only `database` decides whether a revision is due.
    pointers: dict[str, str] = field(default_factory=dict)

    @property
    def generated(self) -> bool:
        return self.database is not None

    @property
    def snapshot(self) -> str:
        return f"{SNAPSHOTS}/{self.id}.json"

    @property
    def doc(self) -> str:
        return f"{MIGRATION_DOCS}/{self.id}_{self.slug}.md"

    @property
    def files(self) -> tuple[str, ...]:
        return (self.snapshot, self.script, self.doc) if self.generated else (self.script,)


@dataclass
class History:
    revisions: list[Revision]
    source: Source

    @property
    def head(self) -> str | None:
        return self.revisions[-1].id if self.revisions else None

    @property
    def last_generated(self) -> Revision | None:
        return next((r for r in reversed(self.revisions) if r.generated), None)

    def next_id(self) -> str:
        """The next free four-digit id: one past the highest numeric one (hand-written ids may be anything)."""
        numbers = [int(r.id) for r in self.revisions if r.id.isdigit()]
        return f"{max(numbers, default=0) + 1:04d}"

    def files(self) -> dict[str, bytes]:
        return {path: self.source.read(path) or b"" for rev in self.revisions for path in rev.files}


@dataclass(frozen=True)
class Script:
    id: str
    down_revision: str | None
    message: str
    path: str


def read_scripts(source: Source) -> list[Script]:
    """The `revision`/`down_revision` of every script in versions/, read without importing it."""
    scripts = []
    for name in source.listdir(VERSIONS):
        if not name.endswith(".py"):
            continue
        rel = f"{VERSIONS}/{name}"
        text = (source.read(rel) or b"").decode("utf-8", "replace")
        try:
            module = ast.parse(text)
            values = _assignments(module)
            rev, down = values["revision"], values.get("down_revision")
            if not isinstance(rev, str) or not (down is None or isinstance(down, str)):
                raise ValueError("revision must be a string and down_revision a string or None (no merge points)")
        except (SyntaxError, ValueError, TypeError, KeyError) as exc:
            raise HistoryError(source.where(rel), "", f"unreadable revision script: {exc}") from None
        doc = (ast.get_docstring(module) or "").strip().splitlines()
        scripts.append(Script(rev, down, doc[0] if doc else "", rel))
    return scripts


def _assignments(module: ast.Module) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for node in module.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                found[target.id] = ast.literal_eval(value)
    return found


def chain(scripts: list[Script], source: Source) -> list[Script]:
    """The scripts from the root to the head; two scripts with one id or one parent are a branch conflict."""
    by_parent: dict[str | None, list[Script]] = {}
    by_id: dict[str, list[Script]] = {}
    for s in scripts:
        by_parent.setdefault(s.down_revision, []).append(s)
        by_id.setdefault(s.id, []).append(s)
    clash = next((group for group in (*by_id.values(), *by_parent.values()) if len(group) > 1), None)
    if clash:
        raise BranchConflict(
            ", ".join(source.where(s.path) for s in clash),
            "",
            f"{len(clash)} revisions follow {clash[0].down_revision or 'the base'}: two branches each generated "
            "one and were merged. Run `schemarel generate --rebase` while the merge is in progress (or right after "
            "committing it): it moves this branch's revision after the other branch's, then `git add` and commit",
        )
    ordered, parent = [], None
    while parent in by_parent:
        ordered.append(by_parent[parent][0])
        parent = ordered[-1].id
    for s in scripts:
        if s not in ordered:
            raise HistoryError(
                source.where(s.path), "", f"revision {s.id} follows {s.down_revision!r}, which no revision is"
            )
    return ordered


def read_history(source: Source, verify: bool = True) -> History:
    """The recorded revisions, oldest first, checked against history.sum; never silently repaired.

    The checksums are verified first, so an edited file is named as edited before anything reads it.
    `verify=False` (`generate --rehash`) reads the files as they are, for a new history.sum.
    """
    recorded = source.read(SUM_FILE) if verify else None
    conflicted = recorded is not None and _CONFLICT.search(recorded.decode("utf-8", "replace")) is not None
    entries = parse_sum(source, recorded) if recorded is not None and not conflicted else None
    if entries is not None:
        verify_files(source, entries)
    scripts = chain(read_scripts(source), source)
    if conflicted:
        raise HistoryError(
            source.where(SUM_FILE),
            "",
            "holds git conflict markers: resolve the merge with `schemarel generate --rebase`",
        )
    snapshots = {name[:-5] for name in source.listdir(SNAPSHOTS) if name.endswith(".json")}
    revisions: list[Revision] = []
    model: dict[str, Any] | None = None
    for script in scripts:
        if script.id not in snapshots:
            revisions.append(Revision(script.id, script.down_revision, script.message, script.path))
            continue
        base = next((r.id for r in reversed(revisions) if r.generated), None)
        rev = decode_snapshot(source, script, model, base)
        model = {"database": rev.database, "pointers": rev.pointers}
        revisions.append(rev)
    known = {r.id for r in revisions}
    for stem in sorted(snapshots - known):
        raise HistoryError(source.where(_script_of(source, stem)), "", f"file of revision {stem} is missing")
    for rev in revisions:
        for rel in rev.files:
            if source.read(rel) is None:
                raise HistoryError(source.where(rel), "", f"file of revision {rev.id} is missing")
    history = History(revisions, source)
    if entries is not None:
        verify_order(history, entries)
    return history


def _script_of(source: Source, rev_id: str) -> str:
    """The script a snapshot's revision was written to (its snapshot names the slug)."""
    try:
        return f"{VERSIONS}/{rev_id}_{json.loads(source.read(f'{SNAPSHOTS}/{rev_id}.json') or b'')['slug']}.py"
    except (ValueError, KeyError, TypeError):
        return f"{SNAPSHOTS}/{rev_id}.json"


def decode_snapshot(source: Source, script: Script, before: dict[str, Any] | None, base: str | None) -> Revision:
    """A revision from its snapshot file; a delta applies to `before`, the model of generated revision `base`."""
    rel = f"{SNAPSHOTS}/{script.id}.json"
    raw = (source.read(rel) or b"").decode("utf-8", "replace")
    if _CONFLICT.search(raw):
        raise HistoryError(
            source.where(rel), "", "holds git conflict markers: two branches each generated this revision; "
            "run `schemarel generate --rebase` while the merge is in progress"
        )  # fmt: skip
    try:
        data = json.loads(raw)
        if "patch" in data:
            if before is None or data["after"] != base:
                raise ValueError(f"a delta from {data['after']!r}, but the previous generated revision is {base!r}")
            model = jsonpatch.apply_patch(before, data["patch"])
        else:
            model = {"database": data["database"], "pointers": data.get("pointers", {})}
        rev = Revision(
            data["revision"], data["down_revision"], data["message"], script.path, data["slug"],
            model["database"], model["pointers"],
        )  # fmt: skip
    except (ValueError, KeyError, TypeError, jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
        raise HistoryError(source.where(rel), "", f"unreadable migration snapshot: {exc}") from None
    if (rev.id, rev.down_revision) != (script.id, script.down_revision):
        raise HistoryError(
            source.where(rel), "", f"snapshot {rev.id} follows {rev.down_revision!r}, expected {script.down_revision!r}"
        )
    return rev


def encode_snapshot(rev: Revision, base: Revision | None) -> bytes:
    """The snapshot file: the whole model for the first revision, else a JSON Patch from `base`'s, one op a line."""
    head = {"revision": rev.id, "down_revision": rev.down_revision, "message": rev.message, "slug": rev.slug}
    if base is None:
        body = {**head, "database": rev.database, "pointers": rev.pointers}
        # simplejson's encoder indents in C (the stdlib's falls back to Python with `indent`); the same text
        return (simplejson.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    patch = jsonpatch.make_patch(
        {"database": base.database, "pointers": base.pointers}, {"database": rev.database, "pointers": rev.pointers}
    ).patch
    lines = [
        f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)},"
        for k, v in sorted({**head, "after": base.id}.items())
    ]
    ops = [f"    {json.dumps(op, sort_keys=True, ensure_ascii=False)}" for op in patch]
    return ("{\n" + "\n".join(lines) + '\n  "patch": [\n' + ",\n".join(ops) + "\n  ]\n}\n").encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def render_sum(revisions: Iterable[Revision], files: Mapping[str, bytes]) -> bytes:
    """history.sum: `<id> <file> <sha256>` per generated file, `<id> <script> manual` per hand-written one."""
    lines = [SUM_HEADER]
    for rev in revisions:
        for rel in rev.files:
            lines.append(f"{rev.id} {rel} {sha256(files[rel]) if rev.generated else 'manual'}\n")
    return "".join(lines).encode()


def parse_sum(source: Source, recorded: bytes) -> list[tuple[str, str, str]]:
    """history.sum's entries: (revision, file, sha256 or `manual`)."""
    entries = []
    for number, line in enumerate(recorded.decode("utf-8", "replace").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            parts = line.split()
            if len(parts) != 3:
                raise HistoryError(
                    source.where(SUM_FILE), "", f"line {number} is not `<revision> <file> <sha256|manual>`"
                )
            entries.append((parts[0], parts[1], parts[2]))
    return entries


def verify_files(source: Source, entries: list[tuple[str, str, str]]) -> None:
    """Every recorded file still there and, for a generated revision, unchanged."""
    for rev_id, rel, digest in entries:
        data = source.read(rel)
        if data is None:
            what = (
                f"hand-written revision {rev_id} was removed"
                if digest == "manual"
                else f"file of revision {rev_id} is missing"
            )
            raise HistoryError(source.where(rel), "", f"{what} (history.sum records it); restore it from git")
        if digest != "manual" and sha256(data) != digest:
            raise HistoryError(
                source.where(rel), "", f"revision {rev_id} was edited after it was generated: a committed revision "
                "is history; restore it (`git checkout -- FILE`) and let the next revision make the change"
            )  # fmt: skip


def verify_order(history: History, entries: list[tuple[str, str, str]]) -> None:
    """The chain of the scripts is the recorded one, and every generated revision is recorded."""
    source = history.source
    recorded_order = list(dict.fromkeys(rev_id for rev_id, _, _ in entries))
    actual_order = [r.id for r in history.revisions if r.id in set(recorded_order)]
    if actual_order != recorded_order:
        moved = next((r for r, a in zip(recorded_order, actual_order, strict=False) if r != a), None)
        moved = moved or next(r for r in recorded_order if r not in actual_order)
        script = next((rel for rev_id, rel, _ in entries if rev_id == moved and rel.startswith(VERSIONS)), SUM_FILE)
        raise HistoryError(
            source.where(script), "", f"revision {moved} was reordered: history.sum records the chain "
            f"{' → '.join(recorded_order)}, the scripts say {' → '.join(actual_order)}"
        )  # fmt: skip
    recorded_files = {rel for _, rel, _ in entries}
    for rev in history.revisions:
        if rev.generated and rev.script not in recorded_files:
            raise HistoryError(
                source.where(rev.script), "", f"generated revision {rev.id} is not recorded in history.sum: "
                "was it copied in by hand?"
            )  # fmt: skip
