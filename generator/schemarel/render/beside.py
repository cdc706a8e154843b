"""The new Python laid out by ruff and checked by pycheck while the docs render: in a forked child on Linux.

Laying out and checking a big schema's modules costs more than rendering its docs, and neither needs the
other: a child process forked before the docs render lays every module out and checks the largest while the
parent renders the docs, then the parent checks the others with the laid-out text the child sent. What went
wrong is raised in the parent as it would be inline: ruff's first failure in the files' order, else the
check's first. Where a fork is unsafe or unavailable (not Linux, or other threads running, which a fork would
leave behind holding their locks) the same work runs in this process, ruff's processes still beside the docs.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from schemarel.render import pycheck
from schemarel.render.pyformat import start_formatting

Failures = dict[str, BaseException]  # path → what checking it raised


class Beside:
    """The laid-out files on `result()`, after the check passed; `cancel()` when they are no longer wanted."""

    def __init__(
        self, result: Callable[[], dict[str, bytes]], cancel: Callable[[], None], pid: int | None = None
    ) -> None:
        self.result = result
        self.cancel = cancel
        self.pid = pid  # the child's, when forked


def start(
    python: Mapping[str, bytes],
    fresh: Iterable[str],
    out_dir: Path,
    origins: Mapping[str, str],
    default_origin: str,
    model_shape: bool,
    fork: bool | None = None,
) -> Beside:
    """Lay out `fresh` (paths of `python`) as `pyformat.format_sources` does, then check every module of
    `python` as `pycheck.verify` does, the laid-out ones as laid out. `fork`: None forks where it is safe."""
    todo = list(fresh)
    modules = pycheck.model_modules(python)

    def check(paths: Iterable[str], laid_out: Mapping[str, bytes]) -> Failures:
        failed: Failures = {}
        for path in paths:
            try:
                pycheck.verify_module(
                    path, laid_out.get(path, python[path]), modules, origins, default_origin, model_shape
                )
            except Exception as exc:  # raised below if it is the first in the files' order
                failed[path] = exc
        return failed

    def checked(laid_out: dict[str, bytes], failed: Failures) -> dict[str, bytes]:
        for path in python:
            if path in failed:
                raise failed[path]
        return laid_out

    if fork is None:
        fork = sys.platform == "linux" and hasattr(os, "fork") and threading.active_count() == 1
    if not fork:
        pending = start_formatting(python, todo, out_dir)  # ruff's processes run while the docs render

        def inline() -> dict[str, bytes]:
            laid_out = pending()
            return checked(laid_out, check(python, laid_out))

        return Beside(inline, lambda: None)
    largest = sorted(python, key=lambda path: -len(python[path]))[:1]  # the child's share of the check
    rest = [path for path in python if path not in largest]
    return _in_child(
        lambda: start_formatting(python, todo, out_dir)(),
        lambda laid_out: check(largest, laid_out),
        lambda laid_out: check(rest, laid_out),
        checked,
    )


def _in_child(
    lay_out: Callable[[], dict[str, bytes]],
    check_theirs: Callable[[dict[str, bytes]], Failures],
    check_ours: Callable[[dict[str, bytes]], Failures],
    checked: Callable[[dict[str, bytes], Failures], dict[str, bytes]],
) -> Beside:
    """Fork a child that lays out and sends the files, then checks its share and sends what failed; the
    parent's `result()` checks the rest meanwhile, then gives `checked` of both shares' failures."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: do the work, send what came of it, and leave without running the parent's exits
        try:
            os.close(read)
            with os.fdopen(write, "wb") as out:
                try:
                    laid_out = lay_out()
                except Exception as exc:
                    out.write(pickle.dumps(("raised", _travelling(exc))))
                else:
                    out.write(pickle.dumps(("ok", laid_out)))
                    out.flush()  # the parent checks its share meanwhile
                    failed = {path: _travelling(exc) for path, exc in check_theirs(laid_out).items()}
                    out.write(pickle.dumps(("checked", failed)))
        finally:
            os._exit(0)
    os.close(write)
    state = {"done": False}

    def result() -> dict[str, bytes]:
        state["done"] = True
        ours: Failures = {}
        with os.fdopen(read, "rb") as incoming:
            first = _load(incoming)
            if first[0] == "ok":
                ours = check_ours(first[1])  # while the child checks its share
            second = _load(incoming) if first[0] == "ok" else first
        os.waitpid(pid, 0)
        if first[0] == "raised":
            raise first[1]
        if second[0] == "checked":
            return checked(first[1], {**ours, **second[1]})
        raise RuntimeError(f"laying out or checking the generated Python failed:\n{second[1]}")

    def cancel() -> None:
        if not state["done"]:
            state["done"] = True
            os.close(read)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)

    return Beside(result, cancel, pid)


def _load(incoming: IO[bytes]) -> tuple[str, Any]:
    try:
        found: tuple[str, Any] = pickle.load(incoming)
    except EOFError:
        return ("failed", "the child process ended without an answer")
    return found


def _travelling(exc: BaseException) -> BaseException:
    """`exc`, or a RuntimeError with its traceback when its class cannot be rebuilt from a pickle."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError("".join(traceback.format_exception(exc)))
    return exc
