"""Python modules rendered, laid out by ruff and checked by pycheck beside other work: in a forked child on Linux.

A big schema's modules cost more to render, lay out and check than its migration and docs cost to write, and
neither needs the other. `start` forks a child that renders a group of modules, starts ruff on them (largest
first, each sent back as ruff finishes it) and checks them meanwhile, while this process goes on; `finish`
collects what every group started came to. The check reads each module as rendered, not as laid out: ruff
changes only layout (whitespace, brackets, quotes, the order of imports), never a name, a call or a kind of
statement, and it refuses what does not parse, so the check need not wait for it. What went wrong is raised
by `finish` alike in both ways: a group's failure to render first, else the check's first failure in the
groups' and files' order, else ruff's first. Where a fork is unsafe or unavailable (not Linux, or other
threads running, which a fork would leave behind holding their locks) the same work runs in this process,
ruff's processes beside whatever the caller does until `finish`.
"""

from __future__ import annotations

import os
import pickle
import queue
import signal
import struct
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemarel.errors import SchemarelError
from schemarel.render import pycheck
from schemarel.render.pyformat import lay_out_each

Failures = dict[str, BaseException]  # path → what checking or laying it out raised
Render = Callable[[], dict[str, bytes]]  # a group's modules: generated path → source


@dataclass
class Outcome:
    """What one group came to: its modules laid out, or what went wrong."""

    laid_out: dict[str, bytes] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # the group's modules in the files' order
    failed: Failures = field(default_factory=dict)  # by the check
    ruff_failed: Failures = field(default_factory=dict)
    unrendered: BaseException | None = None  # what rendering the group raised

    def collect(self, path: str, laid_out: bytes | Exception) -> None:
        """What ruff gave for `path`: the laid-out module, or what it raised."""
        if isinstance(laid_out, Exception):
            self.ruff_failed[path] = laid_out
        else:
            self.laid_out[path] = laid_out


class Beside:
    """A group of modules under way: `outcome()` waits for it, `cancel()` when it is no longer wanted."""

    def __init__(self, outcome: Callable[[], Outcome], cancel: Callable[[], None], pid: int | None = None) -> None:
        self.outcome = outcome
        self.cancel = cancel
        self.pid = pid  # the child's, when forked


def start(
    render: Render,
    out_dir: Path,
    origins: Mapping[str, str],
    default_origin: str,
    model_shape: bool,
    fork: bool | None = None,
) -> Beside:
    """Render a group of modules, lay each out as `pyformat.format_source` does and check each as
    `pycheck.verify` does (`origins`: the schema file of a path, else `default_origin`). `fork`: None forks
    where it is safe; without a fork the modules are rendered now and ruff's processes started."""
    if fork is None:
        fork = sys.platform == "linux" and hasattr(os, "fork") and threading.active_count() == 1

    def check(python: Mapping[str, bytes]) -> Failures:
        modules = pycheck.model_modules(python)
        failed: Failures = {}
        for path in sorted(python, key=lambda path: -len(python[path])):  # the largest first, while ruff starts
            try:
                pycheck.verify_module(path, python[path], modules, origins, default_origin, model_shape)
            except Exception as exc:  # raised by `finish` if it is the first in the files' order
                failed[path] = exc
        return failed

    if fork:
        return _forked(render, out_dir, check)
    try:
        python = render()
    except Exception as exc:  # raised by `finish`, as a child's would be
        unrendered = Outcome(unrendered=exc)
        return Beside(lambda: unrendered, lambda: None)
    found = Outcome(order=list(python))

    def done(path: str, laid_out: bytes | Exception) -> None:  # from ruff's threads, one call per module
        found.collect(path, laid_out)

    wait = lay_out_each(python, list(python), out_dir, done)  # ruff's processes run while the caller goes on

    def inline() -> Outcome:
        found.failed = check(python)
        wait()
        return found

    return Beside(inline, lambda: None)


def finish(*started: Beside) -> dict[str, bytes]:
    """Every group's laid-out modules, once all are done; else the first failure (see the module's doc)."""
    try:
        outcomes = [group.outcome() for group in started]
    finally:
        for group in started:
            group.cancel()  # a group left waiting when another's outcome raised
    for outcome in outcomes:
        if outcome.unrendered is not None:
            raise outcome.unrendered
    for failures in ("failed", "ruff_failed"):
        for outcome in outcomes:
            found: Failures = getattr(outcome, failures)
            for path in outcome.order:
                if path in found:
                    raise found[path]
    return {path: text for outcome in outcomes for path, text in outcome.laid_out.items()}


def _forked(render: Render, out_dir: Path, check: Callable[[Mapping[str, bytes]], Failures]) -> Beside:
    """Fork a child that renders the group, starts ruff on it, checks it meanwhile and sends what came of it."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: do the work, send what came of it, and leave without running the parent's exits
        try:
            os.close(read)
            _child(render, out_dir, check, write)
        finally:
            os._exit(0)
    os.close(write)
    state = {"done": False}

    def outcome() -> Outcome:
        state["done"] = True
        found = Outcome()
        try:
            while (message := _receive(read))[0] != "end":
                kind, path, value = message
                if kind in ("laid", "ruff"):
                    found.collect(path, value)
                elif kind == "order":
                    found.order = value
                elif kind == "checked":
                    found.failed.update(value)
                else:
                    found.unrendered = value
        finally:
            os.close(read)
            os.waitpid(pid, 0)
        return found

    def cancel() -> None:
        if not state["done"]:
            state["done"] = True
            os.close(read)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)

    return Beside(outcome, cancel, pid)


def _child(render: Render, out_dir: Path, check: Callable[[Mapping[str, bytes]], Failures], write: int) -> None:
    """Render the group, start ruff on it (each module sent as it is laid out), check it, and end when ruff
    has laid out the last module."""
    # the checks hold the GIL for long; ruff's threads need it for a moment per chunk of output they read
    sys.setswitchinterval(0.0005)
    outgoing: queue.SimpleQueue[tuple[str, str, Any] | None] = queue.SimpleQueue()
    sender = threading.Thread(target=_send_all, args=(outgoing, write))  # a full pipe never holds the checks up
    sender.start()
    try:
        try:
            python = render()
        except Exception as exc:
            outgoing.put(("unrendered", "", _travelling(exc)))
        else:
            outgoing.put(("order", "", list(python)))

            def done(path: str, laid_out: bytes | Exception) -> None:
                if isinstance(laid_out, Exception):
                    outgoing.put(("ruff", path, _travelling(laid_out)))
                else:
                    outgoing.put(("laid", path, laid_out))

            wait = lay_out_each(python, list(python), out_dir, done)
            failed = check(python)
            outgoing.put(("checked", "", {path: _travelling(exc) for path, exc in failed.items()}))
            wait()
        outgoing.put(("end", "", None))
    except BaseException:
        outgoing.put(("crashed", "", traceback.format_exc()))
    finally:
        outgoing.put(None)
        sender.join()


_LENGTH = struct.Struct("=Q")
_FAILED = "rendering, laying out or checking the generated Python failed: "


def _send_all(outgoing: queue.SimpleQueue[tuple[str, str, Any] | None], write: int) -> None:
    with os.fdopen(write, "wb") as out:
        while (message := outgoing.get()) is not None:
            data = pickle.dumps(message)
            out.write(_LENGTH.pack(len(data)) + data)
            out.flush()


def _receive(read: int) -> tuple[str, str, Any]:
    """One message of the child's, read exactly."""
    (length,) = _LENGTH.unpack(_read_exactly(read, _LENGTH.size))
    kind, path, found = pickle.loads(_read_exactly(read, length))
    if kind == "crashed":
        raise RuntimeError(f"{_FAILED.rstrip()}\n{found}")
    return kind, path, found


def _read_exactly(read: int, size: int) -> bytes:
    chunks: list[bytes] = []
    while size:
        chunk = os.read(read, min(size, 1 << 20))
        if not chunk:
            raise RuntimeError(f"{_FAILED}the child process ended without an answer")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _travelling(exc: BaseException) -> BaseException:
    """`exc` when it is an error schemarel tells users (a SchemarelError a pickle rebuilds), else a RuntimeError
    holding its traceback: a bug, whose frames in the child are what a report needs (a pickle keeps none)."""
    if isinstance(exc, SchemarelError):
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:
            pass
        else:
            return exc
    return RuntimeError(f"{_FAILED}in the child process\n{''.join(traceback.format_exception(exc))}")
