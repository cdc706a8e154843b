"""`schemarel check` reports for machines: GitHub Actions annotations and JSON.

One annotation per stale file (on its first changed line) and one per schema whose tables changed without a
revision; the unified diffs follow in a collapsed log group. JSON carries the same facts plus the diffs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemarel.errors import SchemaError, SchemarelError
from schemarel.ir import Database, snapshot
from schemarel.render.output import Drift

_HUNK = re.compile(r"^@@ -(\d+)")


@dataclass(frozen=True)
class CheckResult:
    out_dir: Path
    problems: list[Drift]
    unrevised_schemas: list[str]  # schema files whose tables changed with no revision written

    @property
    def stale(self) -> bool:
        return bool(self.problems or self.unrevised_schemas)


def unrevised_schemas(db: Database, previous: dict[str, Any] | None) -> list[str]:
    """The schema files whose relational model differs from the last revision's snapshot."""
    before = {s["name"]: s for s in (previous or {"schemas": []})["schemas"]}
    changed = [s.path for s in db.schemas if before.get(s.name) != snapshot(s)]
    current = {s.name for s in db.schemas}
    return changed + sorted(f"(removed schema {name})" for name in before if name not in current)


def first_changed_line(diff: str) -> int:
    """The line of the on-disk file where a unified diff's first change is (1 when unknown)."""
    line = None
    for text in diff.splitlines():
        hunk = _HUNK.match(text)
        if hunk and line is None:
            line = int(hunk.group(1))
        elif line is not None and text.startswith(" "):
            line += 1
        elif line is not None and text[:1] in "+-":
            return max(line, 1)
    return max(line or 1, 1)


def github(result: CheckResult) -> str:
    lines = []
    for schema in result.unrevised_schemas:
        lines.append(
            _annotation(
                "error",
                {"file": schema, "title": "missing migration revision"},
                f"{schema}: the tables changed but no revision was generated; run `schemarel generate` and commit",
            )
        )
    for problem in result.problems:
        path = (result.out_dir / problem.path).as_posix()
        props = {"file": path, "title": "stale generated file"}
        if problem.kind == "changed":
            props["line"] = str(first_changed_line(problem.diff))
        what = {
            "changed": "differs from what the schemas produce",
            "missing": "is missing (the schemas produce it)",
            "extra": "should not be there (the schemas do not produce it)",
            "symlink": "is a symbolic link (not read: schemarel writes only regular files)",
            "special": "is not a regular file (not read)",
        }[problem.kind]
        lines.append(_annotation("error", props, f"{path} {what}; run `schemarel generate` and commit"))
    diffs = [p.diff for p in result.problems if p.diff]
    if diffs:
        lines += ["::group::schemarel check: diffs", *"".join(diffs).splitlines(), "::endgroup::"]
    if not result.stale:
        lines.append(f"{result.out_dir} is up to date")
    return "\n".join(lines) + "\n"


def as_json(result: CheckResult) -> str:
    report = {
        "status": "stale" if result.stale else "current",
        "out_dir": result.out_dir.as_posix(),
        "missing_revision": result.unrevised_schemas,
        "files": [
            {
                "path": (result.out_dir / p.path).as_posix(),
                "kind": p.kind,
                **({"line": first_changed_line(p.diff), "diff": p.diff} if p.kind == "changed" else {}),
            }
            for p in result.problems
        ],
    }
    return json.dumps(report, indent=2) + "\n"


def error(fmt: str, exc: SchemarelError) -> str:
    """A usage or schema error in the report format (the run exits 2 after it)."""
    where = {"file": exc.file, "pointer": exc.pointer} if isinstance(exc, SchemaError) else {}
    if fmt == "json":
        return json.dumps({"status": "error", "error": {"message": str(exc), **where}}, indent=2) + "\n"
    props = {"file": where["file"]} if where.get("file") else {}
    return _annotation("error", {**props, "title": "schemarel"}, str(exc)) + "\n"


def _annotation(level: str, props: dict[str, str], message: str) -> str:
    """A workflow command; GitHub wants `%`, CR, LF (and in properties `:` and `,`) percent-encoded."""

    def data(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def prop(text: str) -> str:
        return data(text).replace(":", "%3A").replace(",", "%2C")

    rendered = ",".join(f"{k}={prop(v)}" for k, v in props.items())
    return f"::{level} {rendered}::{data(message)}"
