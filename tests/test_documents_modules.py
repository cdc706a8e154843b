"""A schema named like a Python keyword (`class.schema.json`, `import.schema.json`) gets a typed documents module
that can be imported as the README shows (`from generated.documents import class_`): it was
`documents/class.py`, which no import statement can name."""

from __future__ import annotations

import json
import keyword
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projects import generate, write_project

SCHEMA = {"type": "object", "properties": {"x": {"type": "string"}}}
KEYWORDS = sorted(k for k in keyword.kwlist if k.islower())


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.sampled_from(KEYWORDS), min_size=1, max_size=3, unique=True))
def test_every_documents_module_can_be_imported_by_name(
    names: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = write_project(tmp_path_factory.mktemp("kw"), {name: SCHEMA for name in [*names, "plain"]})
    assert generate(root).exit_code == 0
    modules = sorted(p.stem for p in (root / "generated" / "documents").glob("*.py") if p.stem != "__init__")
    assert all(m.isidentifier() and not keyword.iskeyword(m) for m in modules), modules
    assert sorted([*(f"{n}_" for n in names), "plain"]) == modules
    listed = ", ".join(modules)
    statement = f"from generated.documents import {listed}\nprint(json.dumps([m.__name__ for m in [{listed}]]))"
    result = subprocess.run(
        [sys.executable, "-c", f"import json\n{statement}"], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [f"generated.documents.{m}" for m in modules]


def test_a_plain_name_keeps_its_module(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"customer-profile": SCHEMA, "base": SCHEMA})
    assert generate(root).exit_code == 0
    assert sorted(p.name for p in (root / "generated" / "documents").glob("*.py")) == [
        "__init__.py", "base.py", "customer_profile.py"
    ]  # fmt: skip
