"""The parts of the docs' template contexts that show the model: ER diagrams, the example and its rows."""

from __future__ import annotations

import json
from typing import Any

from schemarel.ir import Database, SchemaModel
from schemarel.render.diagram import er_diagram
from schemarel.render.example import ExampleError, example_document
from schemarel.render.rows import document_rows
from schemarel.schema.loader import SourceSchema


def schema_page(source: SourceSchema, model: SchemaModel, db: Database) -> dict[str, Any]:
    """`diagram`, `example` (pretty JSON, or "" when none could be built), `example_error`, `example_rows`."""
    context: dict[str, Any] = {"diagram": er_diagram(db, model.tables), "example_error": "", "example_rows": ()}
    try:
        document = example_document(source)
    except ExampleError as exc:
        context.update(example="", example_error=str(exc))
        return context
    context["example"] = json.dumps(document, indent=2, ensure_ascii=False)
    context["example_rows"] = document_rows(model, document, source.contents)
    return context


def database_page(db: Database) -> dict[str, Any]:
    """`diagram` of the whole database and `tables`: every table with the schema page that documents it."""
    return {
        "diagram": er_diagram(db),
        "tables": [
            {"name": t.name, "doc": f"{s.name}.md#{t.name}", "purpose": t.purpose, "schema": s.title}
            for s in db.schemas
            for t in s.tables
        ],
    }
