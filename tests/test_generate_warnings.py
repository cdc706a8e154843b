"""Generate's warnings grouped by reason: one line per reason with its count and first pointers; `--verbose`
lists every warning (the CLI run as a subprocess)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from robust_helpers import project, schemarel
from schemarel.cli.warnlines import FIRST, grouped, reason
from schemarel.ir import SchemaWarning

MAP = {"type": "array"}  # its items have no type: a JSON column and a warning


def maps(count: int, **extra: Any) -> dict[str, Any]:
    props = {f"m{i}": MAP for i in range(count)}
    return {"title": "Doc", "type": "object", "additionalProperties": False, "properties": {**props, **extra}}


def warning_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning: ")]


@pytest.mark.parametrize("count", [2, FIRST, FIRST + 1, 40])
def test_one_line_per_reason_with_count_and_first_pointers(tmp_path: Path, count: int) -> None:
    other = {"x": {"type": "string", "pattern": "\\bword"}}  # a warning of another reason (no CHECK for \\b)
    root = project(tmp_path, maps(count, **other))
    run = schemarel(root, "generate")
    assert run.returncode == 0, run.stderr
    lines = warning_lines(run.stderr)
    grouped_line = next(line for line in lines if f"({count} times: " in line)
    pointers = re.findall(r"#/properties/m\d+", grouped_line)
    assert pointers == [f"#/properties/m{i}" for i in range(min(count, FIRST))]
    assert (f"and {count - FIRST} more; --verbose lists them" in grouped_line) == (count > FIRST)
    assert len(lines) == 2  # the maps' reason, and the lone property `x` with its whole message
    assert any("#/properties/x" in line and " times: " not in line for line in lines)

    verbose = schemarel(root, "generate", "--verbose")
    assert verbose.returncode == 0, verbose.stderr
    every = warning_lines(verbose.stderr)
    assert len(every) == count + 1
    named = {int(n) for n in re.findall(r"stored in JSON column \w+\.m(\d+): ", "\n".join(every))}
    assert named == set(range(count))


_messages = st.sampled_from(["stored in JSON column t.c{}: a map", "kept in JSON column t._extra: full", "odd {}"])


@given(st.lists(st.tuples(st.sampled_from(["a.json", "b.json"]), _messages, st.integers(0, 5)), max_size=40))
def test_grouping_keeps_every_warning_counted_once(items: list[tuple[str, str, int]]) -> None:
    warnings = [SchemaWarning(f, f"#/properties/p{i}", m.format(n)) for i, (f, m, n) in enumerate(items)]
    lines = grouped(warnings)
    keys = {(w.file, reason(w)) for w in warnings}
    assert len(lines) == len(keys)
    counted = 0
    for line in lines:
        found = re.search(r"\((\d+) times: ", line)
        counted += int(found.group(1)) if found else 1
    assert counted == len(warnings)
