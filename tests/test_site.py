"""`schemarel docs --site`: a strict MkDocs build, every page reachable, no remote asset, the diagram visible."""

from __future__ import annotations

import posixpath
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from conftest import run_schemarel
from schemarel.render.mermaid import find_browser


class _Page(HTMLParser):
    """The links, resource references and element ids of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.resources: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "a" and "href" in values:
            self.links.append(values["href"])
        for key in ("src",) if tag in ("script", "img", "iframe") else ("href",) if tag == "link" else ():
            if key in values:
                self.resources.append(values[key])


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def site(mermaid_cli: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import REPO

    root = tmp_path_factory.mktemp("site-project")
    for folder in ("schemas", "generated"):
        subprocess.run(["cp", "-r", str(REPO / folder), str(root / folder)], check=True)
    result = run_schemarel(root, "docs", "--site", "public")
    assert result.returncode == 0, result.stdout + result.stderr
    pages = len(list((REPO / "generated" / "docs").rglob("*.md")))  # each doc is a page
    assert f"built public/index.html: {pages} pages, 3 diagrams as SVG" in result.stdout
    return root / "public"


@pytest.mark.browser
def test_every_page_is_built_and_reachable_from_the_index(site: Path) -> None:
    expected = {"index.html", "customer.html", "profile.html"} | {
        f"migrations/{p.stem}.html" for p in (site.parent / "generated/docs/migrations").glob("*.md")
    }
    seen, queue = set(), ["index.html"]
    while queue:
        page = queue.pop()
        if page in seen:
            continue
        seen.add(page)
        for href in _parse(site / page).links:
            parts = urlsplit(href)
            if not parts.scheme and parts.path.endswith(".html"):
                queue.append(posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(parts.path))))
    assert expected <= seen


@pytest.mark.browser
def test_links_and_anchors_resolve_and_nothing_comes_from_the_network(site: Path) -> None:
    for html in site.rglob("*.html"):
        if html.name == "404.html":
            continue  # served for any missing URL, so it links from the site root by design
        page = _parse(html)
        for ref in page.resources:
            assert not urlsplit(ref).scheme, f"{html.name} loads {ref} from the network"
        for href in page.links + page.resources:
            parts = urlsplit(href)
            if parts.scheme or not (parts.path or parts.fragment):
                continue
            target = (html.parent / unquote(parts.path)).resolve() if parts.path else html
            assert target.is_file(), f"{html.relative_to(site)} links to missing {href}"
            if parts.fragment and target.suffix == ".html":
                assert parts.fragment in _parse(target).ids, f"{html.relative_to(site)}: no anchor for {href}"
    for css in site.rglob("*.css"):
        remote = re.findall(r"(?:url\(|@import)\s*['\"]?(https?:[^'\")]+)", css.read_text(encoding="utf-8"))
        assert not remote, f"{css.name} loads {remote}"


@pytest.mark.browser
def test_schema_pages_show_the_diagram_example_and_rows(site: Path) -> None:
    html = (site / "customer.html").read_text(encoding="utf-8")
    assert 'src="customer.diagram-1.svg"' in html
    assert "```mermaid" not in html and "erDiagram" not in html
    svg = (site / "customer.diagram-1.svg").read_text(encoding="utf-8")
    assert ">customer_profile_phone_numbers<" in svg
    assert "Rows of <code>customer_profile_emails</code>" in html
    assert "user1@example.com" in html
    assert 'href="_sources/schemas/customer.schema.json"' in html
    assert (site / "_sources/schemas/customer.schema.json").is_file()


def _screenshot(page: Path, shot: Path) -> Any:
    from PIL import Image

    browser = find_browser()
    assert browser is not None
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,1100"]
        + [f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 1100)
    return image


def _border(rgb: tuple[int, int, int]) -> bool:
    """Mermaid's default theme draws entity borders #9370DB, a colour the MkDocs theme never uses."""
    r, g, b = rgb
    return abs(r - 0x93) < 30 and abs(g - 0x70) < 30 and abs(b - 0xDB) < 30


@pytest.mark.browser
def test_a_headless_browser_shows_the_diagram(site: Path, tmp_path: Path) -> None:
    image = _screenshot(site / "customer.html", tmp_path / "customer.png")
    # Mermaid's default theme: entity headers #ECECFF, borders #9370DB; neither occurs in the MkDocs theme
    pixels = list(image.get_flattened_data() if hasattr(image, "get_flattened_data") else image.getdata())
    header = sum(1 for r, g, b in pixels if abs(r - 0xEC) < 6 and abs(g - 0xEC) < 6 and b > 0xF8)
    border = sum(1 for rgb in pixels if _border(rgb))
    assert header > 2000 and border > 500, f"diagram not visible: {header} header and {border} border pixels"


@pytest.mark.browser
def test_a_small_diagram_keeps_its_size_and_a_wide_one_fits_the_page(site: Path, tmp_path: Path) -> None:
    spans = {}
    for name in ("profile", "customer"):
        svg = (site / f"{name}.diagram-1.svg").read_text(encoding="utf-8")
        width = re.search(r'<svg[^>]* width="([0-9.]+)"', svg)  # its own size, not width="100%"
        assert width is not None and re.search(r'<svg[^>]* height="[0-9.]+"', svg), svg[:300]
        image = _screenshot(site / f"{name}.html", tmp_path / f"{name}.png")
        xs = [x for x in range(image.width) for y in range(0, image.height, 3) if _border(image.getpixel((x, y)))]
        spans[name] = (max(xs) - min(xs), float(width.group(1)))
    drawn, natural = spans["profile"]
    assert drawn <= natural < 500, spans  # the 1-table diagram is drawn at its own width, not the page's
    drawn, natural = spans["customer"]
    assert 600 < drawn < natural, spans  # the wide one is shrunk to the content column


def test_a_broken_link_fails_the_strict_build(tmp_path: Path) -> None:
    docs = tmp_path / "generated" / "docs"
    docs.mkdir(parents=True)
    (docs / "index.md").write_text("# Docs\n\nSee [the table](customer.md#nowhere).\n\n[gone](missing.md)\n")
    (docs / "customer.md").write_text("# Customer\n\n## Columns\n")
    result = run_schemarel(tmp_path, "docs", "--site", "site")
    assert result.returncode == 1
    assert "'missing.md'" in result.stderr and "'#nowhere'" in result.stderr
    assert not (tmp_path / "site").exists()


def test_without_mermaid_cli_the_message_says_how_to_install_it(project: Path) -> None:
    result = run_schemarel(project, "docs", "--site", "site", env={"SCHEMAREL_MMDC": str(project / "no-mmdc")})
    assert result.returncode == 2
    assert "mermaid-cli (mmdc) was not found" in result.stderr and "npm install" in result.stderr
    assert "Traceback" not in result.stderr
