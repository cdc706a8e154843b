"""Real-world configuration and data formats (tests/data/realworld, see PROVENANCE.md: package tooling, CI,
containers, cloud resources, SBOMs, notebooks, charts, linked data; drafts 4 to 2020-12): each generates, is
`check` clean, upgrades SQLite, PostgreSQL and MariaDB, and its example documents are stored and read back
exactly there by the Store (`create`, `get`, `items`), and through `load` and `export` on PostgreSQL."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import run_schemarel
from projects import generate
from runtime_helpers import same_json
from schemarel.runtime import exactjson
from schemarel.runtime.store import Store

DATA = Path(__file__).parent / "data" / "realworld"
# (schema, what it exercises); the example documents are `<schema>.examples.ndjson`
SCHEMAS = [
    "appsettings",  # draft-04 maps of enums, nullable integers
    "azure-pipelines",  # anyOf of arrays, strings and objects; nested job arrays
    "babelrc",  # tuples in anyOf, recursion through env/overrides
    "cargo",  # maps of string | detailed dependency, profiles keyed by name
    "cfn-s3-bucket",  # const Type, intrinsic functions, uniqueItems of objects
    "cyclonedx-bom",  # recursive components, oneOf of arrays, hash patterns
    "deno",  # patternProperties tasks of string | object, oneOf boolean | enum
    "devcontainer",  # type arrays with items/additionalProperties, integer | string ports
    "eslintrc",  # draft-04 rules without type (allOf of property sets), globals maps
    "geojson-feature",  # oneOf of geometries with nested coordinate arrays, null geometry
    "github-action",  # runs oneOf with const `using`, closed patternProperties maps
    "grafana-dashboard",  # recursive panels, big numbers (2^64, 1e29, -2^63), nullable thresholds
    "har",  # HTTP archive: -1 sentinels, long fractions, ipv4 | ipv6
    "helm-values",  # free-form objects, string | number | boolean values
    "json-patch",  # a root array of operations
    "k8s-deployment",  # int-or-string, quantities, nested containers and probes
    "lerna",  # nested command objects, string | array
    "nbformat4",  # oneOf cells and outputs by enum, multiline strings, mimebundles
    "openapi31-info",  # 2020-12 unevaluatedProperties, dependentSchemas, if/then, x- extensions by $ref
    "prettierrc",  # a root oneOf of an object and a string
    "prettierrc-object",  # overrides with options by $ref, oneOf enums
    "pyproject-project",  # readme/license oneOf, entry-point maps, if/not/contains
    "renovate",  # $ref "#" recursion in packageRules, defaults on JSON columns
    "schemaorg-person",  # 2019-09 JSON-LD: $ref to a base beside properties, unevaluatedProperties
    "vega-lite-bar",  # anyOf with null, const strings, tuples of mixed scalars
    "w3c-vc",  # 2020-12 prefixItems, contains, string | object issuer
]


def examples(name: str) -> list[Any]:
    return [exactjson.loads(line) for line in (DATA / f"{name}.examples.ndjson").read_text("utf-8").split("\n") if line]


def store_round_trip(root: Path, name: str, url: str, documents: list[Any]) -> None:
    with Store(url, name, source=root / "generated") as store:
        ids = [store.create(document) for document in documents]
        for doc_id, document in zip(ids, documents, strict=True):
            got = store.get(doc_id)
            assert same_json(got, document), (name, url.split(":")[0], document, got)
        listed = dict(store.items())
        assert all(same_json(listed[i], d) for i, d in zip(ids, documents, strict=True))


@pytest.mark.parametrize("name", SCHEMAS)
def test_real_world_schema_round_trips(
    name: str, tmp_path: Path, sqlite_url: str, postgres_url: str, mysql_url: str
) -> None:
    root = tmp_path / "project"
    (root / "schemas").mkdir(parents=True)
    shutil.copy(DATA / f"{name}.schema.json", root / "schemas")
    result = generate(root)
    assert result.exit_code == 0, result.output
    assert run_schemarel(root, "check").returncode == 0
    documents = examples(name)
    assert documents
    for url in (sqlite_url, postgres_url, mysql_url):
        upgraded = run_schemarel(root, "upgrade", "--db", url)
        assert upgraded.returncode == 0, upgraded.stderr
        store_round_trip(root, name, url, documents)
    source = DATA / f"{name}.examples.ndjson"
    loaded = run_schemarel(root, "load", str(source), "--schema", name, "--db", postgres_url)
    assert loaded.returncode == 0, loaded.stderr
    exported = run_schemarel(root, "export", "--schema", name, "--db", postgres_url)
    assert exported.returncode == 0, exported.stderr
    back = [exactjson.loads(line) for line in exported.stdout.split("\n") if line]
    # the Store's documents first (created above), then the loaded ones, each in order
    assert len(back) == 2 * len(documents)
    assert all(same_json(got, sent) for got, sent in zip(back, documents * 2, strict=True)), name


def test_every_fixture_is_listed() -> None:
    """A schema added to the folder without a line here would never run."""
    elsewhere = {"openapi-3.0", "global-json"}  # test_recursive_unions.py, test_pattern_names.py
    found = {p.name.removesuffix(".schema.json") for p in DATA.glob("*.schema.json")}
    assert found - elsewhere == set(SCHEMAS)
    assert all(json.loads((DATA / f"{n}.schema.json").read_text("utf-8")) for n in SCHEMAS)
