"""`schemarel export --where`: the documents Store.find selects, as a real process; bad filters are one line."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_schemarel
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
    for bad, message in [("{", "not JSON"), ("[1]", "a JSON object"), ('{"nope": 1}', "no path 'nope'")]:
        failed = run_schemarel(tmp_path, *args, "--where", bad)
        assert failed.returncode == 2 and message in failed.stderr and "Traceback" not in failed.stderr, bad
    store.close()
