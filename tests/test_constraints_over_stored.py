"""A unique constraint or a CHECK added over stored data (`"x-sql": {"unique": true}`, `uniqueItems`,
`minLength`, `maximum`, `pattern`, an enum narrowed to one value) is refused before anything changes when
rows do not fit it, naming the table, the columns and the values.

Random documents (values from a small alphabet, so that they repeat, and absent ones) on SQLite, PostgreSQL
and MariaDB: the upgrade refuses exactly when Python finds a value held twice (NULLs never repeat in a unique
constraint) or one the keyword refuses (a pattern only on PostgreSQL, the one database with its CHECK), with
the count of rows; the database is then as it was (MariaDB, which commits each statement, kept the column's
new type and a journal before), and otherwise the documents read back as loaded.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pathtools import rows, shape
from projects import generate, invoke, write_project
from schemarel.naming import counted

VALUE: dict[str, Any] = {"type": "string", "maxLength": 20}
INTEGER: dict[str, Any] = {"type": "integer"}
ONE_OF_TWO: dict[str, Any] = {"type": "string", "enum": ["a", "b"]}
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {  # property before, after, what the refusal names
    "scalar": (VALUE, {**VALUE, "x-sql": {"unique": True}}, "`things` (n) repeats values in"),
    "items": ({"type": "array", "items": VALUE}, {"type": "array", "items": VALUE, "uniqueItems": True},
              "`thing_ns` (thing_id, n) repeats values in"),
    "min_length": (VALUE, {**VALUE, "minLength": 2}, "`things.n` holds"),
    "maximum": (INTEGER, {**INTEGER, "maximum": 10}, "`things.n` holds"),
    "pattern": (VALUE, {**VALUE, "pattern": "^a+$"}, "`things.n` holds"),
    "enum": (ONE_OF_TWO, {**ONE_OF_TWO, "enum": ["a"]}, "`things.n` holds"),
}  # fmt: skip
values = st.sampled_from(["a", "b", "A", "a "])
texts = st.text("ab", max_size=3)
documents = {
    "scalar": st.lists(st.fixed_dictionaries({}, optional={"n": values}), min_size=1, max_size=5),
    "items": st.lists(st.fixed_dictionaries({"n": st.lists(values, max_size=3)}), min_size=1, max_size=3),
    "min_length": st.lists(st.fixed_dictionaries({}, optional={"n": texts}), min_size=1, max_size=4),
    "maximum": st.lists(st.fixed_dictionaries({}, optional={"n": st.integers(-5, 20)}), min_size=1, max_size=4),
    "pattern": st.lists(st.fixed_dictionaries({}, optional={"n": texts}), min_size=1, max_size=4),
    "enum": st.lists(st.fixed_dictionaries({}, optional={"n": st.sampled_from(["a", "b"])}), min_size=1, max_size=4),
}
# per CHECK case: whether the new keyword refuses a stored value, read by Python
REFUSED: dict[str, Callable[[Any, str], bool]] = {
    "min_length": lambda v, url: len(v) < 2,
    "maximum": lambda v, url: v > 10,
    "pattern": lambda v, url: "postgres" in url and not re.fullmatch("a+", v),
    "enum": lambda v, url: v != "a",
}


def _schema(prop: dict[str, Any]) -> dict[str, Any]:
    return {"title": "Thing", "type": "object", "properties": {"n": prop}}


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Per case: the project with both revisions, and a copy at the first (its models load the documents)."""
    made = {}
    for name, (before, after, _) in CASES.items():
        root, first = tmp_path_factory.mktemp(name), tmp_path_factory.mktemp(f"{name}-first")
        for project, schemas in ((first, [before]), (root, [before, after])):
            for prop in schemas:
                write_project(project, {"thing": _schema(prop)})
                assert generate(project).exit_code == 0
        made[name] = (root, first)
    return made


def repeats(case: str, docs: list[dict[str, Any]], url: str) -> int:
    """How many rows the new constraint refuses: for a unique one, those holding a value another row holds too,
    compared as Python compares strings on every database ('A' and 'a ' are not 'a': schemarel's string columns
    are binary on MariaDB, see sql/kinds.py)."""
    if case in REFUSED:
        return sum(1 for d in docs if "n" in d and REFUSED[case](d["n"], url))
    if case == "scalar":
        held = Counter(d["n"] for d in docs if "n" in d)
        return sum(n for n in held.values() if n > 1)
    return sum(n for d in docs for n in Counter(d["n"]).values() if n > 1)


@pytest.mark.parametrize("case", list(CASES))
def test_rows_a_new_constraint_refuses_are_refused_first(
    projects: dict[str, tuple[Path, Path]], three_db_url: str, case: str
) -> None:
    root, first = projects[case]
    url = three_db_url

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    @given(documents[case])
    def run(docs: list[dict[str, Any]]) -> None:
        assert invoke(root, "upgrade", "0001", "--db", url).exit_code == 0
        try:
            (first / "docs.ndjson").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
            loaded = invoke(first, "load", "--schema", "thing", "docs.ndjson", "--db", url)
            assert loaded.exit_code == 0, loaded.output
            before = (shape(url), rows(url))
            upgraded = invoke(root, "upgrade", "--db", url)
            found = repeats(case, docs, url)
            if found:
                assert upgraded.exit_code == 1, upgraded.output
                assert "refused before changing anything" in upgraded.output
                counts = counted(found, "value" if case in REFUSED else "row")
                assert f"{CASES[case][2]} {counts}" in upgraded.output, upgraded.output
                assert (shape(url), rows(url)) == before, "the refused upgrade changed the database"
            else:
                assert upgraded.exit_code == 0, upgraded.output
                exported = invoke(root, "export", "--schema", "thing", "--db", url)
                assert sorted(map(json.loads, exported.output.splitlines()), key=repr) == sorted(docs, key=repr)
        finally:
            assert invoke(root, "downgrade", "base", "--db", url).exit_code == 0

    run()
