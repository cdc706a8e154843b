"""Throwaway projects for tests: schemas written from dicts, generated in this process, the IR at hand."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
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


def model(
    tmp_path: Path, schema: dict[str, Any] | str, name: str = "doc", strict: bool = False, **others: Any
) -> SchemaModel:
    """The IR of `schema`, a dict or its file's text (other schema files beside it, for cross-file `$ref`s)."""
    root = write_project(tmp_path / "ir", {name: schema, **others})
    sources = {s.name: s for s in load_schemas(root / "schemas")}
    return normalize(sources[name], strict)


def columns(table: Any) -> dict[str, Any]:
    return {c.name: c for c in table.columns}
