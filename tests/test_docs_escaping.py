"""Schema text in the docs is text: no raw HTML, only safe links, code spans and Mermaid labels that hold.

The Markdown is rendered with the `markdown` package MkDocs uses, with MkDocs' own extensions, and the HTML
parsed: no tag or attribute from schema text may survive, and every link points to http(s), mailto or a
relative path. Mermaid blocks are checked line by line against the `erDiagram` shapes schemarel writes.
"""

from __future__ import annotations

import html.parser
import inspect
import json
import re
from pathlib import Path
from typing import Any

import markdown
import pytest
from hostile import file_stem, hostile_name, hostile_schema, hostile_text
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from schemarel.errors import SchemaError
from schemarel.project.pipeline import Settings, build
from schemarel.render.mermaid import mermaid_blocks
from schemarel.text import md_block, md_cell, md_cell_code, md_code, md_inline, md_url, mermaid_label, mermaid_name

MANY = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
PIPELINE = settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
MKDOCS_EXTENSIONS = ["toc", "tables", "fenced_code"]  # what MkDocs always enables
# the tags Markdown itself makes from text, links, emphasis, code, lists, tables and headings
MARKDOWN_TAGS = {"p", "a", "img", "em", "strong", "code", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol",
                 "li", "blockquote", "hr", "br", "table", "thead", "tbody", "tr", "th", "td", "div"}  # fmt: skip
SAFE_ATTRIBUTES = {"href", "src", "alt", "title", "id", "class", "style"}
LINK_PROBES = ["[x](javascript:alert(1))", "[x]( javascript:alert(1))", "[x](JaVaScRiPt:alert(1))",
               "[x](java\nscript:alert(1))", "[x](java\tscript:x)", "[x](&#106;avascript:x)", "[x](javascript&#58;x)",
               "[x](<javascript:x>)", "![x](javascript:x)", "[x][r]\n\n[r]: javascript:alert(1)",
               "- [r]: javascript:x\n\n[y][r]", "> [r]:\n> javascript:x\n\n[r]", "[x](data:text/html,<b>)",
               "[x](vbscript:x)", "[x](\\javascript:x)", "\\[r]: javascript:x\n\n[r]", "\\\\[r]: javascript:x\n\n[r]",
               "[x](%6Aavascript:x)", "[ok](https://example.org/a_(b)) [rel](../x.md#a) [m](mailto:a@b.c)"]  # fmt: skip
markdown_text = st.one_of(
    hostile_text,
    st.lists(st.sampled_from(LINK_PROBES) | hostile_text, max_size=4).map(" ".join),
    st.lists(st.sampled_from(LINK_PROBES) | hostile_text, max_size=4).map("\n".join),
)


class _Page(html.parser.HTMLParser):
    """Tags, attributes (entities decoded, as a browser reads them) and the text inside <code>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.code: list[str] = []
        self._in_code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag == "code":
            self._in_code += 1
            self.code.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self._in_code -= 1

    def handle_data(self, data: str) -> None:
        if self._in_code:
            self.code[-1] += data


def _page(source: str) -> _Page:
    page = _Page()
    page.feed(markdown.markdown(source, extensions=MKDOCS_EXTENSIONS))
    page.close()
    return page


def _scheme(url: str) -> str | None:
    """The scheme a browser reads: tabs and line breaks removed, leading spaces and controls stripped."""
    url = re.sub(r"[\t\n\r]", "", url).lstrip("".join(map(chr, range(0x21))))
    found = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", url)
    return found.group(1).lower() if found else None


def assert_safe_html(source: str) -> _Page:
    page = _page(source)
    for tag, attrs in page.tags:
        assert tag in MARKDOWN_TAGS, (tag, source)
        for name, value in attrs:
            assert name in SAFE_ATTRIBUTES and not name.startswith("on"), (tag, name, source)
            if name in ("href", "src"):
                assert _scheme(value or "") in (None, "http", "https", "mailto"), (value, source)
    return page


# -- the Markdown functions ---------------------------------------------------------------------------------
@MANY
@given(markdown_text)
@example("[[a]: javascript:alert(1)")  # the defused `[a]: …` became `[&#91;a]: …`, a definition again (seen in CI)
@example("[a]:\njavascript:alert(1)\n\n[a]")  # a destination on the next line was not looked at
@example("[a]: \n  javascript:alert(1)\n\nsee [a]")
def test_descriptions_keep_no_tag_attribute_or_unsafe_link(text: str) -> None:
    assert_safe_html(md_block(text))
    assert_safe_html(f"# {md_inline(text)}\n\n- {md_inline(text)}\n")
    assert_safe_html(f"| a | b |\n| --- | --- |\n| {md_cell(text)} | {md_cell_code(text)} |\n")


@MANY
@given(markdown_text)
def test_a_cell_stays_one_cell(text: str) -> None:
    page = _page(f"| a | b |\n| --- | --- |\n| {md_cell(text)} | {md_cell_code(text)} |\n")
    cells = [tag for tag, _ in page.tags if tag == "td"]
    assert len(cells) == 2


@MANY
@given(hostile_text)
def test_a_code_span_shows_its_whole_text(text: str) -> None:
    page = assert_safe_html(f"Value {md_code(text)} end.")
    assert [tag for tag, _ in page.tags if tag == "code"] == ["code"]
    shown = md_code(text).strip("`")  # what was put inside the fence (visible escapes for controls)
    assert page.code[0] == shown.strip()


def test_safe_links_stay_live() -> None:
    page = assert_safe_html(md_block("[ok](https://example.org/a_(b)) [rel](../x.md#a) [m](mailto:a@b.c)"))
    hrefs = [dict(attrs)["href"] for tag, attrs in page.tags if tag == "a"]
    assert hrefs == ["https://example.org/a_(b)", "../x.md#a", "mailto:a@b.c"]


@MANY
@given(hostile_name)
def test_a_path_is_one_link_destination(path: str) -> None:
    page = assert_safe_html(f"[file]({md_url(path)}) after")
    links = [dict(attrs)["href"] for tag, attrs in page.tags if tag == "a"]
    assert len(links) == 1 and links[0] is not None and _scheme(links[0]) is None


# -- Mermaid ------------------------------------------------------------------------------------------------
ENTITY = r"[A-Za-z_][A-Za-z0-9_-]*"
MERMAID_LINE = re.compile(
    rf"erDiagram|    {ENTITY} \{{|    \}}|        [A-Za-z0-9_()\[\]-]+ {ENTITY}( (PK|FK|UK)(, (PK|FK|UK))*)?"
    rf'( "[^"\n]*")?|    {ENTITY} [|o}}]{{2}}(--|\.\.)[|o{{]{{2}} {ENTITY} : "[^"\n]*"'
)


@MANY
@given(hostile_text)
def test_a_mermaid_label_stays_one_quoted_label(text: str) -> None:
    label = mermaid_label(text)
    assert re.fullmatch(r'"[^"\n\r`<>&{}%;#\\]*(#[a-z0-9]+;[^"\n\r`<>&{}%;#\\]*)*"', label), label
    assert not any(not c.isprintable() for c in label)
    assert re.fullmatch(ENTITY, mermaid_name(text))


@PIPELINE
@given(hostile_text, hostile_text, hostile_name.filter(bool), hostile_name, file_stem)
def test_schema_pages_are_safe_and_diagrams_hold(
    tmp_path_factory: pytest.TempPathFactory, title: str, text: str, name: str, value: str, stem: str
) -> None:
    """Hostile titles, descriptions, property names, enum values, defaults and patterns, through `generate`:
    every page renders without a tag or unsafe link from the schema, and every diagram line has its shape."""
    root = tmp_path_factory.mktemp("d")
    (root / "schemas").mkdir()
    try:
        (root / "schemas" / f"{stem}.schema.json").write_text(json.dumps(hostile_schema(title, text, name, value)))
    except OSError:  # a name this file system refuses
        return
    try:
        gen = build(Settings(root / "schemas", root / "generated"))
    except SchemaError as exc:
        assert "would not be the module" not in exc.message
        return
    for path, content in gen.files.items():
        if not path.endswith(".md"):
            continue
        page = content.decode()
        assert_safe_html(page)
        for block in mermaid_blocks(page):
            for line in block.splitlines():
                assert MERMAID_LINE.fullmatch(line), (path, line)
        assert page.count("```mermaid") == len(mermaid_blocks(page))
    heading = gen.files[f"docs/{stem}.md"].decode().splitlines()[0]
    assert heading == f"# {md_inline(gen.database.schemas[0].title)}"


def test_enum_values_and_patterns_with_backticks_stay_in_their_code_spans(tmp_path: Path) -> None:
    value = "a`b``c```"
    schema: dict[str, Any] = hostile_schema("Thing", "d", "kind", value)
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "s.schema.json").write_text(json.dumps(schema))
    gen = build(Settings(tmp_path / "schemas", tmp_path / "generated"))
    page = _page(gen.files["docs/s.md"].decode())
    assert value in page.code  # the enum value, whole, as one code span
    assert any("a`b``c```" in code and "~" in code for code in page.code)  # the pattern's CHECK


@settings(max_examples=100, deadline=None)
@given(text=hostile_text)
def test_remembered_escapes_give_what_they_compute(text: str) -> None:
    """md_cell, md_inline and md_code remember their results for str arguments (big schemas repeat their
    texts): asked twice, they give what the escaping computes; other values are never taken for an equal str."""
    for escape in (md_cell, md_inline, md_code):
        computed = inspect.unwrap(escape)(text)  # the escaping itself, behind the memo
        assert escape(text) == computed and escape(text) == computed
    # not str on purpose: the escapes take any value (their annotation says str, what the docs pass)
    assert [md_code(v) for v in (1, True, 1.0, "1")] == ["`1`", "`True`", "`1.0`", "`1`"]  # type: ignore[arg-type]
