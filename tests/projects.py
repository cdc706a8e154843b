"""Throwaway projects for tests: schemas written from dicts, generated in this process, the IR at hand."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from conftest import run_schemarel
from schemarel.cli.main import main
from schemarel.ir import SchemaModel
from schemarel.normalize.normalizer import normalize
from schemarel.schema.loader import load_schemas


def write_project(root: Path, schemas: dict[str, Any]) -> Path:
    """`root/schemas/<name>.schema.json` for each entry (a dict is dumped, a str written as it is)."""
    (root / "schemas").mkdir(parents=True, exist_ok=True)
    for name, schema in schemas.items():
        text = schema if isinstance(schema, str) else json.dumps(schema, indent=2, ensure_ascii=False)
        (root / "schemas" / f"{name}.schema.json").write_text(text, encoding="utf-8")
    return root


def generate(root: Path, *args: str) -> Result:
    """`schemarel generate` in `root`, in this process; an exception (a traceback) fails the calling test."""
    return invoke(root, "generate", *args)


def invoke(root: Path, *args: str) -> Result:
    """`schemarel ARGS` in `root`, in this process; an exception (a traceback) fails the calling test."""
    cwd = Path.cwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(cwd)


def user_path(root: Path, name: str, source: Path, url: str) -> list[Any]:
    """Schema `name` of the project at `root` through what a user runs: generate, check, upgrade `url`, load
    `source` (NDJSON) and export; the exported documents, in order."""
    result = generate(root)
    assert result.exit_code == 0, result.output
    assert run_schemarel(root, "check").returncode == 0
    upgraded = run_schemarel(root, "upgrade", "--db", url)
    assert upgraded.returncode == 0, upgraded.stderr
    loaded = run_schemarel(root, "load", str(source), "--schema", name, "--db", url)
    assert loaded.returncode == 0, loaded.stderr
    exported = run_schemarel(root, "export", "--schema", name, "--db", url)
    assert exported.returncode == 0, exported.stderr
    return [json.loads(line) for line in exported.stdout.splitlines()]


def model(
    tmp_path: Path, schema: dict[str, Any] | str, name: str = "doc", strict: bool = False, **others: Any
) -> SchemaModel:
    """The IR of `schema`, a dict or its file's text (other schema files beside it, for cross-file `$ref`s)."""
    root = write_project(tmp_path / "ir", {name: schema, **others})
    sources = {s.name: s for s in load_schemas(root / "schemas")}
    return normalize(sources[name], strict)


def columns(table: Any) -> dict[str, Any]:
    return {c.name: c for c in table.columns}
