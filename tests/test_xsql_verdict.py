"""`x-sql` annotations judged by jsonschema-rs: reading schemas (every load does) never imports jsonschema."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st
from runtime_helpers import GENERATED
from schemarel.schema import loader
from schemarel.schema.xsql import XSQL_SCHEMA

KEYS = [*XSQL_SCHEMA["properties"], "other", "Table"]
NAMES = st.sampled_from(["id", "a_b", "Name", "a-b", "_x9", "9x", "", "abc\n", "é", "a b"]) | st.text(max_size=6)
TYPES = st.sampled_from(["text", "uuid", "varchar(20)", "varchar()", "numeric(10, 2)", "numeric(10,2)",
                         "numeric(1٠)", "json\n", "TEXT", "float ", "datetime"])  # fmt: skip
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | NAMES | TYPES
VALUES = st.recursive(
    SCALARS | st.sampled_from(["uuid", "identity", "table", "flatten", "json", "CASCADE", "SET NULL", "NO ACTION"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["property", "table", "column",
                                                                                "onDelete", "x"]), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip
NEAR = {  # values close to valid ones, so that about half the annotations drawn are
    "table": NAMES, "column": NAMES, "type": TYPES, "renamedFrom": NAMES,
    "primaryKey": st.sampled_from(["uuid", "identity", "key"]) | st.fixed_dictionaries({"property": NAMES}),
    "storage": st.sampled_from(["table", "flatten", "json", "JSON"]),
    "unique": st.booleans() | st.integers(0, 1), "index": st.booleans(), "timestamps": st.booleans(),
    "references": st.fixed_dictionaries({"table": NAMES}, optional={"column": NAMES, "onDelete": SCALARS}),
    "renamedValues": st.dictionaries(NAMES, NAMES | st.integers(), max_size=2),
}  # fmt: skip
ANNOTATIONS = (
    st.fixed_dictionaries({}, optional=NEAR) | st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=4) | VALUES
)


@settings(max_examples=400, deadline=None)
@given(ANNOTATIONS)
def test_jsonschema_rs_passes_no_annotation_jsonschema_refuses(annotation: Any) -> None:
    """Where the fast verdict is "valid", jsonschema finds nothing either (where it is "invalid", jsonschema
    decides again and words the error, so a stricter fast reading changes nothing)."""
    if loader._fast_xsql_verdict([annotation]):
        assert list(jsonschema.Draft202012Validator(XSQL_SCHEMA).iter_errors(annotation)) == []


def test_reading_the_schemas_of_a_store_imports_no_jsonschema() -> None:
    """A load reads the schema copies (x-sql annotations included): importing jsonschema, or reading its copies
    of every draft's metaschema (jsonschema_specifications), takes longer than checking them."""
    code = (
        "import sys\nfrom schemarel.runtime.source import from_generated\n"
        f"from_generated({str(GENERATED)!r})\n"
        "print(sorted({'jsonschema', 'jsonschema_specifications'} & set(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "[]\n"), result.stderr
