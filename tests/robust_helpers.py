"""`schemarel` run as users run it, a subprocess, under a time limit and an address-space limit (RLIMIT_AS), and the
verdict every hostile schema must get: exit 0, or exit 2 with one message naming the file and a JSON pointer,
no traceback, and nothing written."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MEMORY_LIMIT = 768 << 20  # bytes of address space: a normal generate needs under 400 MiB
TIME_LIMIT = 120  # seconds: a hang guard, far above any real run (refusals take seconds)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def schemarel(root: Path, *args: str, env: dict[str, str] | None = None, timeout: int = TIME_LIMIT) -> Run:
    """`python -m schemarel ARGS` in `root`, with the memory limit; a timeout fails the calling test."""

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    result = subprocess.run(
        [sys.executable, "-m", "schemarel", *args],
        cwd=root,
        capture_output=True,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        timeout=timeout,
        preexec_fn=limit_memory,
        check=False,
    )

    def decode(b: bytes) -> str:
        return b.decode("utf-8", "backslashreplace")

    return Run(result.returncode, decode(result.stdout), decode(result.stderr))


def project(root: Path, schema: Any, name: bytes | str = "doc") -> Path:
    """`root/schemas/<name>.schema.json` holding `schema` (a dict is dumped, a str written as it is)."""
    (root / "schemas").mkdir(parents=True, exist_ok=True)
    text = schema if isinstance(schema, str) else json.dumps(schema, ensure_ascii=False)
    stem = name if isinstance(name, bytes) else name.encode()
    path = os.fsencode(root / "schemas") + b"/" + stem + b".schema.json"
    with open(path, "wb") as f:
        f.write(text.encode("utf-8", "surrogatepass"))
    return root


def assert_clean(run: Run, root: Path, file: str = "schemas/doc.schema.json", pointer: bool = True) -> bool:
    """Exit 0, or exit 2 with one located message and no `generated/`; True when it generated."""
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    if run.returncode == 0:
        return True
    assert run.returncode == 2, (run.returncode, run.stderr[-3000:])
    assert run.stderr.startswith(f"error: {file}{'#' if pointer else ''}"), run.stderr[-3000:]
    assert run.stderr.count("error: ") == 1, run.stderr[-3000:]
    assert not (root / "generated").exists(), "a refused generate writes nothing"
    return False


def upgrade(root: Path, url: str) -> Run:
    return schemarel(root, "upgrade", "--db", url)
