"""`mypy --strict` passes on the package and its tests (the check pyproject.toml configures), on the generated
models, env.py and revisions, and on an application script that queries with the generated models; string enums
are `Literal`s, so a mistyped label is an error."""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from projects import generate, write_project
from schemarel import naming
from schemarel.sql.kinds import KINDS

# A consumer's script: it builds and queries documents with the generated classes.
CONSUMER = """
from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from generated.models import CustomerProfile, CustomerProfilePhoneNumber


def mobile_numbers(session: Session, customer: uuid.UUID) -> list[str]:
    query = (
        sa.select(CustomerProfilePhoneNumber.number)
        .where(CustomerProfilePhoneNumber.customer_profile_id == customer)
        .where(CustomerProfilePhoneNumber.type == "mobile")
    )
    return list(session.scalars(query))


def add(session: Session) -> CustomerProfile:
    profile = CustomerProfile(first_name="Ada", last_name="Lovelace", marketing_emails_enabled=False,
                              two_factor_enabled=True)
    phone = CustomerProfilePhoneNumber(number="+15550100")
    phone.type = "{label}"  # the constructor takes **kwargs: attributes are where labels are checked
    profile.phone_numbers.append(phone)
    middle: str | None = profile.middle_name
    session.add(profile)
    return profile if middle is None else profile
"""


def mypy(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # one cache for every run: analysing SQLAlchemy cold takes minutes, and mypy keys the cache by file content
    env = {**os.environ, "MYPY_CACHE_DIR": str(Path(tempfile.gettempdir()) / f"schemarel-mypy-{os.getuid()}")}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def test_package_passes_mypy_strict(tmp_path: Path) -> None:
    result = mypy(tmp_path, str(REPO / "generator" / "schemarel"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_configured_check_covers_the_package_and_the_tests() -> None:
    """`mypy` at the root, as pyproject.toml configures it (strict): every module of the package and of the tests
    (a test file mypy is not shown, or that does not type-check, fails here)."""
    result = mypy(REPO, "--verbose")
    assert result.returncode == 0, result.stdout
    found = re.findall(r"Found source: +BuildSource\(path='([^']+)'", result.stderr)
    expected = [p.relative_to(REPO).as_posix() for d in ("generator", "tests") for p in (REPO / d).rglob("*.py")]
    assert sorted(found) == sorted(expected) and any(f.startswith("tests/") for f in found)


def test_generated_passes_mypy_strict(tmp_path: Path) -> None:
    """Models, env.py and every revision (mypy lists what it found: none may be missed)."""
    result = mypy(tmp_path, "--verbose", str(REPO / "generated"))
    assert result.returncode == 0, result.stdout
    found = [line for line in result.stderr.splitlines() if "Found source" in line]
    expected = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "generated").rglob("*.py"))
    assert len(found) == len(expected) >= 9, found
    assert any("migrations/env.py" in line for line in found)


@pytest.mark.parametrize(("label", "typo"), [("mobile", False), ("mobil", True)])
def test_consumer_script_type_checks_against_the_models(project: Path, label: str, typo: bool) -> None:
    (project / "app.py").write_text(textwrap.dedent(CONSUMER).replace("{label}", label))
    result = mypy(project, "app.py")
    if typo:
        assert result.returncode == 1
        assert "app.py:25: error: Incompatible types in assignment" in result.stdout, result.stdout
        assert "Literal['mobile', 'home', 'work', 'other']" in result.stdout
    else:
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_wheel_ships_py_typed(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = glob.glob(str(tmp_path / "schemarel-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "schemarel/py.typed" in names
    assert "schemarel/support/__init__.py" in names


# Every name an attribute's annotation uses, as property names: each attribute `str`, `list`... came before
# annotations that use the builtin, and mypy --strict read `Mapped[str]` as that attribute (not valid as a type)
ANNOTATION_SHADOWS: dict[str, Any] = {
    "title": "Shadows",
    "type": "object",
    "properties": {
        **{
            name: {"type": kind}
            for name, kind in [("str", "string"), ("int", "integer"), ("float", "number"), ("bool", "boolean")]
        },  # fmt: skip
        "list": {"type": "array", "items": {"type": "object", "properties": {"str": {"type": "string"}}}},
        "after": {"type": "string"},
        "count": {"type": "integer"},
        "ratio": {"type": "number"},
        "flag": {"type": "boolean"},
        "kind": {"enum": ["x", "y"]},
        "children": {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "integer"}}}},
    },
}


def test_attributes_named_like_annotation_builtins_pass_mypy_strict(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"shadows": ANNOTATION_SHADOWS})
    assert generate(root).exit_code == 0
    result = mypy(root, str(root / "generated" / "models"), str(root / "generated" / "documents"))
    assert result.returncode == 0, result.stdout
    annotations = {t.python.split(".")[0].split("[")[0] for t in KINDS.values()} | {"list", "Literal"}
    assert annotations <= naming.RESERVED_ATTRIBUTES
