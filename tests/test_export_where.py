"""`schemarel export --where`: the documents Store.find selects, as a real process; bad filters are one line."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_schemarel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runtime_helpers import GENERATED, customer, migrated_store


def test_export_where_selects_by_values_inside_arrays(tmp_path: Path, db_url: str) -> None:
    store = migrated_store(db_url, "customer")
    ids = store.create_many([customer(i, emails=[f"c{i}@example.{'org' if i % 2 else 'com'}"]) for i in range(6)])
    where = json.dumps({"emails": {"endswith": "@example.org"}, "lastName": "Lovelace"})
    args = ("export", "--schema", "customer", "--out", str(GENERATED), "--db", db_url, "--with-ids")
    result = run_schemarel(tmp_path, *args, "--where", where)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == sorted(str(ids[i]) for i in (1, 3, 5))
    assert all(line["document"] == store.get(line["id"]) for line in lines)
    for bad, message in [("{", "not JSON"), ("[1]", "a JSON object"), ('{"nope": 1}', "no path 'nope'"),
                         # a number no float holds (it filtered by inf), NaN, a key twice (the last one won)
                         ('{"lastName": 1e999}', "1e999 is out of the range of a number"),
                         ('{"lastName": {"eq": NaN}}', "NaN is not a JSON number"),
                         ('{"lastName": "A", "lastName": "B"}', "key 'lastName' is given twice")]:  # fmt: skip
        failed = run_schemarel(tmp_path, *args, "--where", bad)
        assert failed.returncode == 2 and message in failed.stderr and "Traceback" not in failed.stderr, bad
    store.close()


# the customer schema's filterable paths by the JSON type their column holds
TYPED_PATHS = {"firstName": "string", "phoneNumbers.type": "string", "privacySettings.twoFactorEnabled": "boolean"}
OTHER_VALUES = {
    "string": st.one_of(st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False)),
    "boolean": st.one_of(st.text(max_size=5), st.integers(), st.floats(allow_nan=False, allow_infinity=False)),
}
ANY_PATH_VALUES = st.one_of(st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), st.lists(st.integers()))


def test_a_filter_value_the_property_cannot_hold_is_a_usage_error(tmp_path: Path, db_url: str) -> None:
    """`{"privacySettings.twoFactorEnabled": 1.0}` matched `true` documents, an object was a database error
    (exit 1, naming the URL): a value of another JSON type is refused, exit 2, naming the path."""
    store = migrated_store(db_url, "customer")
    store.create_many([customer(i) for i in range(3)])
    args = ("export", "--schema", "customer", "--out", str(GENERATED), "--db", db_url)

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.data(), st.sampled_from(sorted(TYPED_PATHS)), st.sampled_from(["eq", "ne", "lt", "gte", "in"]))
    def refused(data: st.DataObject, path: str, op: str) -> None:
        value = data.draw(st.one_of(OTHER_VALUES[TYPED_PATHS[path]], ANY_PATH_VALUES))
        where = json.dumps({path: {op: [value] if op == "in" else value}})
        result = run_schemarel(tmp_path, *args, "--where", where)
        assert result.returncode == 2, (where, result.stdout, result.stderr)
        assert result.stderr.startswith(f"error: {path}: ") and "is not a value of this property" in result.stderr
        assert result.stdout == ""

    refused()
    store.close()
