"""`schemarel revision -m MESSAGE` (and plain `alembic revision`) writes a revision whose docstring says MESSAGE.

The message went into the docstring of `script.py.mako` as it was: `a \"\"\" b` ended the docstring and `\\N`
made it invalid Python, so the command died with a traceback and left behind a revision that `check` and
`upgrade` then refused. For any text, the revision written parses, its docstring begins with the message,
and `check` passes.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from projects import generate, write_project
from schemarel.cli.main import main

SCHEMA = {"title": "Note", "type": "object", "properties": {"text": {"type": "string"}}}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_project(tmp_path_factory.mktemp("messages"), {"note": SCHEMA})
    assert generate(root).exit_code == 0
    return root


def run(root: Path, *args: str) -> tuple[int, str]:
    cwd = Path.cwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(cwd)
    return result.exit_code, result.output


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=30))
@example('a """ b \\N c')
@example('ends with a quote"')
@example("\\x \\u12 \\N{nope} \t\r\x00\ud800")
@example("")  # a revision named `0005_.py`
@example(" !? ")
def test_any_message_makes_a_revision_that_parses(project: Path, message: str) -> None:
    """… and a message without a word, of which no file name can be made, is refused (exit 2), nothing written."""
    versions = project / "generated" / "migrations" / "versions"
    before = set(versions.iterdir())
    code, output = run(project, "revision", "-m", message)
    if not re.search(r"\w", message):
        assert code == 2 and "say what the revision does in a word or more" in output, output
        assert set(versions.iterdir()) == before
        return
    assert code == 0, output
    (written,) = set(versions.iterdir()) - before
    module = ast.parse(written.read_text(encoding="utf-8"))
    docstring = ast.get_docstring(module, clean=False)
    assert docstring is not None
    said, _, rest = docstring.rpartition("\n\nRevision ID: ")
    assert rest.startswith(written.name[:4])
    assert said == message
    assert run(project, "check") == (0, "generated is up to date\n")
