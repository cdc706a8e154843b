"""Output folders: `generate --out` and `docs --site` replace only what schemarel wrote, never a user's files.

Hypothesis points the writer at every kind of folder of a sandboxed disk (the project, its parents, its
inputs, foreign folders, files, links, marked and unmarked output), spelt every way (`./`, absolute, `..`
detours, through links), and holds it to the table in sandbox.TARGETS: a refusal changes nothing anywhere; a
replacement changes nothing outside the target. Then the same through the real command.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import run_schemarel
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sandbox import SPELLINGS, TARGETS, build_sandbox, changed_only_below, outside, spell, state
from schemarel.project.config import output_owner
from schemarel.render.output import write_tree
from schemarel.render.ownership import MARKER, OutputRefused, Owner, marker_text, replaceable
from schemarel.render.tree import UnsafePath

NAMES = st.sampled_from(["a", "b.py", "c.md", "models", "docs", "x y", "ünï", ".hidden"])
FILES = st.dictionaries(
    st.lists(NAMES, min_size=1, max_size=3).map("/".join), st.binary(max_size=40), min_size=1, max_size=6
).filter(lambda files: not any(other.startswith(path + "/") for path in files for other in files))


@contextmanager
def sandbox() -> Iterator[Path]:
    """A fresh sandbox, with its project as the working directory."""
    cwd = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="schemarel-safety-") as tmp:
        base = Path(tmp).resolve()
        project = build_sandbox(base)
        os.chdir(project)
        try:
            yield project
        finally:
            os.chdir(cwd)


def owner_for(kind: str, project: Path) -> Owner:
    """The owner the CLI builds for `kind` in this project (templates given to generate)."""
    if kind == "generate":
        return output_owner("generate", Path("schemas"), Path("templates"))
    return output_owner("site", Path("schemas"), out_dir=Path("generated"))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["generate", "site"]),
    target=st.sampled_from(sorted(TARGETS)),
    how=st.sampled_from(SPELLINGS),
    files=FILES,
)
def test_only_absent_empty_or_own_folders_are_replaced(
    kind: str, target: str, how: str, files: dict[str, bytes]
) -> None:
    with sandbox() as project:
        base = project.parent
        spelt = spell(project, target, how)
        before = state(base)
        try:
            changes = write_tree(Path(spelt), files, owner_for(kind, project))
        except OutputRefused as exc:
            refused = str(exc)
        else:
            refused = ""
        after = state(base)
        written = Path(os.path.normpath(project / target)).resolve().relative_to(base).as_posix()

    allowed = TARGETS[target][0 if kind == "generate" else 1]
    assert bool(refused) != allowed, f"{kind} --out {spelt}: {refused or 'replaced'}"
    if refused:
        assert f"refusing to replace {Path(spelt)}: it " in refused
        assert after == before
        return
    assert changed_only_below(before, after, written)
    ours = {k[len(written) + 1 :]: v for k, v in after.items() if k.startswith(written + "/")}
    expected = {**files, MARKER: marker_text(kind)}
    assert {k: v[1] for k, v in ours.items() if v[0] == "file"} == expected
    assert all(v[0] == "dir" for k, v in ours.items() if k not in expected)
    assert {c.path for c in changes} >= set(files)


@settings(max_examples=200, deadline=None)
@given(
    rel=st.one_of(
        st.text(st.sampled_from("./\\\0ab"), min_size=0, max_size=8),
        st.lists(st.sampled_from(["..", ".", "", "a", "/", "b", MARKER]), min_size=1, max_size=5).map("/".join),
        st.text(max_size=12),
    )
)
def test_output_paths_never_leave_their_folder(rel: str) -> None:
    """A file name from schema text (a revision slug, a table name) lands inside the output folder or is refused."""
    with tempfile.TemporaryDirectory(prefix="schemarel-paths-") as tmp:
        base = Path(tmp)
        (base / "a").mkdir()
        (base / "b").write_text("a neighbour's file\n")
        out = base / "a" / "out"
        before = state(base)
        try:
            write_tree(out, {rel: b"x"}, Owner("generate"))
        except (UnsafePath, OutputRefused) as exc:
            assert repr(rel) in str(exc)
            assert state(base) == before
            return
        after = state(base)
        landed = Path(os.path.normpath(out / rel))
    assert outside(after, "a/out") == before
    assert landed.is_relative_to(out) and landed != out


@pytest.mark.parametrize(
    ("where", "why"),
    [
        ("/", "holds the project folder"),
        (str(Path.home()), None),
        (tempfile.gettempdir(), "holds the project folder"),
    ],
)
def test_the_filesystem_root_home_and_temp_folders_are_refused(where: str, why: str | None) -> None:
    with sandbox() as project:
        for kind in ("generate", "site"):
            with pytest.raises(OutputRefused) as refused:
                replaceable(Path(where), owner_for(kind, project))
            assert why is None or why in str(refused.value)


def test_a_failed_write_leaves_the_old_tree_and_no_staging_folder() -> None:
    with sandbox() as project:
        before = state(project.parent)
        with pytest.raises(Exception, match="cannot write generated"):
            # `a` is a file and a folder at once: the write fails after the first files are staged
            write_tree(Path("generated"), {"a": b"1", "b": b"2", "a/c": b"3"}, owner_for("generate", project))
        assert state(project.parent) == before


def test_a_legacy_generated_folder_is_adopted_once_and_marked() -> None:
    with sandbox() as project:
        result = run_schemarel(project, "generate", "--out", "legacy")
        assert result.returncode == 0, result.stderr
        assert f"wrote    legacy/{MARKER}" in result.stdout
        assert (project / "legacy" / MARKER).read_bytes() == marker_text("generate")
        again = run_schemarel(project, "generate", "--out", "legacy")
        assert again.stdout.strip() == "legacy is up to date"
        assert run_schemarel(project, "check", "--out", "legacy").returncode == 0


@pytest.mark.parametrize(
    ("args", "target", "why"),
    [
        (["generate", "--out", "src/app"], "src/app", "it is not empty and schemarel did not write it"),
        (["generate", "--out", "schemas"], "schemas", "it is the schemas folder"),
        (["generate", "--out", "templates/x", "--templates", "templates"], "templates/x", "inside the templates"),
        (["generate", "--watch", "--out", "notes"], "notes", "it is not empty"),
        (["docs", "--site", "notes"], "notes", "it is not empty and schemarel did not write it"),
        (["docs", "--site", "../project"], "../project", "it is the project folder"),
        (["docs", "--site", ".."], "..", "it holds the project folder"),
        (["docs", "--site", "generated"], "generated", "it is the generated folder"),
        (["docs", "--site", "generated/site"], "generated/site", "it is inside the generated folder"),
        (["generate", "--out", "site"], "site", "it holds the output of `schemarel docs --site`"),
    ],
)
def test_the_commands_refuse_with_exit_2_and_touch_nothing(args: list[str], target: str, why: str) -> None:
    with sandbox() as project:
        before = state(project.parent)
        result = run_schemarel(project, *args)
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr.startswith(f"error: refusing to replace {target}: ") and why in result.stderr
        assert "Traceback" not in result.stderr
        assert state(project.parent) == before


def test_a_configured_out_folder_is_held_to_the_same_rules() -> None:
    with sandbox() as project:
        (project / "pyproject.toml").write_text('[project]\nname = "app"\n[tool.schemarel]\nout = "src/app"\n')
        before = state(project.parent)
        result = run_schemarel(project / "src", "generate")
        assert result.returncode == 2 and "refusing to replace app: it is not empty" in result.stderr
        assert state(project.parent) == before


@settings(max_examples=12, deadline=None)
@given(target=st.sampled_from(sorted(TARGETS)), how=st.sampled_from(SPELLINGS))
@example(target="templates/new", how="plain")
def test_generate_out_through_the_real_command(target: str, how: str) -> None:
    with sandbox() as project:
        spelt = spell(project, target, how)
        before = state(project.parent)
        result = run_schemarel(
            project, "generate", "--out", spelt, "--templates", "templates", env={"SOURCE_DATE_EPOCH": "0"}
        )
        after = state(project.parent)
        written = Path(os.path.normpath(project / target)).resolve().relative_to(project.parent).as_posix()
    assert "Traceback" not in result.stderr
    if TARGETS[target][0]:
        assert result.returncode == 0, result.stderr
        assert changed_only_below(before, after, written)
    else:
        assert result.returncode == 2 and "error: refusing to replace" in result.stderr, result.stderr
        assert after == before


def test_watch_refuses_a_folder_that_stopped_being_its_own() -> None:
    """The check runs on every regeneration: a foreign folder put in place of the output is never replaced."""
    with sandbox() as project:
        proc = subprocess.Popen(
            [sys.executable, "-m", "schemarel", "generate", "--watch", "--interval", "0.1", "--out", "new"],
            cwd=project,
            env={**os.environ, "SOURCE_DATE_EPOCH": "0", "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            output = _read_until(proc, "watching schemas/")
            assert (project / "new" / MARKER).is_file(), output
            (project / "new" / MARKER).unlink()
            (project / "new/mine.txt").write_text("not schemarel's\n")
            schema = project / "schemas/profile.schema.json"
            schema.write_text(schema.read_text().replace('"UTC"', '"Europe/Paris"'))
            later = time.time() + 2
            os.utime(schema, (later, later))
            output = _read_until(proc, "error: refusing to replace new")
            assert (project / "new/mine.txt").read_text() == "not schemarel's\n", output
        finally:
            proc.terminate()
            proc.wait(timeout=30)


# each process's output lines, filled by one reader thread per process
_LINES: weakref.WeakKeyDictionary[subprocess.Popen[str], queue.Queue[str]] = weakref.WeakKeyDictionary()


def _read_until(proc: subprocess.Popen[str], text: str, timeout: float = 60) -> str:
    """The process's output up to the line holding `text` (read on a thread, so that the wait can time out)."""
    lines = _LINES.get(proc)
    if lines is None:
        lines = _LINES[proc] = queue.Queue()
        threading.Thread(target=_pump, args=(proc, lines), daemon=True).start()
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            seen.append(lines.get(timeout=max(0.0, deadline - time.monotonic())))
        except queue.Empty:
            break
        if text in seen[-1]:
            return "".join(seen)
    pytest.fail(f"no {text!r} within {timeout}s; output:\n{''.join(seen)}")


def _pump(proc: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    for line in proc.stdout or []:
        lines.put(line)
