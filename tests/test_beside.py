"""Rendering, laying out and checking Python modules beside other work (`render.beside`): the forked child gives
what the same work gives in this process, its errors are raised in the parent as they would be inline, and a
cancelled child is gone."""

from __future__ import annotations

import functools
import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemarel.errors import HistoryError, SchemaError, SchemarelError
from schemarel.render import beside
from schemarel.render.pyformat import format_source

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="the child is forked on Linux only")
MODELS = (REPO / "generated" / "models" / "customer.py").read_bytes()
BASE = (REPO / "generated" / "models" / "base.py").read_bytes()
MESSY = b'from __future__ import annotations\nimport uuid\nimport datetime\nX: "uuid.UUID|None" = None\nY=( 1,2 )\n'


def run(python: dict[str, bytes], fork: bool, tmp_path: Path) -> dict[str, bytes]:
    return beside.finish(beside.start(lambda: python, tmp_path / "generated", {}, "schemas", True, fork=fork))


@linux_only
def test_the_child_lays_out_what_this_process_lays_out(tmp_path: Path) -> None:
    python = {"models/base.py": BASE, "models/customer.py": MODELS, "documents/x.py": MESSY}
    laid_out = run(python, True, tmp_path)
    assert laid_out == run(python, False, tmp_path)
    out = tmp_path / "generated"
    assert laid_out == {path: format_source(text.decode(), out / path).encode() for path, text in python.items()}
    assert laid_out["documents/x.py"] != MESSY  # ruff did lay it out


@linux_only
@pytest.mark.parametrize("fork", [True, False])
def test_a_refused_module_raises_the_same_schema_error_either_way(tmp_path: Path, fork: bool) -> None:
    refused = {"models/base.py": BASE, "models/customer.py": MODELS, "documents/x.py": b"import os\nos.system(1)\n"}
    with pytest.raises(SchemaError) as raised:
        run(refused, fork, tmp_path)
    assert raised.type is SchemaError
    assert "documents/x.py" in str(raised.value) and "'os'" in str(raised.value)


def test_schema_errors_travel_between_processes() -> None:
    for error in (SchemaError("a.json", "#/x", "why"), HistoryError("h", "#", "broken")):
        back = pickle.loads(pickle.dumps(error))
        assert (type(back), str(back), back.file, back.pointer, back.message) == (
            type(error), str(error), error.file, error.pointer, error.message,
        )  # fmt: skip


@linux_only
def test_a_cancelled_child_is_gone(tmp_path: Path) -> None:
    started = beside.start(lambda: {"models/customer.py": MODELS}, tmp_path, {}, "s", True, fork=True)
    assert started.pid is not None
    started.cancel()
    started.cancel()  # twice is once
    with pytest.raises(ChildProcessError):
        os.waitpid(started.pid, os.WNOHANG)  # reaped: no such child any more


@linux_only
@pytest.mark.parametrize("fork", [True, False])
@pytest.mark.parametrize("big_first", [True, False])
def test_of_two_refused_modules_the_first_in_order_is_raised(tmp_path: Path, fork: bool, big_first: bool) -> None:
    """The largest module is checked first: whichever holds the first refused module in the files' order, its
    error is the one raised, as inline."""
    big = ("documents/big.py", b"import os\n" + b"X = 1\n" * 2000)  # the largest: checked first
    small = ("documents/small.py", b"import os\n")
    python = dict([("models/base.py", BASE), *((big, small) if big_first else (small, big))])
    with pytest.raises(SchemaError) as raised:
        run(python, fork, tmp_path)
    assert (big if big_first else small)[0] in str(raised.value)


UNPARSEABLE = b"def broken(:\n"  # ruff cannot lay it out
REFUSED = b"import os\nos.system('true')\n"
KINDS = {"base": BASE, "models": MODELS, "messy": MESSY, "refused": REFUSED, "unparseable": UNPARSEABLE}


@linux_only
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=5))
def test_checks_shared_by_both_processes_end_as_inline(tmp_path: Path, kinds: list[str]) -> None:
    """Forked or not, the outcome is the same: the same laid-out bytes, or the same first error (the check's
    first in the files' order, else ruff's first)."""
    python = {f"documents/m{i}_{kind}.py": KINDS[kind] for i, kind in enumerate(kinds)}

    def outcome(fork: bool) -> object:
        try:
            return run(python, fork, tmp_path)
        except Exception as exc:
            return (type(exc), str(exc))

    assert outcome(True) == outcome(False)


def _unrenderable() -> dict[str, bytes]:
    raise SchemaError("schemas/s.schema.json", "#/properties/x", "cannot be rendered")


@linux_only
@pytest.mark.parametrize("fork", [True, False])
def test_a_group_that_cannot_be_rendered_raises_its_error_before_any_other(tmp_path: Path, fork: bool) -> None:
    """What rendering a group raised comes first, as the same error, even when a group before it was refused."""
    refused = beside.start(lambda: {"documents/x.py": REFUSED}, tmp_path, {}, "schemas", True, fork=False)
    failing = beside.start(_unrenderable, tmp_path, {}, "schemas", True, fork=fork)
    with pytest.raises(SchemaError) as raised:
        beside.finish(refused, failing)
    assert (raised.value.file, raised.value.pointer, raised.value.message) == (
        "schemas/s.schema.json", "#/properties/x", "cannot be rendered",
    )  # fmt: skip


@linux_only
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=3), min_size=2, max_size=3))
def test_groups_end_as_one_group_of_all_their_modules(tmp_path: Path, groups: list[list[str]]) -> None:
    """Groups started side by side (the first forked, as generate starts them) end as the one group of all their
    modules in order ends inline: the laid-out modules of every group, or the same first error."""
    python = [{f"documents/g{g}_m{i}_{kind}.py": KINDS[kind] for i, kind in enumerate(kinds)} for g, kinds in
              enumerate(groups)]  # fmt: skip

    def outcome(run_all: Callable[[], dict[str, bytes]]) -> object:
        try:
            return run_all()
        except Exception as exc:
            return (type(exc), str(exc))

    def side_by_side() -> dict[str, bytes]:
        started = [beside.start(functools.partial(dict, p), tmp_path, {}, "s", True, fork=i == 0) for i, p in
                   enumerate(python)]  # fmt: skip
        return beside.finish(*started)

    every = {path: text for group in python for path, text in group.items()}
    alone = outcome(lambda: beside.finish(beside.start(lambda: every, tmp_path, {}, "s", True, fork=False)))
    assert outcome(side_by_side) == alone


def _buggy_render() -> dict[str, bytes]:
    modules: dict[str, bytes] = {}
    return {"documents/x.py": modules["no such key"]}


@linux_only
def test_a_bug_in_the_child_comes_back_with_the_childs_traceback(tmp_path: Path) -> None:
    """An error that is no SchemarelError is a bug: the parent raises it with the frames where the child raised
    it (a pickled exception keeps none), as inline it is raised itself."""
    with pytest.raises(KeyError):
        beside.finish(beside.start(_buggy_render, tmp_path, {}, "schemas", True, fork=False))
    with pytest.raises(RuntimeError) as raised:
        beside.finish(beside.start(_buggy_render, tmp_path, {}, "schemas", True, fork=True))
    assert "in _buggy_render" in str(raised.value) and "KeyError: 'no such key'" in str(raised.value)


@linux_only
@pytest.mark.parametrize("fork", [True, False])
def test_when_ruff_fails_its_error_is_raised_after_the_checks(tmp_path: Path, fork: bool) -> None:
    """A module the check passes but ruff cannot lay out (the project's ruff settings are broken): ruff's error,
    naming the module; a module the check refuses beside it wins, in either order of the files."""
    (tmp_path / "pyproject.toml").write_text('[tool.ruff]\nline-length = "not a number"\n')
    out = tmp_path / "generated"
    with pytest.raises(SchemarelError) as raised:
        beside.finish(beside.start(lambda: {"documents/x.py": MESSY}, out, {}, "schemas", True, fork=fork))
    assert type(raised.value) is SchemarelError and "ruff could not lay out the generated x.py" in str(raised.value)
    for python in (
        {"documents/x.py": MESSY, "documents/y.py": REFUSED},
        {"documents/y.py": REFUSED, "documents/x.py": MESSY},
    ):
        with pytest.raises(SchemaError) as refused:
            beside.finish(beside.start(functools.partial(dict, python), out, {}, "schemas", True, fork=fork))
        assert "documents/y.py" in str(refused.value)
