"""Generated Python laid out as the project's ruff lays it out: imports sorted, `ruff format`, long strings split.

Users lint what they commit, so generated models, env.py and new revisions pass `ruff check` and
`ruff format --check` under the project's own ruff settings: ruff runs on each file as if it were at its
place in the project (`--stdin-filename`), so `[tool.ruff]` there (line length, quotes, isort sections)
applies. Text from the schemas (comments, patterns) can be longer than any line: such string literals are
cut into implicitly concatenated pieces first, which the formatter joins again wherever they fit.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import subprocess
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from schemarel.errors import SchemarelError

PIECE = 60  # characters of text per piece of a split string: fits any line length ruff is commonly given
# characters above which a module is checked for long docstring lines only where ruff checks line length at all:
# checking a big module costs ruff tens of milliseconds (parsing it), asking whether, a process start (~5 ms)
PROBE_ABOVE = 20_000


def lay_out_each(
    files: Mapping[str, bytes], paths: Iterable[str], out_dir: Path, done: Callable[[str, bytes | Exception], None]
) -> Callable[[], None]:
    """`format_source` of `files[path]` as a file at `out_dir / path`, for each of `paths`, the largest first:
    `done(path, laid-out text or what ruff raised)` is called from ruff's threads as each file is laid out, in
    any order; the function returned waits for all."""
    _ruff_bin()  # once, before the threads: sysconfig's first look-up is not thread-safe
    pool = ThreadPoolExecutor(max_workers=4)

    def one(path: str, source: str) -> None:
        try:
            text = _laid_out(source, out_dir / path).encode("utf-8")
        except Exception as exc:  # given to `done`, which decides what is raised
            done(path, exc)
        else:
            done(path, text)

    for path in sorted(paths, key=lambda path: -len(files[path])):  # the largest take longest: begun first
        # split here, each file's ruff begun at once: CPython's `ast` keeps one recursion counter per interpreter
        pool.submit(one, path, split_long_strings(files[path].decode("utf-8")))
    return lambda: pool.shutdown(wait=True)


def format_source(source: str, path: Path) -> str:
    """One module's source: long strings split, imports sorted (`ruff check --select I`), `ruff format`, and
    the docstrings still too long marked."""
    return _laid_out(split_long_strings(source), path)


def _laid_out(source: str, path: Path) -> str:
    source = _ruff(["check", "--fix-only", "--exit-zero", "--quiet", "--select", "I"], source, path)
    source = _ruff(["format", "--quiet"], source, path)
    return mark_long_docstrings(source, path)


def mark_long_docstrings(source: str, path: Path, probe_above: int = PROBE_ABOVE) -> str:
    """`# noqa: E501` where the project's ruff finds a docstring line too long. Docstrings hold schema text
    verbatim (a model's `__doc__` is its table's comment) and ruff joins a docstring's pieces again.
    A source longer than `probe_above` characters is checked only where ruff checks line length at all."""
    if len(source) > probe_above and not _checks_line_length(path):
        return source  # no E501 to find: ruff's defaults and many projects leave it out
    found = json.loads(_ruff(_CHECK_JSON, source, path))
    rows = {d["noqa_row"] for d in found if d["code"] == "E501" and d.get("noqa_row")}
    lines = source.splitlines(keepends=True)
    for row in rows:
        line = lines[row - 1]
        if line.rstrip().endswith(('"""', "'''")):  # the end of a docstring, with no comment yet
            lines[row - 1] = line.rstrip("\n") + "  # noqa: E501\n"
    return "".join(lines)


_CHECK_JSON = ["check", "--exit-zero", "--quiet", "--output-format", "json"]
# A module whose docstring line is longer than any line length ruff accepts (320), words apart (a line of one
# word is exempt): ruff reports E501 on it exactly where the project's settings check line length at that path
# (its rule selection and per-file-ignores; neither depends on the file's text, a file-wide noqa aside).
_LONG_LINE_PROBE = '"""' + " ".join(["probe"] * 100) + '"""\n'


def _checks_line_length(path: Path) -> bool:
    """Whether the project's ruff reports E501 at `path` (checked on the probe module as if it were there)."""
    found = json.loads(_ruff(_CHECK_JSON, _LONG_LINE_PROBE, path))
    return any(d["code"] == "E501" for d in found)


# Comments and string literals of valid Python, leftmost first (so a quote inside a comment or a `#` inside a
# string is never taken for the other), found by one regex pass in C instead of a Python-level tokenizer. A
# string's prefix (`rb`, `f`) is the letters just before its quote, looked at only for a long string: every token
# then begins with `#` or a quote, which the regex engine skips to instead of trying each position.
_TOKENS = re.compile(
    r"""#[^\n]*"""
    r"""|\"\"\"(?:[^"\\]|\\[\s\S]|"(?!""))*\"\"\"|'''(?:[^'\\]|\\[\s\S]|'(?!''))*'''"""
    r"""|"(?:[^"\\\n]|\\[\s\S])*"|'(?:[^'\\\n]|\\[\s\S])*'"""
)


def split_long_strings(source: str, piece: int = PIECE) -> str:
    """Cut every single-line, unprefixed string literal longer than `piece` into implicitly concatenated
    pieces at word boundaries (docstrings and other triple-quoted strings stay whole)."""
    out: list[str] = []
    done = 0
    for match in _TOKENS.finditer(source):
        text = match.group()
        if text[:1] == "#" or text[:3] in ('"""', "'''") or len(text) <= piece + 2:
            continue
        start = match.start()
        if start and source[start - 1].isascii() and source[start - 1].isalpha():  # a prefixed string
            continue
        if "\n" in text:  # a backslash-newline continues the literal on the next line: left as it is
            continue
        value = _literal(text)
        if value is None:
            continue
        out += [source[done : match.start()], " ".join(repr(p) for p in _pieces(value, piece))]
        done = match.end()
    return "".join(out) + source[done:]


def _literal(text: str) -> str | None:
    value = ast.literal_eval(text)
    return value if isinstance(value, str) else None


def _pieces(value: str, size: int) -> list[str]:
    """`value` in pieces of at most `size` characters, cut after whitespace where it can be; joined, the same."""
    pieces = [""]
    for chunk in re.findall(r"\S+\s*|\s+", value):
        if pieces[-1] and len(pieces[-1]) + len(chunk) > size:
            pieces.append("")
        pieces[-1] += chunk
        while len(pieces[-1]) > size:
            pieces[-1:] = [pieces[-1][:size], pieces[-1][size:]]
    return pieces


@functools.cache
def _ruff_bin() -> str:
    from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]  # the ruff installed with schemarel

    return str(find_ruff_bin())


def _ruff(args: list[str], source: str, path: Path) -> str:
    result = subprocess.run(
        # absolute: ruff finds the settings of a relative name from its working directory, not the file's
        [_ruff_bin(), *args, "--stdin-filename", str(path.absolute()), "-"],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SchemarelError(f"ruff could not lay out the generated {path.name}: {result.stderr.strip()}")
    return result.stdout
