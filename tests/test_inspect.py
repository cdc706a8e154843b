"""`schemarel inspect`: the plan of tables and its warnings, as JSON and terminal tables; colour rules."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import run_schemarel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projects import write_project
from schemarel.cli.main import main
from schemarel.render.output import current_tree
from schemarel.runtime import exactjson
from schemarel.runtime.values import problems

COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7])(?:;[0-9;]*)?m")


def test_json_plan_of_one_schema(project: Path, cli: Any) -> None:
    result = cli(project, "inspect", "customer", "--format", "json")
    assert result.exit_code == 0, result.output
    (schema,) = json.loads(result.stdout)
    tables = {t["name"]: t for t in schema["tables"]}
    assert list(tables) == [
        "customer_profiles",
        "customer_profile_addresses",
        "customer_profile_emails",
        "customer_profile_phone_numbers",
    ]
    emails = tables["customer_profile_emails"]
    assert [(c["name"], c["type"], c["from"]) for c in emails["columns"]] == [
        ("id", "bigserial", "(database)"),
        ("customer_profile_id", "uuid", "(parent's key)"),
        ("email", "varchar(320)", "(array item)"),
    ]
    assert {c["kind"] for c in emails["constraints"]} == {"primary key", "foreign key", "unique", "index"}
    warnings = {(w["where"], w["message"]) for w in schema["warnings"]}
    assert not any(where == "customer_profile_addresses.country" for where, _ in warnings)  # CHECKs enforce both
    assert any("fk_customer_profile_emails__customer_profile_id__customer_profiles" in m for _, m in warnings)
    (sqlite,) = json.loads(cli(project, "inspect", "customer", "--dialect", "sqlite", "--format", "json").stdout)
    assert (
        "customer_profile_addresses.country",
        "`pattern`: only JSON Schema validation enforces it, not the column",  # a regex CHECK is PostgreSQL's
    ) in {(w["where"], w["message"]) for w in sqlite["warnings"]}


def test_warnings_for_json_columns_external_tables_and_sqlite_enums(project: Path, cli: Any) -> None:
    (profile,) = json.loads(cli(project, "inspect", "schemas/profile.schema.json", "--format", "json").stdout)
    messages = [w["message"] for w in profile["warnings"]]
    assert any(m.startswith("stored as one JSON value") for m in messages)
    assert any("references `users`, which schemarel does not create" in m for m in messages)
    assert profile["tables"][0]["columns"][4]["type"] == "jsonb"
    (customer,) = json.loads(cli(project, "inspect", "customer", "--dialect", "sqlite", "--format", "json").stdout)
    assert any("SQLite has no enum types" in w["message"] for w in customer["warnings"])
    assert customer["tables"][0]["columns"][0]["type"] == "char(32)"  # sqlite's spelling of a uuid


def test_terminal_tables_write_nothing(project: Path) -> None:
    before = current_tree(project)
    result = run_schemarel(project, "inspect")
    assert result.returncode == 0, result.stderr
    for name in ("customer_profile_phone_numbers (array, child of customer_profiles)", "profiles (root)", "warnings"):
        assert name in result.stdout
    assert not COLOUR.search(result.stdout)  # not a terminal: no colour
    assert current_tree(project) == before


def test_unknown_schema_is_a_usage_error(project: Path) -> None:
    result = run_schemarel(project, "inspect", "invoices")
    assert result.returncode == 2
    assert "invoices: no such schema; known schemas: customer, profile" in result.stderr


@pytest.mark.parametrize("no_color", ["", "1"])
def test_no_color_turns_colour_off(project: Path, no_color: str, monkeypatch: pytest.MonkeyPatch) -> None:
    forced = run_schemarel(project, "inspect", "profile", env={"FORCE_COLOR": "1", "NO_COLOR": no_color})
    assert bool(COLOUR.search(forced.stdout)) is not bool(no_color)
    (project / "generated/docs/index.md").write_text("stale\n")
    env = {"NO_COLOR": no_color} if no_color else {}
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["check"], color=True, env=env)
    assert result.exit_code == 1
    assert bool(COLOUR.search(result.output)) is not bool(no_color)


# an example document's text that `load` and the Store refuse: a key given twice, or NaN / Infinity for a number
KEYS = st.text("abcxyz", min_size=1, max_size=4)
OBJECTS = st.dictionaries(KEYS, st.one_of(st.integers(), st.text("pq ", max_size=3)), min_size=1, max_size=4)


@st.composite
def refused_examples(draw: st.DrawFn) -> tuple[str, str]:
    """(the example's text, the violation `load` names: pointer and reason)."""
    obj = draw(OBJECTS)
    prefix = draw(st.lists(KEYS, max_size=2))
    key = draw(st.sampled_from(sorted(obj)))
    inner = json.dumps(obj, indent=draw(st.sampled_from([None, 2])))
    pointer = "#/" + "/".join([*prefix, key])
    if draw(st.booleans()):
        inner = inner[: inner.rindex("}")] + f', "{key}": 1}}'
        reason = f"key {key!r} is given twice"
    else:
        constant = draw(st.sampled_from(["NaN", "Infinity", "-Infinity"]))
        obj[key] = "@"
        inner = json.dumps(obj).replace('"@"', constant)
        reason = f"{constant} is not a JSON number"
    for step in reversed(prefix):
        inner = f'{{"{step}": {inner}}}'
    return inner, f"{pointer}: {reason}"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=refused_examples())
def test_an_example_load_refuses_is_refused_with_loads_words(tmp_path: Path, case: tuple[str, str]) -> None:
    """`inspect --example` took a document giving a key twice or a NaN (the last key won, NaN counted as text)."""
    text, said = case
    root = write_project(tmp_path / uuid.uuid4().hex, {"thing": {"type": "object"}})
    (root / "example.json").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["inspect", "thing", "--schemas", str(root / "schemas"), "--example",
                                       str(root / "example.json")])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"example.json: not a JSON document ({said})" in " ".join(result.output.split()), result.output
    (found,) = problems(exactjson.loads(text)).invalid  # what `load` and the Store say of it
    assert str(found) == said
