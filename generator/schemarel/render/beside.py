"""The new Python laid out by ruff and checked by pycheck while the docs render: in a forked child on Linux.

Laying out and checking a big schema's modules costs more than rendering its docs, and neither needs the
other: a child process forked before the docs render lays the modules out (largest first) and sends each as
ruff finishes it, with a ticket on a pipe both processes take from; whoever takes a ticket checks that module,
so the child checks while the parent renders the docs and the parent joins in when they are done. What went
wrong is raised in the parent as it would be inline: ruff's first failure in the files' order, else the
check's first. Where a fork is unsafe or unavailable (not Linux, or other threads running, which a fork would
leave behind holding their locks) the same work runs in this process, ruff's processes still beside the docs.
"""

from __future__ import annotations

import os
import pickle
import queue
import select
import signal
import struct
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from schemarel.render import pycheck
from schemarel.render.pyformat import lay_out_each, start_formatting

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
    return _shared(python, todo, out_dir, check, checked)


def _shared(
    python: Mapping[str, bytes],
    todo: list[str],
    out_dir: Path,
    check: Callable[[Iterable[str], Mapping[str, bytes]], Failures],
    checked: Callable[[dict[str, bytes], Failures], dict[str, bytes]],
) -> Beside:
    """Fork a child that lays the modules out and sends each as ruff finishes it, with a ticket (its index)
    on a pipe both processes take from: whoever takes a ticket checks that module, so the child checks while
    the parent renders the docs and the parent joins in when they are done, neither checking a module twice."""
    paths = list(python)
    tickets_read, tickets_write = os.pipe()
    os.set_blocking(tickets_read, False)  # shared by both processes: a taken ticket is gone for the other
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: do the work, send what came of it, and leave without running the parent's exits
        try:
            os.close(read)
            _child(python, paths, todo, out_dir, check, tickets_read, tickets_write, write)
        finally:
            os._exit(0)
    os.close(write)
    os.close(tickets_write)
    state = {"done": False}

    def close() -> None:
        os.close(read)
        os.close(tickets_read)

    def result() -> dict[str, bytes]:
        state["done"] = True
        laid_out: dict[str, bytes] = {}
        ruff_failed: Failures = {}
        failed: Failures = {}
        ended = False
        waiting = set(todo)  # laid out by the child, not yet received

        def receive() -> None:
            nonlocal ended
            kind, path, found = _receive(read)
            if kind == "laid":
                laid_out[path] = found
                waiting.discard(path)
            elif kind == "ruff":
                ruff_failed[path] = found
                waiting.discard(path)
            elif kind == "checked":
                failed.update(found)
            else:
                ended = True

        try:
            while True:
                ticket = _take(tickets_read)
                if ticket is not None:
                    path = paths[ticket]
                    while path in waiting:
                        receive()
                    failed.update(check([path], laid_out))
                elif ended:
                    break
                else:  # a message, or a ticket the child has not taken yet
                    ready, _, _ = select.select([read, tickets_read], [], [])
                    if read in ready:
                        receive()
        finally:
            close()
            os.waitpid(pid, 0)
        for path in todo:  # ruff's first failure in the files' order, else the check's first
            if path in ruff_failed:
                raise ruff_failed[path]
        return checked(laid_out, failed)

    def cancel() -> None:
        if not state["done"]:
            state["done"] = True
            close()
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)

    return Beside(result, cancel, pid)


def _child(
    python: Mapping[str, bytes],
    paths: list[str],
    todo: list[str],
    out_dir: Path,
    check: Callable[[Iterable[str], Mapping[str, bytes]], Failures],
    tickets_read: int,
    tickets_write: int,
    write: int,
) -> None:
    """Lay out `todo`, sending each module then writing its ticket (the others' tickets first: nothing to lay
    out), and check the modules of the tickets taken until every ticket is written and none is left."""
    # the checks hold the GIL for long; ruff's threads need it for a moment per chunk of output they read
    sys.setswitchinterval(0.0005)
    outgoing: queue.SimpleQueue[tuple[str, str, Any] | None] = queue.SimpleQueue()
    sender = threading.Thread(target=_send_all, args=(outgoing, write))  # a full pipe never holds the checks up
    sender.start()
    try:
        laid_out: dict[str, bytes] = {}
        index = {path: i for i, path in enumerate(paths)}
        finished = threading.Event()
        for path in paths:
            if path not in todo:
                os.write(tickets_write, _TICKET.pack(index[path]))

        def done(path: str, found: bytes | Exception) -> None:
            if isinstance(found, Exception):
                outgoing.put(("ruff", path, _travelling(found)))
                return
            laid_out[path] = found
            outgoing.put(("laid", path, found))  # before its ticket: the parent reads it before checking it
            os.write(tickets_write, _TICKET.pack(index[path]))

        wait = lay_out_each(python, todo, out_dir, done)

        def waiting() -> None:
            wait()
            finished.set()

        threading.Thread(target=waiting).start()
        while True:
            was_finished = finished.is_set()  # read before the take: then no ticket can follow an empty take
            ticket = _take(tickets_read)
            if ticket is not None:
                failed = check([paths[ticket]], laid_out)
                outgoing.put(("checked", "", {path: _travelling(exc) for path, exc in failed.items()}))
            elif was_finished:
                break
            else:
                select.select([tickets_read], [], [], 0.01)
        outgoing.put(("end", "", None))
    except BaseException:
        outgoing.put(("crashed", "", traceback.format_exc()))
    finally:
        outgoing.put(None)
        sender.join()


_TICKET = struct.Struct("=I")  # a module's index: written and read whole (a pipe moves up to PIPE_BUF at once)
_LENGTH = struct.Struct("=Q")
_FAILED = "laying out or checking the generated Python failed: "


def _take(tickets: int) -> int | None:
    """A ticket from the (non-blocking) pipe, or None when there is none now."""
    try:
        data = os.read(tickets, _TICKET.size)
    except BlockingIOError:
        return None
    if not data:
        return None
    (ticket,) = _TICKET.unpack(data)
    return int(ticket)


def _send_all(outgoing: queue.SimpleQueue[tuple[str, str, Any] | None], write: int) -> None:
    with os.fdopen(write, "wb") as out:
        while (message := outgoing.get()) is not None:
            data = pickle.dumps(message)
            out.write(_LENGTH.pack(len(data)) + data)
            out.flush()


def _receive(read: int) -> tuple[str, str, Any]:
    """One message of the child's, read exactly (no read ahead: `select` then tells the next one is there)."""
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
    """`exc`, or a RuntimeError with its traceback when its class cannot be rebuilt from a pickle."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError("".join(traceback.format_exception(exc)))
    return exc
