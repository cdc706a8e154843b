"""Rendering Mermaid diagrams to SVG with mermaid-cli (`mmdc`), which drives a headless Chromium.

All diagrams of a run go through one `mmdc` call (one browser start: seconds, not seconds per diagram).
`mmdc` is found through `SCHEMAREL_MMDC` or `PATH`; the browser through `PUPPETEER_EXECUTABLE_PATH` or a
Chromium on `PATH`, so that a Debian `chromium` serves and no browser has to be downloaded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from schemarel.errors import SchemarelError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = (
    "install it with `npm install -g @mermaid-js/mermaid-cli` (set PUPPETEER_SKIP_DOWNLOAD=1 to use the "
    "system's Chromium), or point SCHEMAREL_MMDC at an mmdc executable"
)
# Plain SVG text instead of HTML labels in <foreignObject>: the SVG then displays the same in an <img>.
# `useMaxWidth: False`: the SVG has its own width and height (else `width="100%"`, and an <img> of it is
# stretched to the page width however small the diagram); the theme's `img {max-width: 100%}` shrinks a wide one.
MERMAID_CONFIG = {"theme": "default", "htmlLabels": False, "er": {"useMaxWidth": False}}
_FENCE = re.compile(r"^```mermaid\n(.*?)^```\n", re.S | re.M)
TIMEOUT_S = 300


class MermaidError(SchemarelError):
    """A diagram did not render (a syntax error), or the renderer is missing or broken."""


class DiagramError(MermaidError):
    """A diagram that does not render fails the site build like a broken link: exit 1, as documented."""

    exit_code = 1


def mermaid_blocks(markdown: str) -> list[str]:
    """The body of every ```mermaid fence of a Markdown text, in order."""
    return [m.group(1) for m in _FENCE.finditer(markdown)]


def replace_blocks(markdown: str, replacements: list[str]) -> str:
    """`markdown` with its n-th ```mermaid fence replaced by `replacements[n]`."""
    found = iter(replacements)
    return _FENCE.sub(lambda _m: next(found) + "\n", markdown)


def find_mmdc() -> str | None:
    explicit = os.environ.get("SCHEMAREL_MMDC")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return shutil.which("mmdc")


def find_browser() -> str | None:
    explicit = os.environ.get("PUPPETEER_EXECUTABLE_PATH")
    if explicit:
        return explicit
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def render_svgs(diagrams: list[str]) -> list[str]:
    """The SVG text of each diagram; a syntax error raises MermaidError naming the diagram and the line."""
    if not diagrams:
        return []
    mmdc = find_mmdc()
    if mmdc is None:
        raise MermaidError(f"mermaid-cli (mmdc) was not found: {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="schemarel-mermaid-") as tmp:
        work = Path(tmp)
        args = _arguments(mmdc, work)
        source = work / "diagrams.md"
        source.write_text("".join(f"```mermaid\n{d}```\n\n" for d in diagrams), encoding="utf-8")
        result = _run([*args, "-i", str(source), "-o", str(work / "diagram.svg")])
        svgs = [work / f"diagram-{n}.svg" for n in range(1, len(diagrams) + 1)]
        # one job renders the diagrams in order and stops at the first error: the first missing file is it
        failed = next((n for n, path in enumerate(svgs) if not path.is_file()), None)
        if failed is not None or result.returncode != 0:
            n = len(diagrams) - 1 if failed is None else failed
            raise DiagramError(f"diagram {n + 1} does not render: {_first_error(result.stderr)}\n{diagrams[n]}")
        return [p.read_text(encoding="utf-8") for p in svgs]


def _arguments(mmdc: str, work: Path) -> list[str]:
    args = ["--disable-gpu", "--disable-dev-shm-usage"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to start its sandbox as root
    puppeteer: dict[str, object] = {"args": args}
    browser = find_browser()
    if browser:
        puppeteer["executablePath"] = browser
    (work / "puppeteer.json").write_text(json.dumps(puppeteer), encoding="utf-8")
    (work / "mermaid.json").write_text(json.dumps(MERMAID_CONFIG), encoding="utf-8")
    configs = ["-p", str(work / "puppeteer.json"), "-c", str(work / "mermaid.json")]
    return [mmdc, "-q", "--jobs", "1", *configs, "-b", "white"]


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MermaidError(f"mmdc could not run: {exc}") from None


def _first_error(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip() and not line.startswith("    at ")]
    return " ".join(lines[:4]) or "no message"
