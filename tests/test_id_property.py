"""A document's `id` property: a warning says why it is not the primary key, and switching the key to it works."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import edit_schema, run_schemarel

SCHEMA = "schemas/customer.schema.json"


def _with_id(required: bool, **id_schema: Any) -> Any:
    """The schema of a new project (no generated/ yet) with an `id` property."""

    def change(schema: dict[str, Any]) -> None:
        schema["properties"]["id"] = id_schema
        if required:
            schema["required"].append("id")

    return change


@pytest.mark.parametrize(
    ("required", "id_schema", "why", "advice"),
    [
        (True, {"type": "string", "format": "uuid"}, "the schema does not say its values are unique", True),
        (True, {"type": "integer"}, "the schema does not say its values are unique", True),
        (False, {"type": "string"}, "it is optional, may be null or is not a scalar", False),
        (True, {"type": ["string", "null"]}, "it is optional, may be null or is not a scalar", False),
    ],
)
def test_an_id_property_that_is_not_the_key_is_named_in_a_warning(
    project: Path, required: bool, id_schema: dict[str, Any], why: str, advice: bool
) -> None:
    shutil.rmtree(project / "generated")
    edit_schema(project, _with_id(required, **id_schema))

    result = run_schemarel(project, "generate")

    assert result.returncode == 0, result.stderr
    (line,) = [x for x in result.stderr.splitlines() if "#/properties/id:" in x]
    assert f"property `id` is a plain column, not the primary key ({why}): documents are keyed by `pk`" in line
    assert ('"x-sql": {"primaryKey": {"property": "id"}}' in line) is advice


def test_switching_the_key_to_id_is_a_supported_change(project: Path) -> None:
    shutil.rmtree(project / "generated")
    edit_schema(project, _with_id(True, type="string", format="uuid"))
    assert run_schemarel(project, "generate").returncode == 0

    edit_schema(project, lambda s: s.update({"x-sql": {**s.get("x-sql", {}), "primaryKey": {"property": "id"}}}))
    result = run_schemarel(project, "generate")  # no --allow-destructive: the data is kept (tests/test_key_switch.py)

    assert result.returncode == 0, result.stderr
    assert "destructive" not in result.stderr
    assert json.loads((project / SCHEMA).read_text(encoding="utf-8"))["x-sql"]["primaryKey"] == {"property": "id"}
    (revision,) = (project / "generated" / "migrations" / "versions").glob("0002_*.py")
    code = revision.read_text(encoding="utf-8")
    assert '("key", "customer_profiles", "id")' in code
    assert '"customer_profile_id"' in code and '"customer_profile_pk"' in code
