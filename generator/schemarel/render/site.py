"""The static documentation site: `generated/docs` built by MkDocs, with every Mermaid diagram pre-rendered.

The Markdown in `generated/docs` stays as it is (GitHub renders its Mermaid fences); the site is built from a
staged copy in which each fence becomes an SVG image, links to files outside the docs (the source schemas)
point at copies inside the site, and MkDocs runs with `--strict`, so a broken link or anchor fails the build.
Nothing is loaded from a CDN (highlight.js, the theme's one remote asset, is off): the site works offline,
from `file://` too (`use_directory_urls: false`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from schemarel.errors import SchemarelError
from schemarel.render.mermaid import mermaid_blocks, render_svgs, replace_blocks
from schemarel.render.output import Drift, current_tree, write_tree

_LINK = re.compile(r"(\]\()([^)\s#]+)((?:#[^)\s]*)?\))")
_TITLE = re.compile(r"^# (.+)$", re.M)
_REVISION_MESSAGE = re.compile(r"^- \*\*Revision\*\*: `[^`]+` \((.+)\)$", re.M)  # a migration page's revision line
SOURCES = "_sources"  # where files the docs link to outside of them are copied


class SiteError(SchemarelError):
    exit_code = 1


@dataclass(frozen=True)
class Site:
    pages: int
    diagrams: int
    changes: list[Drift]


def build_site(docs_dir: Path, site_dir: Path, root: Path, progress: Callable[[str], None]) -> Site:
    """Build the site of `docs_dir` into `site_dir` (replaced whole, atomically); `root` bounds copied links."""
    if not (docs_dir / "index.md").is_file():
        raise SchemarelError(f"{docs_dir / 'index.md'} not found: run `schemarel generate` first (or pass --out)")
    if not _importable("mkdocs"):
        raise SchemarelError("MkDocs is not installed: `pip install 'schemarel[docs]'` (or `pip install mkdocs`)")
    with tempfile.TemporaryDirectory(prefix="schemarel-site-") as tmp:
        stage = Path(tmp) / "docs"
        shutil.copytree(docs_dir, stage, ignore=shutil.ignore_patterns("__pycache__"))
        pages = sorted(stage.rglob("*.md"))
        texts = {page: page.read_text(encoding="utf-8") for page in pages}
        blocks = [(page, n) for page in pages for n, _ in enumerate(mermaid_blocks(texts[page]), 1)]
        progress(f"rendering {len(blocks)} diagram(s) with mermaid-cli")
        svgs = render_svgs([d for page in pages for d in mermaid_blocks(texts[page])])
        images: dict[Path, list[str]] = {}
        for (page, n), svg in zip(blocks, svgs, strict=True):
            name = f"{page.stem}.diagram-{n}.svg"
            (page.parent / name).write_text(svg, encoding="utf-8")
            images.setdefault(page, []).append(f"[![Entity-relationship diagram]({name})]({name})")
        for page in pages:
            text = replace_blocks(texts[page], images.get(page, []))
            page.write_text(_relink(text, docs_dir / page.relative_to(stage), docs_dir, stage, root), encoding="utf-8")
        config = Path(tmp) / "mkdocs.yml"
        config.write_text(json.dumps(_config(stage, pages, texts), indent=2), encoding="utf-8")  # JSON is YAML
        progress("building the site with mkdocs --strict")
        result = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            output = [x for x in (result.stdout + result.stderr).splitlines() if not x.startswith("INFO")]
            raise SiteError("mkdocs build --strict failed:\n" + "\n".join(output))
        files = current_tree(Path(tmp) / "site")
    return Site(len(pages), len(blocks), write_tree(site_dir, files))


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _relink(text: str, original: Path, docs_dir: Path, stage: Path, root: Path) -> str:
    """Point links that leave the docs (to a schema file, say) at a copy inside the site."""
    docs, base = docs_dir.resolve(), root.resolve()
    staged_page = stage / original.relative_to(docs_dir)

    def fix(match: re.Match[str]) -> str:
        target = match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:|^/", target):
            return match.group(0)  # absolute URLs and paths are the author's business
        resolved = (original.parent / target).resolve()
        if resolved.is_relative_to(docs) or not resolved.is_file() or not resolved.is_relative_to(base):
            return match.group(0)
        copy = stage / SOURCES / resolved.relative_to(base)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(resolved, copy)
        return match.group(1) + Path(os.path.relpath(copy, staged_page.parent)).as_posix() + match.group(3)

    return _LINK.sub(fix, text)


def _config(stage: Path, pages: list[Path], texts: dict[Path, str]) -> dict[str, object]:
    def title(page: Path) -> str:
        # a migration is named by its revision's message: every one of a schema has the same heading
        found = _REVISION_MESSAGE.search(texts[page]) or _TITLE.search(texts[page])
        return found.group(1).strip() if found else page.stem

    index = stage / "index.md"
    sections: dict[str, list[dict[str, str]]] = {}
    for page in pages:
        if page == index:
            continue
        folder = page.parent.relative_to(stage).as_posix()
        section = "Schemas" if folder == "." else folder.replace("_", " ").title()
        label = title(page) if folder == "." else f"{page.stem.split('_')[0]} · {title(page)}"
        sections.setdefault(section, []).append({label: page.relative_to(stage).as_posix()})
    return {
        "site_name": title(index),
        "docs_dir": "docs",
        "site_dir": "site",
        "use_directory_urls": False,
        "theme": {"name": "mkdocs", "highlightjs": False, "navigation_depth": 3},
        "nav": [{"Home": "index.md"}, *({name: entries} for name, entries in sections.items())],
        "validation": {
            "omitted_files": "warn",
            "absolute_links": "warn",
            "unrecognized_links": "warn",
            "anchors": "warn",
            "not_found": "warn",
        },
    }
