"""`schemarel generate --watch`: a real process that regenerates on each schema save and survives a bad one."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import committed_revisions, revision_after


class _Lines:
    """The process's merged output, read on a thread so that waiting for a line can time out."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            for line in proc.stdout or []:
                self._queue.put(line)

        threading.Thread(target=pump, daemon=True).start()

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.seen):
            try:
                self.seen.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                pytest.fail(f"no {text!r} within {timeout}s; output so far:\n{''.join(self.seen)}")

    def mark(self) -> None:
        self.seen.clear()


def _save(path: Path, text: str) -> None:
    path.write_text(text)
    later = time.time() + 1  # a distinct mtime even on filesystems with coarse timestamps
    os.utime(path, (later, later))


def test_watch_regenerates_on_save_and_reports_errors(project: Path) -> None:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "schemarel", "generate", "--watch", "--interval", "0.1"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = _Lines(proc)
        lines.wait_for("watching schemas/ for changes")
        assert any("generated is up to date" in line for line in lines.seen)

        lines.mark()
        next_revision = revision_after(committed_revisions()[-1])  # after the head, hand-written or generated
        path = project / "schemas/profile.schema.json"
        schema = json.loads(path.read_text())
        schema["properties"]["nickname"] = {"type": "string", "description": "Shown name."}
        _save(path, json.dumps(schema, indent=2))
        lines.wait_for("watching schemas/")
        output = "".join(lines.seen)
        assert "change detected, regenerating" in output
        assert f"new revision {next_revision}" in output
        assert "updated  generated/models/profile.py" in output
        assert "nickname" in (project / "generated/models/profile.py").read_text()

        lines.mark()
        _save(path, '{"title": ')
        lines.wait_for("error: schemas/profile.schema.json: invalid JSON")
        lines.wait_for("watching schemas/")  # still running

        lines.mark()
        schema["properties"]["nickname"]["description"] = "The name others see."
        _save(path, json.dumps(schema, indent=2))
        lines.wait_for("watching schemas/")
        assert "updated  generated/docs/profile.md" in "".join(lines.seen)
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=30)
