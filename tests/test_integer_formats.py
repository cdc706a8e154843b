"""`format: int32`/`int64` (OpenAPI, Kubernetes) narrow the column to INTEGER/BIGINT: a value past that range
was valid by the schema and then refused by the database (ValueRejected; Kubernetes' `replicas:
1492959278994`). It is now refused up front as DocumentInvalid naming the pointer and the bound, on create and
on patch, and nothing is written; a value within the range is stored and read back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from runtime_helpers import drawn_store
from schemarel.errors import DocumentInvalid

EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
SCHEMA: dict[str, Any] = {
    "title": "Deployment",
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "spec": {
            "type": "object",
            "properties": {
                "replicas": {"type": "integer", "format": "int32"},
                "generation": {"type": "integer", "format": "int64"},
                "limits": {"type": "array", "items": {"type": "integer", "format": "int32", "minimum": -5}},
            },
        },
    },
}
FIELDS = {"replicas": "int32", "generation": "int64", "limits": "int32"}


def near_bounds(fmt: str) -> st.SearchStrategy[int]:
    """Integers a little inside or outside the format's range, and far outside it."""
    low, high = BOUNDS[fmt]
    step = st.integers(-3, 3)
    return st.one_of(step.map(lambda d: low + d), step.map(lambda d: high + d), st.integers(-(2**70), 2**70))


def _fits(fmt: str, value: int, field: str) -> bool:
    low, high = BOUNDS[fmt]
    return max(low, -5 if field == "limits" else low) <= value <= high


def test_integers_past_their_format_are_refused_up_front(three_db_url: str, tmp_path: Path) -> None:
    @EXAMPLES
    @given(st.sampled_from(sorted(FIELDS)), st.data())
    def bounded(field: str, data: st.DataObject) -> None:
        fmt = FIELDS[field]
        value = data.draw(near_bounds(fmt))
        held = [value] if field == "limits" else value
        document = {"name": "web", "spec": {field: held}}
        pointer = f"#/spec/{field}" + ("/0" if field == "limits" else "")
        with drawn_store(tmp_path, three_db_url, "deployment", SCHEMA) as store:
            if _fits(fmt, value, field):
                doc_id = store.create(document)
                assert store.get(doc_id) == document
                store.patch(doc_id, {"spec": {field: held}})
                assert store.get(doc_id) == document
                return
            with pytest.raises(DocumentInvalid) as refused:
                store.create(document)
            assert {v.pointer for v in refused.value.violations} == {pointer}, refused.value
            assert store.count() == 0
            doc_id = store.create({"name": "web"})
            with pytest.raises(DocumentInvalid) as patched:
                store.patch(doc_id, {"spec": {field: held}})
            assert {v.pointer for v in patched.value.violations} == {pointer}, patched.value
            assert store.get(doc_id) == {"name": "web"}

    bounded()
