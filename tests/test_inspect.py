"""`schemarel inspect`: the plan of tables and its warnings, as JSON and terminal tables; colour rules."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import run_schemarel
from schemarel.cli.main import main
from schemarel.render.output import current_tree

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
