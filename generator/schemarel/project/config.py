"""Project settings from `[tool.schemarel]` in the nearest `pyproject.toml`, and the folders outputs must spare.

Paths in the file are relative to the file's directory, so a command run from a subdirectory finds the same
`schemas/` and `generated/`. Precedence, highest first: option, environment variable, this table, built-in.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schemarel.errors import SchemaError

if TYPE_CHECKING:  # every command reads the settings: what only some of them need is imported where used
    from schemarel.render.ownership import Owner

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_PATH = {"type": "string", "pattern": "^[^\u0000]*$"}  # no path holds a NUL
CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "schemas": {**_PATH, "description": "Directory of *.schema.json files."},
        "out": {**_PATH, "description": "Directory the generated files go to."},
        "templates": {**_PATH, "description": "Directory of templates overriding the shipped ones."},
        "database-url": {"type": "string", "description": "Database URL of upgrade and downgrade."},
        "dialect": {
            "enum": ["postgresql", "sqlite", "mysql"],
            "description": "Dialect whose type names `inspect` shows.",
        },
    },
}
# [tool.schemarel] key → the click parameter it is the default of, and whether it is a path
PARAMETERS = {
    "schemas": ("schemas_dir", True),
    "out": ("out_dir", True),
    "templates": ("templates_dir", True),
    "database-url": ("db_url", False),
    "dialect": ("dialect", False),
}


def find_pyproject(start: Path) -> Path | None:
    """The first `pyproject.toml` in `start` or one of its parents."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def project_root(start: Path | None = None) -> Path:
    """The project's folder: that of the nearest `pyproject.toml`, else the working directory."""
    start = (start or Path.cwd()).resolve()
    found = find_pyproject(start)
    return found.parent if found is not None else start


def output_owner(kind: str, schemas_dir: Path, templates_dir: Path | None = None, out_dir: Path | None = None) -> Owner:
    """The owner of an output folder of `kind`: never the project, the working directory or an input."""
    inputs = [("schemas folder", schemas_dir)]
    if templates_dir is not None:
        inputs.append(("templates folder", templates_dir))
    if out_dir is not None:
        inputs.append(("generated folder", out_dir))
    from schemarel.render.ownership import Owner

    return Owner(kind, (("project folder", project_root()), ("working directory", Path.cwd())), tuple(inputs))


def load_settings(start: Path | None = None) -> dict[str, Any]:
    """`[tool.schemarel]` as click parameter defaults (paths made relative to the working directory)."""
    try:
        path = find_pyproject((start or Path.cwd()).resolve())
    except OSError as exc:  # the working directory was removed under the shell
        raise SchemaError(".", "", f"cannot find the working directory: {exc.strerror}") from None
    if path is None:
        return {}
    display = os.path.relpath(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SchemaError(display, "", f"cannot read [tool.schemarel]: {exc}") from None
    except RecursionError:  # tomllib recurses per nested array or table
        raise SchemaError(display, "", "cannot read [tool.schemarel]: the TOML nests too deeply") from None
    table = data.get("tool", {}).get("schemarel", {})
    error = _settings_error(table)
    if error is not None:
        where = ".".join(["tool", "schemarel", *map(str, error.absolute_path)])
        raise SchemaError(display, "", f"[{where}]: {error.message}")
    defaults = _from_subfolder(path.parent, table)
    for key, value in table.items():
        param, is_path = PARAMETERS[key]
        defaults[param] = os.path.relpath(path.parent / value) if is_path else value
    return defaults


# the built-in defaults that name a place in the project: [tool.schemarel] key → (click parameter, its value)
BUILT_IN = {"schemas": ("schemas_dir", "schemas"), "out": ("out_dir", "generated"), "database-url": ("db_url", None)}
DEFAULT_DATABASE = "schemarel.db"  # the SQLite file of `urls.DEFAULT_URL`
OUTPUT_MARKER = ".schemarel-output"  # `render.ownership.MARKER`, not imported: every command reads the settings


def _from_subfolder(project: Path, table: Mapping[str, Any]) -> dict[str, Any]:
    """The built-in `schemas/`, `generated/` and SQLite file of the project folder, for a command run in one of
    its sub-folders that has no `schemas/` of its own: `cd schemas && schemarel generate` then works on the
    project (instead of looking for schemas/schemas, or creating a database in the sub-folder); a working
    directory holding `schemas/` (a project without its own pyproject.toml, in a monorepo) keeps its own, but
    not an output folder (`generated/` holds `schemas/` copies)."""
    cwd = Path.cwd().resolve()
    if cwd == project or (Path("schemas").is_dir() and not Path(OUTPUT_MARKER).exists()):
        return {}
    defaults: dict[str, Any] = {}
    for key, (param, value) in BUILT_IN.items():
        if key not in table:
            where = os.path.relpath(project / (value or DEFAULT_DATABASE))
            defaults[param] = where if value else f"sqlite:///{where}"
    return defaults


def _settings_error(table: Any) -> Any:
    """The error to report about `[tool.schemarel]`, or None; jsonschema (slow to import, as every command
    reads the settings) is only asked to word it, after jsonschema-rs found one."""
    try:
        import jsonschema_rs

        if jsonschema_rs.validator_for(CONFIG_SCHEMA).is_valid(table):
            return None
    except ImportError:  # pragma: no cover - a platform without its wheel: jsonschema alone decides
        pass
    import jsonschema

    return jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(CONFIG_SCHEMA).iter_errors(table))


def default_map(defaults: Mapping[str, Any], commands: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """click's `default_map`: each setting for every command that has the parameter."""
    result: dict[str, dict[str, Any]] = {}
    for name, command in commands.items():
        params = {p.name for p in command.params}
        own = {k: v for k, v in defaults.items() if k in params}
        if own:
            result[name] = own
    return result
