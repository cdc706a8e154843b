"""What a new reader of the output sees: table purposes, the diagram legend, the site's menu, ignored defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from projects import model
from schemarel.ir import Database
from schemarel.render.diagram import er_diagram
from schemarel.render.site import _config

ITEMS = {"type": "object", "properties": {"sku": {"type": "string"}}}


def _doc(properties: dict[str, Any]) -> dict[str, Any]:
    return {"title": "Order", "type": "object", "properties": properties}


def test_child_tables_without_a_description_say_what_they_hold(tmp_path: Path) -> None:
    m = model(tmp_path, _doc({"lineItems": {"type": "array", "items": ITEMS}, "shipping": ITEMS}))
    purposes = {t.name: t.purpose for t in m.tables}
    assert purposes["order_line_items"] == "The items of `lineItems` of rows of `orders`, one row each (1:N)."
    assert purposes["order_shippings"] == "The `shipping` object of rows of `orders` (1:1)."
    described = model(tmp_path / "d", _doc({"tags": {"type": "array", "description": "Labels. Free text.", "items": {
        "type": "string"}}}))  # fmt: skip
    assert described.tables[1].purpose == "Labels (1:N)."


@pytest.mark.parametrize(
    ("properties", "shown", "not_shown"),
    [
        (
            {"lineItems": {"type": "array", "items": ITEMS}},
            ["`||..o{`", "(1:N)", "A dashed line is not identifying"],
            ["o|", "solid", "1:1", "dashed one"],
        ),
        ({"shipping": ITEMS}, ["`||--o|`", "(1:1)", "A solid line is identifying"], ["o{", "dashed", "1:N"]),
        (
            {"lineItems": {"type": "array", "items": ITEMS}, "shipping": ITEMS},
            ["`||..o{`", "`||--o|`", "solid line", "a dashed one is not"],
            [],
        ),
        ({"n": {"type": "integer"}}, [], ["`"]),
    ],
)
def test_the_legend_explains_only_what_the_diagram_shows(
    tmp_path: Path, properties: dict[str, Any], shown: list[str], not_shown: list[str]
) -> None:
    legend = er_diagram(Database((model(tmp_path, _doc(properties)),))).legend
    for part in shown:
        assert part in legend
    for part in not_shown:
        assert part not in legend


def test_the_sites_menu_names_each_migration_by_its_message(tmp_path: Path) -> None:
    stage = tmp_path / "docs"
    pages = [stage / "index.md", stage / "migrations/0001_create_orders.md", stage / "migrations/0002_add_note.md"]
    texts = {
        pages[0]: "# Orders\n",
        pages[1]: "# Order Migration\n\n- **Revision**: `0001` (initial schema: create orders)\n",
        pages[2]: "# Order Migration\n\n- **Revision**: `0002` (add orders.note)\n",
    }
    nav = _config(stage, pages, texts)["nav"]
    assert isinstance(nav, list)  # the config is typed `object` per key
    assert nav[1] == {"Migrations": [
        {"0001 · initial schema: create orders": "migrations/0001_create_orders.md"},
        {"0002 · add orders.note": "migrations/0002_add_note.md"},
    ]}  # fmt: skip


@pytest.mark.parametrize("default", [{}, [], {"a": 1}])
def test_a_default_on_a_json_property_is_not_dropped_silently(tmp_path: Path, default: Any) -> None:
    m = model(tmp_path, _doc({"meta": {"type": "object", "default": default}, "n": {"type": "integer", "default": 1}}))
    (warning,) = m.warnings
    assert (
        warning.pointer == "#/properties/meta/default" and "is not applied: JSON column orders.meta" in warning.message
    )


def test_a_default_on_a_required_json_property_is_said_to_be_filled_in_by_the_store(tmp_path: Path) -> None:
    schema = {**_doc({"meta": {"type": "object", "default": {"a": 1}}}), "required": ["meta"]}
    (warning,) = model(tmp_path, schema).warnings
    assert warning.pointer == "#/properties/meta/default"
    assert "is filled in by the Store only: JSON column orders.meta gets no server default" in warning.message
