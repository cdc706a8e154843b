"""Schema text printed to a terminal cannot drive it: ESC/CSI/OSC, C0/C1 controls and bidi overrides are shown
escaped by `inspect`, `generate`'s warnings and errors, and `check` (through the CLI, as a user runs it)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from conftest import run_schemarel
from hostile import hostile_text
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from schemarel.text import BIDI, terminal

CONTROLS = ["\x1b[2J", "\x1b]0;owned\x07", "\x9b31m", "\x1bP", "\x07", "\x08", "\r", "\x7f", "\x85", "\u202e",
            "\u2066", "\u200f", "\u2028", "\x00"]  # fmt: skip
names = st.lists(st.sampled_from(CONTROLS) | st.sampled_from(["a", "b", "x y", "é"]), min_size=1, max_size=6).map(
    lambda parts: "p" + "".join(parts)
)


def _raw_controls(output: str) -> list[str]:
    """Characters a terminal acts on or reorders with (line feeds and tabs are layout)."""
    return [
        c
        for c in output
        if c not in "\n\t"
        and (unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp", "Cf") and c not in "\u00ad")
        or c in BIDI
    ]


@settings(max_examples=1000, deadline=None)
@given(hostile_text)
def test_terminal_text_holds_no_control(text: str) -> None:
    shown = terminal(text)
    assert _raw_controls(shown) == []
    assert shown.count("\n") == text.count("\n")


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(names)
@example("p\x1b[2J\x1b[2J\x1b]0;owned\x07x y")  # long enough to wrap at its space in 80 columns (seen in CI)
def test_the_cli_shows_hostile_property_names_escaped(tmp_path_factory: pytest.TempPathFactory, name: str) -> None:
    root = tmp_path_factory.mktemp("t")
    schemas = root / "schemas"
    schemas.mkdir()
    said = name.replace("\x00", "")
    schema: dict[str, Any] = {
        "title": "Thing",
        "type": "object",
        "properties": {
            "plain": {"type": "string"},
            # values with no type: a map stored as JSON, with a warning whose pointer holds the name
            # (a comment cannot hold NUL on PostgreSQL: generate refuses such a description, by design)
            name: {"type": "object", "description": said, "additionalProperties": {"description": said}},
        },
    }
    (schemas / "s.schema.json").write_text(json.dumps(schema))
    env = {"NO_COLOR": "1"}
    # inspect as wide as the name: an 80-column terminal wraps a long name at its spaces
    wide = {**env, "COLUMNS": "1000"}
    runs = [run_schemarel(root, "generate", env=env), run_schemarel(root, "inspect", env=wide)]
    assert runs[0].returncode == 0 and runs[1].returncode == 0, runs[0].stderr + runs[1].stderr
    assert "warning: schemas/s.schema.json#/properties/p" in runs[0].stderr  # the pointer holds the name
    del schema["properties"][name]  # a destructive change: the error lists the name's pointer
    (schemas / "s.schema.json").write_text(json.dumps(schema))
    runs += [run_schemarel(root, "generate", env=env), run_schemarel(root, "check", "--format", "github", env=env)]
    assert runs[2].returncode == 2 and "#/properties/p" in runs[2].stderr
    for run in runs:
        assert _raw_controls(run.stdout + run.stderr) == [], run.args
    assert terminal(name) in runs[1].stdout or "\n" in name or "\u2028" in name


def test_terminal_keeps_plain_text(tmp_path: Path) -> None:
    assert terminal("é ü 中文 emoji 😀\n\tx") == "é ü 中文 emoji 😀\n\tx"
    assert terminal("\x1b[31mred\u202e") == "\\x1b[31mred\\u202e"


def test_inspect_shows_rich_markup_in_names_as_text(tmp_path: Path) -> None:
    """Rich reads `[link=…]` as a terminal hyperlink and `[red]` as a colour: schema text is shown, not read."""
    (tmp_path / "schemas").mkdir()
    name = "[link=https://evil.example]x[/link]"
    schema = {"title": "[bold]T", "type": "object", "properties": {name: {"type": "string"}, "e": {"enum": ["[red]v"]}}}
    (tmp_path / "schemas" / "s.schema.json").write_text(json.dumps(schema))
    result = run_schemarel(tmp_path, "inspect", env={"FORCE_COLOR": "1", "COLUMNS": "300"})
    assert result.returncode == 0, result.stderr
    assert name in result.stdout and "[bold]T" in result.stdout and "'[red]v'" in result.stdout
    assert "\x1b]8;" not in result.stdout  # no OSC 8 hyperlink
