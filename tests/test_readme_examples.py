"""The README's "Storing documents" examples run as written (sync and async), on a PostgreSQL database upgraded
with the repository's generated migrations, from a directory that holds neither schemas/ nor pyproject.toml."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from api_helpers import GENERATED, REPO
from conftest import create_users_table
from dbtools import migrate

pytestmark = pytest.mark.postgres
README_URL = "postgresql+psycopg://localhost/app"


def storing_documents_examples() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Storing documents\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_section_has_the_sync_and_async_examples() -> None:
    blocks = storing_documents_examples()
    assert len(blocks) == 2 and "profile.store(engine)" in blocks[0] and "profile.async_store(engine)" in blocks[1]
    assert all(README_URL in block for block in blocks)


def test_the_examples_run_as_written(postgres_url: str, tmp_path: Path) -> None:
    create_users_table(postgres_url)
    migrate(GENERATED, postgres_url, "upgrade", "head")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    outputs = []
    for block in storing_documents_examples():
        script = tmp_path / "example.py"
        script.write_text(block.replace(README_URL, postgres_url), encoding="utf-8")
        run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, env=env,
                             check=False, timeout=120)  # fmt: skip
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout)
    sync, asynchronous = outputs
    assert "BackfillResult(referenced=2, created=2, batches=1)" in sync, sync
    assert "document is not a valid profile: 1 violation\n  #/currency: 'eur' does not match '^[A-Z]{3}$'" in sync
    assert "['Ada']" in sync
    assert "{'userId': 'u44', 'timezone': 'Asia/Tokyo', 'currency': 'USD'}" in asynchronous
