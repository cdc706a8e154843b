"""Property-based round trip: get(create(d)) == d for generated valid documents of every schema."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from runtime_helpers import SCHEMAS, TEST_SCHEMAS, add_users, open_store, same_json
from schemarel.runtime.store import Store
from schemarel.schema.loader import schema_files

pytestmark = pytest.mark.filterwarnings("ignore:Overriding standard format:hypothesis.errors.HypothesisWarning")
CASES = [(SCHEMAS, p.name.removesuffix(".schema.json")) for p in schema_files(SCHEMAS)]
CASES.append((TEST_SCHEMAS, "order"))  # nested arrays, formats, nullable and optional flattened values
# hypothesis-jsonschema knows no `uuid` format (JSON Schema 2019-09) at all; other spellings of date-times are
# in tests/test_value_fidelity.py.
FORMATS = {
    "uuid": st.uuids().map(str),
    "date-time": st.datetimes(timezones=st.just(dt.timezone.utc)).map(lambda d: d.isoformat().replace("+00:00", "Z")),
}
EXAMPLES = settings(
    max_examples=15,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: it can take minutes on a busy machine
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def documents(store: Store) -> st.SearchStrategy[Any]:
    """Valid documents the database can hold: no NUL characters (PostgreSQL text refuses them)."""
    schema = json.loads((store_schema_path(store)).read_text())
    return from_schema(schema, custom_formats=FORMATS).filter(
        lambda d: "\\u0000" not in json.dumps(d) and not store.validator.violations(d)
    )


def store_schema_path(store: Store) -> Path:
    assert store.schemas_dir is not None  # the stores here are built from schema files
    return next(p for p in schema_files(store.schemas_dir) if p.name == f"{store.name}.schema.json")


def references(store: Store, document: dict[str, Any]) -> list[str]:
    """Values the document points at in tables of another system (`users.id`), which must exist first."""
    root = store.root
    columns = {fk.columns[0] for fk in root.table.foreign_keys if fk.external}
    return [document[f.path[0]] for f in root.fields if f.column in columns and f.path and f.path[0] in document]


@pytest.mark.parametrize(("schemas_dir", "name"), CASES, ids=[name for _, name in CASES])
def test_get_returns_what_create_stored(db_url: str, schemas_dir: Path, name: str) -> None:
    store = open_store(db_url, name, schemas_dir)

    @EXAMPLES
    @given(st.data())
    def round_trip(data: st.DataObject) -> None:
        document = data.draw(documents(store))
        refs = references(store, document)
        if not refs:
            doc_id = store.create(document)
            assert same_json(store.get(doc_id), document)
            return
        # a document pointing at a user: create both in one transaction, like registration code, then undo
        with store.engine.connect() as conn, conn.begin() as transaction:
            add_users(store, refs, conn)
            doc_id = store.create(document, conn=conn)
            assert same_json(store.get(doc_id, conn=conn), document)
            transaction.rollback()

    round_trip()
