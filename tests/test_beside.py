"""Laying out and checking the new Python beside the docs (`render.beside`): the forked child gives what the same
work gives in this process, its errors are raised in the parent as they would be inline, and a cancelled child
is gone."""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import pytest
from conftest import REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemarel.errors import HistoryError, SchemaError
from schemarel.render import beside
from schemarel.render.pyformat import format_sources

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="the child is forked on Linux only")
MODELS = (REPO / "generated" / "models" / "customer.py").read_bytes()
BASE = (REPO / "generated" / "models" / "base.py").read_bytes()
MESSY = b'from __future__ import annotations\nimport uuid\nimport datetime\nX: "uuid.UUID|None" = None\nY=( 1,2 )\n'


def run(python: dict[str, bytes], fork: bool, tmp_path: Path) -> dict[str, bytes]:
    started = beside.start(python, list(python), tmp_path / "generated", {}, "schemas", True, fork=fork)
    return started.result()


@linux_only
def test_the_child_lays_out_what_this_process_lays_out(tmp_path: Path) -> None:
    python = {"models/base.py": BASE, "models/customer.py": MODELS, "documents/x.py": MESSY}
    laid_out = run(python, True, tmp_path)
    assert laid_out == run(python, False, tmp_path)
    assert laid_out == format_sources(python, list(python), tmp_path / "generated")
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
    started = beside.start({"models/customer.py": MODELS}, ["models/customer.py"], tmp_path, {}, "s", True, fork=True)
    assert started.pid is not None
    started.cancel()
    started.cancel()  # twice is once
    with pytest.raises(ChildProcessError):
        os.waitpid(started.pid, os.WNOHANG)  # reaped: no such child any more


@linux_only
@pytest.mark.parametrize("fork", [True, False])
@pytest.mark.parametrize("big_first", [True, False])
def test_of_two_refused_modules_the_first_in_order_is_raised(tmp_path: Path, fork: bool, big_first: bool) -> None:
    """The child checks the largest module and the parent the others: whichever share holds the first refused
    module, its error is the one raised, as inline."""
    big = ("documents/big.py", b"import os\n" + b"X = 1\n" * 2000)  # the largest: the child's share
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
    """Whichever process takes a module's ticket, the outcome is the inline one: the same laid-out bytes, or the
    same first error (ruff's first in the files' order, else the check's first)."""
    python = {f"documents/m{i}_{kind}.py": KINDS[kind] for i, kind in enumerate(kinds)}

    def outcome(fork: bool) -> object:
        try:
            return run(python, fork, tmp_path)
        except Exception as exc:
            return (type(exc), str(exc))

    assert outcome(True) == outcome(False)
