"""Command-line details a user relies on: options from any directory, the default database, bad revisions."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import REPO, create_users_table, run_schemarel, tree

ALEMBIC_LOG = "INFO  [alembic."


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory next to the project copy, with no database URL in the environment."""
    monkeypatch.delenv("SCHEMAREL_DATABASE_URL", raising=False)
    path = tmp_path / "elsewhere"
    path.mkdir()
    return path


def tables(db_file: Path) -> set[str]:
    engine = sa.create_engine(f"sqlite:///{db_file}")
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    return names


def test_schemas_and_out_options_work_from_another_directory(project: Path, elsewhere: Path) -> None:
    options = ["--schemas", "../project/schemas", "--out", "../project/generated"]
    assert run_schemarel(elsewhere, "check", *options).returncode == 0

    schemas = str(project / "schemas")  # an absolute path gives the same output as a relative one
    shutil.copy(project / "pyproject.toml", elsewhere)  # the same ruff settings lay out the Python the same way
    made = run_schemarel(elsewhere, "generate", "--schemas", schemas, "--out", "out", env={"SOURCE_DATE_EPOCH": "0"})
    assert made.returncode == 0, made.stderr
    out = elsewhere / "out"
    first, *rest = (out / "models" / "customer.py").read_text(encoding="utf-8").splitlines()
    assert "(../project/schemas/customer.schema.json)" in first, "paths are relative to the output's parent"
    assert rest == (REPO / "generated/models/customer.py").read_text(encoding="utf-8").splitlines()[1:]
    doc = (out / "docs" / "customer.md").read_text(encoding="utf-8")
    link = "../../../project/schemas/customer.schema.json"
    assert f"[`../project/schemas/customer.schema.json`]({link})" in doc
    assert (out / "docs" / link).resolve() == (project / "schemas" / "customer.schema.json").resolve()
    assert run_schemarel(elsewhere, "check", "--schemas", "../project/schemas", "--out", "out").returncode == 0


def test_upgrade_finds_its_database_in_the_environment_else_in_the_working_directory(
    project: Path, elsewhere: Path, tmp_path: Path
) -> None:
    from_env = tmp_path / "from_env.db"
    create_users_table(f"sqlite:///{from_env}")  # profile.schema.json references it
    result = run_schemarel(
        elsewhere, "upgrade", "--out", "../project/generated", env={"SCHEMAREL_DATABASE_URL": f"sqlite:///{from_env}"}
    )
    assert result.returncode == 0, result.stderr
    assert "customer_profiles" in tables(from_env)
    assert not (elsewhere / "schemarel.db").exists()

    result = run_schemarel(elsewhere, "upgrade", "--out", "../project/generated")
    assert result.returncode == 1, "without the users table of the auth system, 0002 must refuse to run"
    assert "revision 0002 references `users`" in result.stderr
    # one transaction for the whole upgrade: 0001 went with 0002's refusal
    assert "customer_profiles" not in tables(elsewhere / "schemarel.db"), "the failed upgrade left 0001 behind"
    create_users_table(f"sqlite:///{elsewhere / 'schemarel.db'}")
    result = run_schemarel(elsewhere, "upgrade", "--out", "../project/generated")
    assert result.returncode == 0, result.stderr
    assert "customer_profiles" in tables(elsewhere / "schemarel.db")
    assert not (project / "schemarel.db").exists(), "the default database belongs to the working directory"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["upgrade", "9999"], "error: Can't locate revision identified by '9999'"),
        (["downgrade", "nonsense"], "error: Can't locate revision identified by 'nonsense'"),
        (
            ["upgrade", "--out", "nowhere"],
            "error: nowhere/alembic.ini not found: run `schemarel generate` first (or pass --out)",
        ),
    ],
    ids=["bad-upgrade-revision", "bad-downgrade-revision", "no-generated-tree"],
)
def test_a_bad_revision_or_tree_is_one_line_and_exit_2(
    project: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    before = tree(project / "generated")

    result = run_schemarel(project, *args, "--db", f"sqlite:///{tmp_path / 'app.db'}")

    assert result.returncode == 2
    assert [line for line in result.stderr.splitlines() if not line.startswith(ALEMBIC_LOG)] == [message]
    assert tree(project / "generated") == before


# In a process of its own, so that what `generate` imports is made during the run (pytest imported it already).
GC_PROBE = """
import gc, json, sys
from schemarel.cli.main import main
held = [[] for _ in range(1000)]
if sys.argv[1] == "froze":
    gc.freeze()
frozen = gc.get_freeze_count()
main(["generate"], standalone_mode=False)
young = [[] for _ in range(2000)]  # allocations after the run: a collection of the youngest generation is due
print(json.dumps({"young": len(gc.get_objects(0)) + len(gc.get_objects(1)), "frozen": gc.get_freeze_count(),
                  "was_frozen": frozen, "enabled": gc.isenabled()}))
"""


@pytest.mark.parametrize("caller", ["froze", "did_not_freeze"])
def test_generate_leaves_what_it_made_unscanned_in_the_oldest_generation_and_the_callers_frozen_as_they_were(
    project: Path, caller: str
) -> None:
    """The collector paused during the run runs again without a pass over the whole run's heap (what was left
    young would be collected by the first allocation after it, the survivors kept young): nothing of the run
    is frozen, and objects the caller froze stay frozen."""
    shutil.rmtree(project / "generated")
    found = subprocess.run([sys.executable, "-c", GC_PROBE, caller], cwd=project, capture_output=True, text=True,
                           check=True, timeout=300)  # fmt: skip
    seen = json.loads(found.stdout.splitlines()[-1])
    assert seen["enabled"]
    if caller == "froze":  # some of them die during the run (as their references go), none is thawed
        assert seen["was_frozen"] * 0.9 < seen["frozen"] <= seen["was_frozen"], "the caller's stay frozen"
    else:
        assert seen["frozen"] == 0, "nothing of the run is frozen: its cycles are still collected"
        assert seen["young"] < 8_000, f"{seen['young']} objects of the run were left to a young collection"
