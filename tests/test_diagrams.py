"""ER diagrams: cardinalities and keys from the constraints, and every generated diagram renders in Mermaid."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import REPO, run_schemarel
from schemarel.render.mermaid import MermaidError, mermaid_blocks, render_svgs

DATA = Path(__file__).parent / "data" / "publish"


@pytest.fixture(scope="module")
def order_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's schemas plus an order schema with nested arrays, a $ref, enums and an external key."""
    root = tmp_path_factory.mktemp("orders")
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copy(DATA / "order.schema.json", root / "schemas")
    result = run_schemarel(root, "generate", env={"SOURCE_DATE_EPOCH": "0"})
    assert result.returncode == 0, result.stderr
    return root


def _diagram(markdown: str) -> str:
    (block,) = mermaid_blocks(markdown)
    return block


def _relationships(diagram: str) -> set[str]:
    return {" ".join(line.split()) for line in diagram.splitlines() if re.search(r"[|}][|o][-.]{2}", line)}


def test_cardinalities_follow_the_constraints(order_project: Path) -> None:
    diagram = _diagram((order_project / "generated/docs/order.md").read_text())
    assert _relationships(diagram) == {
        'purchase_orders ||--o| purchase_order_shippings : "shipping"',  # PK = FK: identifying 1:1
        'purchase_orders ||..o{ order_lines : "lines"',  # surrogate key: non-identifying 1:N
        'order_lines ||..o{ order_line_discounts : "discounts"',  # an array inside an array item
        'purchase_orders ||..o{ purchase_order_tags : "tags"',
        'accounts ||..o{ purchase_orders : "account_id"',  # a key to a table another system owns
    }
    profile = _diagram((order_project / "generated/docs/profile.md").read_text())
    assert 'users ||..o| profiles : "user_id"' in profile  # a unique foreign key is 1:1


def test_keys_are_marked_and_types_are_single_words(order_project: Path) -> None:
    diagram = _diagram((order_project / "generated/docs/order.md").read_text())
    lines = {" ".join(line.split()) for line in diagram.splitlines()}
    assert "uuid purchase_order_id PK, FK" in lines
    assert "varchar(9) number UK" in lines
    assert "bigint order_line_id FK" in lines
    assert "timestamptz placed_at" in lines
    assert 'uuid id PK "owned by another system"' in lines  # the stub of the external `accounts`


def test_the_index_draws_the_whole_database(order_project: Path) -> None:
    diagram = _diagram((order_project / "generated/docs/index.md").read_text())
    entities = set(re.findall(r"^    (\w+) \{$", diagram, re.M))
    assert {"customer_profiles", "customer_profile_emails", "profiles", "purchase_orders", "order_lines"} <= entities
    assert {"users", "accounts"} <= entities


@pytest.mark.browser
def test_every_generated_diagram_renders(mermaid_cli: str, order_project: Path) -> None:
    pages = sorted((REPO / "generated/docs").rglob("*.md")) + sorted((order_project / "generated/docs").rglob("*.md"))
    # the committed docs and those of a richer project; a diagram both have is rendered once
    diagrams = list(dict.fromkeys(d for page in pages for d in mermaid_blocks(page.read_text(encoding="utf-8"))))
    assert len(diagrams) == 5  # customer, profile, order, and the two whole-database diagrams
    svgs = render_svgs(diagrams)
    for diagram, svg in zip(diagrams, svgs, strict=True):
        assert svg.lstrip().startswith("<svg")
        for entity in re.findall(r"^    (\w+) \{$", diagram, re.M):
            assert f">{entity}<" in svg, f"{entity} is not drawn"


@pytest.mark.browser
def test_a_syntax_error_fails_and_names_the_diagram(mermaid_cli: str) -> None:
    good = "erDiagram\n    a {\n        text id PK\n    }\n"
    bad = "erDiagram\n    a ||--o{ b\n"  # a relationship needs a label
    with pytest.raises(MermaidError, match=r"diagram 2 does not render: .*Parse error"):
        render_svgs([good, bad])
