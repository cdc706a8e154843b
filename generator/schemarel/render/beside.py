"""The new Python laid out by ruff and checked by pycheck while the docs render: in a forked child on Linux.

Laying out and checking a big schema's modules costs as much as rendering its docs, and neither needs the
other: a child process forked before the docs render does the first while the parent does the second, on the
other CPU. The child hands back the laid-out files, or the error the layout or the check raised (the same
error, raised in the parent where it would have been raised inline). Where a fork is unsafe or unavailable
(not Linux, or other threads running, which a fork would leave behind holding their locks) the same work runs
in this process, ruff's processes still beside the docs.
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

from schemarel.render import pycheck
from schemarel.render.pyformat import start_formatting


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

    def work(pending: Callable[[], dict[str, bytes]]) -> dict[str, bytes]:
        formatted = pending()
        pycheck.verify({p: formatted.get(p, c) for p, c in python.items()}, origins, default_origin, model_shape)
        return formatted

    if fork is None:
        fork = sys.platform == "linux" and hasattr(os, "fork") and threading.active_count() == 1
    if not fork:
        pending = start_formatting(python, todo, out_dir)  # ruff's processes run while the docs render
        return Beside(lambda: work(pending), lambda: None)
    return _in_child(lambda: work(start_formatting(python, todo, out_dir)))


def _in_child(work: Callable[[], dict[str, bytes]]) -> Beside:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: do the work, send what came of it, and leave without running the parent's exits
        try:
            os.close(read)
            with os.fdopen(write, "wb") as out:
                out.write(_outcome(work))
        finally:
            os._exit(0)
    os.close(write)
    state = {"done": False}

    def result() -> dict[str, bytes]:
        with os.fdopen(read, "rb") as incoming:
            data = incoming.read()
        os.waitpid(pid, 0)
        state["done"] = True
        kind, value = pickle.loads(data) if data else ("failed", "the child process ended without an answer")
        if kind == "ok" and isinstance(value, dict):
            return value
        if kind == "raised" and isinstance(value, BaseException):
            raise value
        raise RuntimeError(f"laying out or checking the generated Python failed:\n{value}")

    def cancel() -> None:
        if not state["done"]:
            state["done"] = True
            os.close(read)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)

    return Beside(result, cancel, pid)


def _outcome(work: Callable[[], dict[str, bytes]]) -> bytes:
    """What came of `work`, pickled: ("ok", files), ("raised", the exception), or ("failed", its traceback)
    when the exception cannot travel."""
    try:
        return pickle.dumps(("ok", work()))
    except Exception as exc:  # re-raised in the parent, as if raised there
        try:
            data = pickle.dumps(("raised", exc))
            pickle.loads(data)  # an exception whose class cannot be rebuilt from its pickle is sent as text
            return data
        except Exception:
            return pickle.dumps(("failed", "".join(traceback.format_exception(exc))))
