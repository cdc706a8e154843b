"""The destructive-change guard, `check` on a broken history, and the doc of an incremental revision."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import run_schemarel

FIXTURES = Path(__file__).parent / "evolution"


@pytest.fixture
def fresh(tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project at revision 0001 of tests/evolution/v1.customer.schema.json."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    root = tmp_path / "project"
    (root / "schemas").mkdir(parents=True)
    shutil.copy(FIXTURES / "v1.customer.schema.json", root / "schemas" / "customer.schema.json")
    assert cli(root, "generate").exit_code == 0
    return root


def edit(root: Path, change: Any) -> None:
    path = root / "schemas" / "customer.schema.json"
    schema = json.loads(path.read_text())
    change(schema)
    path.write_text(json.dumps(schema, indent=2))


def destructive(schema: dict[str, Any]) -> None:
    p = schema["properties"]
    del p["middleName"]  # drop a column
    del p["address"]  # drop a table
    p["phoneNumbers"]["items"]["properties"]["number"]["maxLength"] = 10  # narrow a type
    p["phoneNumbers"]["items"]["properties"]["type"]["enum"].remove("other")  # remove an enum value
    schema["required"].append("nickname")
    p["nickname"] = {"type": "string"}  # a required column without default on a table with rows
    p["privacySettings"]["properties"]["twoFactorEnabled"]["type"] = ["boolean", "null"]  # (safe: NOT NULL → NULL)


def test_guard_refuses_each_destructive_change_and_writes_nothing(fresh: Path) -> None:
    edit(fresh, destructive)
    before = {p: p.read_bytes() for p in (fresh / "generated").rglob("*") if p.is_file()}
    result = run_schemarel(fresh, "generate")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    expected = {
        "#/properties/middleName": "drops column `customer_profiles.middle_name`",
        "#/properties/address": "drops table `customer_profile_addresses`",
        "#/properties/phoneNumbers/items/properties/number": "narrows",
        "#/properties/phoneNumbers/items/properties/type": "removes value 'other'",
        "#/properties/nickname": "adds required column `customer_profiles.nickname` without a default",
    }
    for pointer, reason in expected.items():
        assert any(f"customer.schema.json{pointer}:" in line and reason in line for line in lines), (pointer, lines)
    assert len([line for line in lines if line.startswith("  ")]) == len(expected)
    after = {p: p.read_bytes() for p in (fresh / "generated").rglob("*") if p.is_file()}
    assert after == before

    allowed = run_schemarel(fresh, "generate", "--allow-destructive")
    assert allowed.returncode == 0, allowed.stderr
    assert "new revision 0002" in allowed.stdout
    assert run_schemarel(fresh, "check").returncode == 0


def test_not_null_without_default_is_refused_and_with_a_default_backfills(fresh: Path, cli: Any) -> None:
    edit(fresh, lambda s: s["required"].append("middleName"))
    result = cli(fresh, "generate")
    assert result.exit_code == 2
    assert "makes `customer_profiles.middle_name` NOT NULL without a default" in result.output

    edit(fresh, lambda s: s["properties"]["middleName"].update(default=""))
    result = cli(fresh, "generate")
    assert result.exit_code == 0, result.output
    revision = next((fresh / "generated/migrations/versions").glob("0002_*.py")).read_text()
    assert "backfill(op.get_bind(), 'customer_profiles', 'middle_name', '')" in revision


def test_no_op_regeneration_writes_nothing(fresh: Path, cli: Any) -> None:
    stamp = {p: p.stat().st_mtime_ns for p in (fresh / "generated").rglob("*") if p.is_file()}
    result = cli(fresh, "generate")
    assert result.exit_code == 0 and "is up to date" in result.output
    assert {p: p.stat().st_mtime_ns for p in (fresh / "generated").rglob("*") if p.is_file()} == stamp


def test_check_fails_when_the_schema_changed_without_a_revision(fresh: Path) -> None:
    edit(fresh, lambda s: s["properties"].update(nickname={"type": "string"}))
    result = run_schemarel(fresh, "check")
    assert result.returncode == 1
    assert "the schema changed but no revision was generated" in result.stderr


def test_check_fails_with_one_line_when_a_revision_file_is_missing(fresh: Path) -> None:
    next((fresh / "generated/migrations/versions").glob("0001_*.py")).unlink()
    result = run_schemarel(fresh, "check")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "file of revision 0001 is missing" in result.stderr


def test_check_fails_when_snapshots_do_not_chain(fresh: Path, cli: Any) -> None:
    edit(fresh, lambda s: s["properties"].update(nickname={"type": "string"}))
    assert cli(fresh, "generate").exit_code == 0
    snapshot = fresh / "generated/migrations/snapshots/0002.json"
    data = json.loads(snapshot.read_text())
    data["down_revision"] = "0000"
    snapshot.write_text(json.dumps(data))
    result = run_schemarel(fresh, "check")
    assert result.returncode == 1
    assert "generated/migrations/snapshots/0002.json: revision 0002 was edited" in result.stderr  # history.sum
    (fresh / "generated/migrations/history.sum").unlink()
    result = run_schemarel(fresh, "check")
    assert result.returncode == 1
    assert "snapshot 0002 follows '0000', expected '0001'" in result.stderr


def test_revision_doc_lists_changes_before_and_after(fresh: Path, cli: Any) -> None:
    def change(schema: dict[str, Any]) -> None:
        p = schema["properties"]
        p["phoneNumbers"]["items"]["properties"]["number"]["maxLength"] = 20
        p["phoneNumbers"]["items"]["properties"]["type"]["enum"].append("fax")
        p["surname"] = p.pop("lastName") | {"x-sql": {"renamedFrom": "lastName"}}
        schema["required"] = [("surname" if r == "lastName" else r) for r in schema["required"]]

    edit(fresh, change)
    result = cli(fresh, "generate")
    assert result.exit_code == 0, result.output
    doc = next((fresh / "generated/docs/migrations").glob("0002_*.md")).read_text()
    assert "- Altered type of `customer_profile_phone_numbers.number`: `varchar(16)` → `varchar(20)`." in doc
    assert "- Added value `fax` to `customer_profile_phone_numbers_type_enum`." in doc
    assert "- Renamed column `customer_profiles.last_name` → `customer_profiles.surname`." in doc
    assert "`ALTER TYPE … ADD VALUE` runs outside the migration's transaction" in doc
    assert "Reverting removes the enum values `fax`" in doc
    revision = next((fresh / "generated/migrations/versions").glob("0002_*.py")).read_text()
    assert "drop_column" not in revision and "autocommit_block" in revision


def test_check_constraints_added_dropped_and_renamed_with_their_table() -> None:
    from dataclasses import replace

    from schemarel.ir import Check, Database
    from schemarel.migrate.plan import plan
    from schemarel.normalize.normalizer import normalize
    from schemarel.schema.loader import load_schemas

    (model,) = [normalize(s) for s in load_schemas(FIXTURES.parent.parent / "schemas") if s.name == "customer"]
    root = model.root
    checked = replace(root, checks=(*root.checks, Check("ck_customer_profiles__names", "first_name <> last_name")))
    before = Database((model,))
    after = Database((replace(model, tables=(checked, *model.tables[1:])),))
    added = plan(before, after)
    assert "batch_op.create_check_constraint(batch_op.f('ck_customer_profiles__names'), 'first_name <> last_name')" in (
        added.upgrade
    )
    assert "batch_op.drop_constraint(batch_op.f('ck_customer_profiles__names'), type_='check')" in added.downgrade
    assert [(c.action, c.what) for c in added.changes] == [("add", "check constraint")]
    dropped = plan(after, before)
    assert "drop_constraint(batch_op.f('ck_customer_profiles__names'), type_='check')" in dropped.upgrade
    renamed = replace(
        checked, checks=(*root.checks, Check("ck_customer_profiles__distinct_names", "first_name <> last_name"))
    )
    moved = plan(after, Database((replace(model, tables=(renamed, *model.tables[1:])),)))
    assert 'RENAME CONSTRAINT "ck_customer_profiles__names" TO "ck_customer_profiles__distinct_names"' in moved.upgrade
