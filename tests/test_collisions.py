"""Properties of one object whose names meet after snake_casing: renamed with a warning, refused under --strict;
their tables too, down to the items table of an array of arrays (`x` and `X` both made `thing_x_items`: refused)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from conftest import edit_schema, run_schemarel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemarel import naming
from schemarel.normalize.normalizer import normalize
from schemarel.runtime.store import Store
from schemarel.schema.loader import load_schemas

# spellings of one name that snake_case to the same column (`$schema`/`schema`, `schemaVersion`/`SchemaVersion`)
SPELLINGS = (
    lambda w: w[0] + "".join(p.title() for p in w[1:]),
    lambda w: "".join(p.title() for p in w),
    lambda w: "_".join(w),
    lambda w: "$" + w[0] + "".join(p.title() for p in w[1:]),
    lambda w: "-".join(w),
    lambda w: "_".join(w).upper(),
    lambda w: "@" + ".".join(w),
)
TYPES = {"string": st.text(max_size=8), "integer": st.integers(-(2**40), 2**40), "boolean": st.booleans(),
         "matrix": st.lists(st.lists(st.text(max_size=3), max_size=2), max_size=2)}  # fmt: skip
# an array of arrays: a child table and its items' table, both named after the property
SHAPES = {"matrix": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}}}

words = st.lists(st.sampled_from(["schema", "version", "default", "prompt", "id", "name", "ref", "x"]), min_size=1,
                 max_size=3)  # fmt: skip


@st.composite
def colliding_properties(draw: st.DrawFn) -> dict[str, str]:
    """Property name → JSON type: groups of spellings of a few names, in a random order."""
    props: dict[str, str] = {}
    for group in draw(st.lists(words, min_size=1, max_size=4)):
        for spell in draw(st.lists(st.sampled_from(SPELLINGS), min_size=1, max_size=4, unique_by=id)):
            props.setdefault(spell(group), draw(st.sampled_from(sorted(TYPES))))
    order = draw(st.permutations(sorted(props)))
    return {p: props[p] for p in order}


def _schema(props: dict[str, str], nested: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {p: SHAPES.get(t, {"type": t}) for p, t in props.items()}
    if nested:  # the same names inside an optional object (its own table) and a required one (flattened)
        properties["child"] = {"type": "object", "properties": dict(properties)}
        properties["flat"] = {"type": "object", "required": sorted(props), "properties": dict(properties)}
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Thing", "type": "object"}
    return {**schema, "properties": properties, "required": ["flat"] if nested else []}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(props=colliding_properties(), nested=st.booleans(), data=st.data())
def test_colliding_names_always_generate_distinct_deterministic_columns_that_round_trip(
    props: dict[str, str], nested: bool, data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        schemas = Path(tmp) / "schemas"
        schemas.mkdir()
        (schemas / "thing.schema.json").write_text(json.dumps(_schema(props, nested)), encoding="utf-8")
        first, second = (normalize(s) for s in load_schemas(schemas) * 2)
        assert first == second  # deterministic
        for table in first.tables:
            names = [c.name for c in table.columns]
            assert len(names) == len(set(names)), names
        collisions = len(props) - len({naming.snake(p) for p in props})
        warned = [w for w in first.warnings if "is also produced by" in w.message]
        assert len(warned) >= collisions and all(w.pointer.startswith("#/properties/") for w in warned)

        document: dict[str, Any] = {p: data.draw(TYPES[t]) for p, t in props.items() if data.draw(st.booleans())}
        if nested:
            document["flat"] = {p: data.draw(TYPES[t]) for p, t in props.items()}
            document["child"] = {p: data.draw(TYPES[t]) for p, t in props.items() if data.draw(st.booleans())}
        store = Store(f"sqlite:///{tmp}/db.sqlite", "thing", schemas_dir=schemas)
        try:
            store.metadata.create_all(store.engine)
            assert store.get(store.create(document)) == document
        finally:
            store.close()


def test_generate_warns_and_generate_strict_refuses(project: Path) -> None:
    both = {"$schema": {"type": "string"}, "schema": {"type": "string"}}
    edit_schema(project, lambda s: s["properties"].update(both))

    result = run_schemarel(project, "generate")
    assert result.returncode == 0, result.stderr
    warning = (
        "#/properties/schema: column 'schema' of table 'customer_profiles' is also produced by #/properties/$schema"
    )
    assert f"{warning}; stored as 'schema_2'" in result.stderr
    assert "schema_2: Mapped[str | None]" in (project / "generated/models/customer.py").read_text(encoding="utf-8")
    assert run_schemarel(project, "check").returncode == 0

    strict = run_schemarel(project, "generate", "--strict")
    assert strict.returncode == 2 and "is also produced by #/properties/$schema" in strict.stderr


def test_x_sql_column_chooses_which_property_keeps_the_name(project: Path) -> None:
    def change(schema: dict[str, Any]) -> None:
        schema["properties"]["$schema"] = {"type": "string"}
        schema["properties"]["schema"] = {"type": "string", "x-sql": {"column": "schema"}}

    edit_schema(project, change)
    result = run_schemarel(project, "generate")
    assert result.returncode == 0, result.stderr
    assert "#/properties/$schema: column 'schema'" in result.stderr
    model = (project / "generated/models/customer.py").read_text(encoding="utf-8")
    assert "schema: Mapped[str | None]" in model and "schema_2: Mapped[str | None]" in model
