"""Generated Python passes `ruff check` and `ruff format --check` under the project's rule set: the repository's
own `generated/`, and the output for every real-world schema of ../shared/corpus."""

from __future__ import annotations

import ast
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tokenize
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import CI, REPO, SHARED, require_shared, run_schemarel
from hypothesis import given, settings
from hypothesis import strategies as st
from schemarel.cli.main import main
from schemarel.render.pyformat import PIECE, format_source, mark_long_docstrings, split_long_strings
from schemarel.text import docstring_line

RUFF = [sys.executable, "-m", "ruff"]
CORPUS = sorted((SHARED / "corpus").glob("*.schema.json"))
NO_CORPUS = f"needs {SHARED / 'corpus'} (../shared is not beside this clone)"


def ruff(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUFF, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_committed_generated_passes_ruff() -> None:
    for args in (("check", "generated"), ("format", "--check", "--diff", "generated")):
        result = ruff(REPO, *args)
        assert result.returncode == 0, f"ruff {' '.join(args)}:\n{result.stdout}{result.stderr}"


def test_generated_is_linted_like_the_rest() -> None:
    """`generated` is not excluded from ruff any more: users lint what they commit."""
    listed = ruff(REPO, "check", "--show-files", "generated").stdout
    assert "generated/models/customer.py" in listed
    assert "generated/migrations/env.py" in listed


def test_hand_written_revisions_pass_ruff(tmp_path: Path) -> None:
    """What script.py.mako writes is ruff-clean as written: `schemarel revision`, plain `alembic revision`, a
    branch and the merge of two heads (a tuple of ids)."""
    root = tmp_path / "project"
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(REPO / "generated", root / "generated", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root)
    made = run_schemarel(root, "revision", "-m", "grant read")
    assert made.returncode == 0, made.stderr
    (by_schemarel,) = (root / "generated/migrations/versions").glob("*_grant_read.py")
    head = by_schemarel.name.split("_")[0]
    alembic = [sys.executable, "-m", "alembic", "-c", "generated/alembic.ini"]
    for args in (["revision", "-m", "one"], ["revision", "-m", "two", "--head", head, "--splice"],
                 ["merge", "heads", "-m", "both"]):  # fmt: skip
        result = subprocess.run([*alembic, *args], cwd=root, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    committed = {p.name for p in (REPO / "generated/migrations/versions").glob("*.py")}
    written = sorted(p for p in (root / "generated/migrations/versions").glob("*.py") if p.name not in committed)
    assert len(written) == 4
    assert any("down_revision = (" in p.read_text() for p in written)  # the merge
    for ruff_args in (("check", "--no-cache"), ("format", "--check", "--diff", "--no-cache")):
        result = ruff(root, *ruff_args, *map(str, written))
        assert result.returncode == 0, f"ruff {' '.join(ruff_args)}:\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
def corpus_outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Every corpus schema generated into a project of its own (with this repository's ruff settings)."""
    schemas = sorted(require_shared(SHARED / "corpus").glob("*.schema.json"))
    tmp_path = tmp_path_factory.mktemp("corpus")
    generated = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        for schema in schemas:
            root = tmp_path / schema.name.removesuffix(".schema.json")
            (root / "schemas").mkdir(parents=True)
            shutil.copy(schema, root / "schemas")
            shutil.copy(REPO / "pyproject.toml", root)  # the project's ruff settings, for generating and checking
            monkeypatch.chdir(root)
            result = CliRunner().invoke(main, ["generate"], catch_exceptions=False)
            if result.exit_code == 0:  # the schemas that must fail are test_corpus.py's business
                generated.append(root.name)
    assert len(generated) >= len(schemas) - 2, generated
    return tmp_path, generated


@pytest.mark.skipif(not CORPUS and not CI, reason=NO_CORPUS)
def test_corpus_outputs_pass_ruff(corpus_outputs: tuple[Path, list[str]]) -> None:
    tmp_path, generated = corpus_outputs
    for args in (("check", *generated), ("format", "--check", *generated)):
        result = ruff(tmp_path, *args)
        assert result.returncode == 0, f"ruff {' '.join(args[:2])}:\n{result.stdout[-5000:]}{result.stderr}"


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS and not CI, reason=NO_CORPUS)
def test_corpus_outputs_pass_mypy_strict(corpus_outputs: tuple[Path, list[str]]) -> None:
    """Models (string enums as Literals of odd labels too), env.py and the first revision of every schema."""
    tmp_path, generated = corpus_outputs
    cache = Path(tempfile.gettempdir()) / f"schemarel-mypy-{os.getuid()}"
    for name in generated:
        result = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), "generated"],
            cwd=tmp_path / name,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, f"{name}:\n{result.stdout}"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(" '\"\\\n"), max_size=400))
def test_long_strings_are_split_into_the_same_text(text: str) -> None:
    source = f"value = {text!r}\n"
    split = split_long_strings(source)
    namespace: dict[str, object] = {}
    exec(compile(split, "<split>", "exec"), namespace)
    assert namespace["value"] == text
    tokens = tokenize.generate_tokens(io.StringIO(split).readline)
    pieces = [ast.literal_eval(t.string) for t in tokens if t.type == tokenize.STRING]
    assert "".join(pieces) == text
    assert all(len(piece) <= PIECE for piece in pieces)


# the tokens as split_long_strings found them before it read a string's prefix from the text before its quote
_OLD_TOKENS = re.compile(
    r"""#[^\n]*"""
    r"""|(?P<prefix>[A-Za-z]{0,2})(?:\"\"\"(?:[^"\\]|\\[\s\S]|"(?!""))*\"\"\"|'''(?:[^'\\]|\\[\s\S]|'(?!''))*'''"""
    r"""|"(?:[^"\\\n]|\\[\s\S])*"|'(?:[^'\\\n]|\\[\s\S])*')"""
)
_BEFORE = ["", "b", "r", "f", "rb", "Rb", "u", "x in ", "x if y else ", "# '", "(", "[1, "]
_CHARACTERS = st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from(" '\"\\#")
_TEXT = st.text(_CHARACTERS, min_size=50, max_size=150)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_BEFORE), _TEXT, st.booleans()), min_size=1, max_size=6))
def test_strings_are_cut_where_the_full_tokenizer_cut_them(parts: list[tuple[str, str, bool]]) -> None:
    """Reading a long string's prefix from the text before its quote cuts exactly the literals the former
    regex (which matched every prefix at every position) cut: prefixed ones, and those after `in`, stay whole."""
    lines = [f"{before}{text!r}" + (f"  # {text!r}" if comment else "") for before, text, comment in parts]
    source = "\n".join(f"v = {line}" if not line.startswith("#") else line for line in lines) + "\n"
    out: list[str] = []
    done = 0
    for match in _OLD_TOKENS.finditer(source):
        text = match.group()
        if text[:1] == "#" or match.group("prefix") or text[:3] in ('"""', "'''") or len(text) <= PIECE + 2:
            continue
        if "\n" in text or not isinstance(value := ast.literal_eval(text), str):
            continue
        out += [source[done : match.start()], split_long_strings(repr(value))]
        done = match.end()
    assert split_long_strings(source) == "".join(out) + source[done:]


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=300))
def test_a_docstring_keeps_its_text_through_ruff(text: str) -> None:
    """Model docstrings are table comments: after the formatter they still say exactly what the schema said."""
    source = f"class Table:\n    {docstring_line(text)}\n\n    x = 1\n"
    formatted = format_source(source, REPO / "generated" / "models" / "probe.py")
    namespace: dict[str, Any] = {}
    exec(compile(formatted, "<formatted>", "exec"), namespace)
    assert namespace["Table"].__doc__ == text.strip()


# Ruff settings a project may hold for generated/: line length checked or not, and for which files.
RUFF_SETTINGS = {
    "defaults": "",
    "all of E": '[tool.ruff.lint]\nselect = ["E"]\n',
    "E501 at the longest line length": '[tool.ruff]\nline-length = 320\n[tool.ruff.lint]\nextend-select = ["E501"]\n',
    "short lines": '[tool.ruff]\nline-length = 40\n[tool.ruff.lint]\nselect = ["E", "F"]\n',
    "E501 off for models": '[tool.ruff.lint]\nselect = ["E"]\nper-file-ignores = {"generated/models/*" = ["E501"]}\n',
    "E501 ignored": '[tool.ruff.lint]\nselect = ["E"]\nignore = ["E501"]\n',
}


@pytest.fixture(scope="module")
def ruff_projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    roots = {}
    for name, config in RUFF_SETTINGS.items():
        root = tmp_path_factory.mktemp("ruff_project")
        (root / "pyproject.toml").write_text(config)
        roots[name] = root
    return roots


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(sorted(RUFF_SETTINGS)),
    st.sampled_from(["models/big.py", "documents/big.py"]),
    st.lists(st.integers(min_value=1, max_value=120), min_size=1, max_size=4),
)
def test_a_big_module_is_marked_as_without_asking_whether_ruff_checks_line_length(
    ruff_projects: dict[str, Path], settings_name: str, module: str, words: list[int]
) -> None:
    """Asking ruff first whether it checks line length at the module's path (a big module) marks exactly the
    docstring lines that checking the whole module marks, under every project setting (docstring lines of up
    to 720 characters, beyond the longest line length ruff accepts)."""
    classes = "".join(
        f'class T{i}:\n    """{" ".join(["word"] * n)}"""\n\n    x = 1\n\n\n' for i, n in enumerate(words)
    )
    source = f'"""Module."""\n\n\n{classes}'.rstrip("\n") + "\n"
    path = ruff_projects[settings_name] / "generated" / module
    assert mark_long_docstrings(source, path, probe_above=0) == mark_long_docstrings(source, path, probe_above=10**9)
