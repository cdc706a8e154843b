"""The static documentation site: `generated/docs` built by MkDocs, with every Mermaid diagram pre-rendered.

The Markdown in `generated/docs` stays as it is (GitHub renders its Mermaid fences); the site is built from a
staged copy in which each fence becomes an SVG image, links to the schemas the docs document point at copies
inside the site, and MkDocs runs with `--strict`, so a broken link or anchor fails the build. Only the docs'
Markdown (read without following links) and those schema files are copied: a link to any other file, such as
`../../id_rsa` in a description, is left as it is and fails the build as a broken link.
Nothing is loaded from a CDN (highlight.js, the theme's one remote asset, is off): the site works offline,
from `file://` too (`use_directory_urls: false`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from schemarel.errors import SchemarelError
from schemarel.naming import counted
from schemarel.render.mermaid import mermaid_blocks, render_svgs, replace_blocks
from schemarel.render.output import Drift, current_tree, write_tree
from schemarel.render.ownership import Owner, replaceable
from schemarel.render.tree import UnsafeFile, read_regular, refuse_link, scan
from schemarel.schema.loader import SCHEMA_SUFFIX

_LINK = re.compile(r"(\]\()([^)\s#]+)((?:#[^)\s]*)?\))")
_TITLE = re.compile(r"^# (.+)$", re.M)
_REVISION_MESSAGE = re.compile(r"^- \*\*Revision\*\*: `[^`]+` \((.+)\)$", re.M)  # a migration page's revision line
SOURCES = "_sources"  # where the schema files the docs link to are copied


class SiteError(SchemarelError):
    exit_code = 1


@dataclass(frozen=True)
class Site:
    pages: int
    diagrams: int
    changes: list[Drift]


@dataclass(frozen=True)
class SiteSources:
    """What the site is built from: the docs folder and the schema files its pages document."""

    docs_dir: Path
    schemas_dir: Path
    root: Path  # the project: copied schemas keep their path relative to it under _sources/


def build_site(sources: SiteSources, site_dir: Path, owner: Owner, progress: Callable[[str], None]) -> Site:
    """Build the site of `sources` into `site_dir` (replaced whole, atomically, if `owner` may replace it)."""
    docs_dir = sources.docs_dir
    replaceable(site_dir, owner)  # refused before the (slow) build, and again by write_tree
    refuse_link(docs_dir.parent)
    if not (docs_dir / "index.md").is_file():
        raise SchemarelError(f"{docs_dir / 'index.md'} not found: run `schemarel generate` first (or pass --out)")
    if not _importable("mkdocs"):
        raise SchemarelError("MkDocs is not installed: `pip install 'schemarel[docs]'` (or `pip install mkdocs`)")
    with tempfile.TemporaryDirectory(prefix="schemarel-site-") as tmp:
        stage = Path(tmp) / "docs"
        _stage_docs(docs_dir, stage)
        pages = sorted(stage.rglob("*.md"))
        texts = {page: page.read_text(encoding="utf-8") for page in pages}
        blocks = [(page, n) for page in pages for n, _ in enumerate(mermaid_blocks(texts[page]), 1)]
        progress(f"rendering {counted(len(blocks), 'diagram')} with mermaid-cli")
        svgs = render_svgs([d for page in pages for d in mermaid_blocks(texts[page])])
        images: dict[Path, list[str]] = {}
        for (page, n), svg in zip(blocks, svgs, strict=True):
            name = f"{page.stem}.diagram-{n}.svg"
            (page.parent / name).write_text(svg, encoding="utf-8")
            images.setdefault(page, []).append(f"[![Entity-relationship diagram]({name})]({name})")
        schemas = _schema_files(sources.schemas_dir)
        for page in pages:
            text = replace_blocks(texts[page], images.get(page, []))
            page.write_text(
                _relink(text, docs_dir / page.relative_to(stage), stage, sources, schemas), encoding="utf-8"
            )
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
    return Site(len(pages), len(blocks), write_tree(site_dir, files, owner))


def _stage_docs(docs_dir: Path, stage: Path) -> None:
    """Copy the Markdown of `docs_dir` to `stage`; a link or special file there stops the build unread."""
    tree = scan(docs_dir)
    if tree.odd:
        path, kind = next(iter(sorted(tree.odd.items())))
        raise UnsafeFile(
            str(docs_dir / path),
            "",
            f"{'a symbolic link' if kind == 'symlink' else 'not a file'}, not published; run `schemarel check`",
        )
    for rel, data in tree.files.items():
        if rel.endswith(".md"):
            target = stage / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _relink(text: str, original: Path, stage: Path, sources: SiteSources, schemas: dict[Path, str]) -> str:
    """Point links to a documented schema file at a copy of it inside the site; leave every other link alone."""
    base = sources.root.resolve()
    staged_page = stage / original.relative_to(sources.docs_dir)

    def fix(match: re.Match[str]) -> str:
        target = match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:|^/", target):
            return match.group(0)  # absolute URLs and paths are the author's business
        try:
            name = schemas.get((original.parent / target).resolve())
        except (OSError, ValueError):  # a NUL or a loop in the link: not a schema file either
            name = None
        if name is None:
            return match.group(0)  # not a schema the docs document: never copied (MkDocs reports it if broken)
        resolved = sources.schemas_dir.resolve() / name
        where = resolved.relative_to(base) if resolved.is_relative_to(base) else Path(name)
        copy = stage / SOURCES / where
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(read_regular(sources.schemas_dir, name))
        return match.group(1) + Path(os.path.relpath(copy, staged_page.parent)).as_posix() + match.group(3)

    return _LINK.sub(fix, text)


def _schema_files(schemas_dir: Path) -> dict[Path, str]:
    """The schema files of `schemas_dir` (resolved path → file name): regular files only, links left out."""
    if not schemas_dir.is_dir():
        return {}
    return {
        (schemas_dir / p.name).resolve(): p.name
        for p in sorted(schemas_dir.glob(f"*{SCHEMA_SUFFIX}"))
        if not p.is_symlink() and p.is_file()
    }


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
