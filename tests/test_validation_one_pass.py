"""A document's validation lists every fault in one pass, formats included, each at its JSON pointer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from schemarel.runtime.validation import DocumentValidator
from schemarel.schema.loader import load_schemas

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Event",
    "type": "object",
    "required": ["at", "day", "id", "contact", "kind", "count", "tags"],
    "properties": {
        "at": {"type": "string", "format": "date-time"},
        "day": {"type": "string", "format": "date"},
        "id": {"type": "string", "format": "uuid"},
        "contact": {"type": "string", "format": "email"},
        "site": {"type": "string", "format": "uri"},
        "host": {"type": "string", "format": "ipv4"},
        "kind": {"enum": ["a", "b"]},
        "count": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string", "format": "date-time"}},
    },
}
VALID = {
    "at": "2024-05-01T10:00:00Z",
    "day": "2024-05-01",
    "id": "7d444840-9dc0-11d1-b245-5ffdce74fad2",
    "contact": "ada@example.org",
    "site": "https://example.org/a",
    "host": "10.0.0.1",
    "kind": "a",
    "count": 3,
    "tags": ["2024-05-01T10:00:00+02:00", "2024-05-02T10:00:00Z"],
}
# (pointer, path, a bad value): the formats jsonschema checks only with optional packages come first
FAULTS = [
    ("#/at", ("at",), "2024-13-01T10:00:00Z"),
    ("#/at", ("at",), "yesterday"),
    ("#/tags/1", ("tags", 1), "2024-05-02 10:00"),
    ("#/site", ("site",), "not a uri"),
    ("#/day", ("day",), "2024-02-30"),
    ("#/id", ("id",), "xyz"),
    ("#/contact", ("contact",), "nobody"),
    ("#/host", ("host",), "999.1.1.1"),
    ("#/kind", ("kind",), "c"),
    ("#/count", ("count",), -1),
    ("#/count", ("count",), "3"),
]


def _validator(tmp_path: Path) -> DocumentValidator:
    (tmp_path / "event.schema.json").write_text(json.dumps(SCHEMA))
    sources = load_schemas(tmp_path)
    return DocumentValidator(sources[0], sources)


def _put(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    node: Any = document
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


def test_the_valid_document_is_valid(tmp_path: Path) -> None:
    assert _validator(tmp_path).violations(VALID) == []


@settings(max_examples=150, deadline=None)
@given(chosen=st.lists(st.sampled_from(FAULTS), min_size=1, max_size=6, unique_by=lambda f: f[0]))
def test_every_fault_is_listed_at_once(tmp_path_factory: Any, chosen: list[tuple[str, tuple[Any, ...], Any]]) -> None:
    validator = _validator(tmp_path_factory.mktemp("event"))
    document = json.loads(json.dumps(VALID))
    for _, path, value in chosen:
        _put(document, path, value)
    found = validator.violations(document)
    assert {v.pointer for v in found} == {pointer for pointer, _, _ in chosen}, found
