"""`check` trusts a recorded stamp only for exactly the inputs and outputs it was taken on: a change to the
schemas, generated/, the user's templates or the ruff settings makes it build again and explain."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from robust_helpers import Run, project, schemarel

SCHEMA = {"title": "Doc", "type": "object", "properties": {"name": {"type": "string", "description": "x " * 40}}}


def edit_schema(root: Path) -> None:
    schema = json.loads((root / "schemas" / "doc.schema.json").read_text())
    schema["properties"]["age"] = {"type": "integer"}
    (root / "schemas" / "doc.schema.json").write_text(json.dumps(schema))


def edit_output(root: Path) -> None:
    with (root / "generated" / "docs" / "index.md").open("a") as f:
        f.write("\nhand edit\n")


def add_output(root: Path) -> None:
    (root / "generated" / "docs" / "notes.md").write_text("mine\n")


def narrow_ruff(root: Path) -> None:
    (root / "pyproject.toml").write_text("[tool.ruff]\nline-length = 40\n")


def own_template(root: Path) -> None:
    (root / "templates").mkdir()
    (root / "templates" / "schema_doc.md.j2").write_text("# {{ schema.title }}\n")


EDITS: dict[str, tuple[Callable[[Path], None], tuple[str, ...]]] = {
    "schema": (edit_schema, ()),
    "generated file": (edit_output, ()),
    "extra generated file": (add_output, ()),
    "ruff settings": (narrow_ruff, ()),
    "user templates": (own_template, ("--templates", "templates")),
}


def check(root: Path, cache: Path, *args: str) -> Run:
    return schemarel(root, "check", *args, env={"XDG_CACHE_HOME": str(cache)})


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_any_change_after_a_verified_check_is_found(tmp_path: Path, edit: str) -> None:
    root, cache = project(tmp_path / "p", SCHEMA), tmp_path / "cache"
    assert schemarel(root, "generate", env={"XDG_CACHE_HOME": str(cache)}).returncode == 0
    assert any((cache / "schemarel" / "verified").iterdir())  # generate recorded its stamp
    first = check(root, cache)
    assert first.returncode == 0 and "is up to date" in first.stdout, first.stderr
    change, args = EDITS[edit]
    change(root)
    stale = check(root, cache, *args)
    assert stale.returncode == 1, (edit, stale.stdout[-500:], stale.stderr[-500:])
    assert "is stale" in stale.stderr or "no revision was generated" in stale.stderr


def test_a_fresh_cache_builds_and_then_records(tmp_path: Path) -> None:
    root = project(tmp_path / "p", SCHEMA)
    assert schemarel(root, "generate", env={"XDG_CACHE_HOME": str(tmp_path / "a")}).returncode == 0
    cache = tmp_path / "b"
    assert check(root, cache).returncode == 0  # nothing recorded here: the full build decides
    assert any((cache / "schemarel" / "verified").iterdir())
    assert check(root, cache).returncode == 0


def test_library_versions_read_off_folder_names_are_importlib_metadatas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stamp's library versions (read off dist-info folder names) are what importlib.metadata says: for
    every distribution installed here, for one not installed, and where one folder holds a name twice or a
    later sys.path entry holds it again (the first entry wins; a tie goes to importlib.metadata itself)."""
    from importlib import metadata

    from schemarel.project.fingerprint import LIBRARIES, library_versions

    def expected(names: list[str]) -> dict[str, str | None]:
        result: dict[str, str | None] = {}
        for name in names:
            try:
                result[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                result[name] = None
        return result

    names = sorted({d.metadata["Name"] for d in metadata.distributions()} | set(LIBRARIES) | {"not-installed-x"})
    assert library_versions(names) == expected(names)
    for folder, dists in {"first": ["Twice_Here-1.0", "twice.here-2.0", "Later-1.5"], "second": ["later-9.0"]}.items():
        for dist in dists:
            (tmp_path / folder / f"{dist}.dist-info").mkdir(parents=True)
            name, version = dist.rsplit("-", 1)
            (tmp_path / folder / f"{dist}.dist-info" / "METADATA").write_text(f"Name: {name}\nVersion: {version}\n")
    monkeypatch.syspath_prepend(str(tmp_path / "second"))
    monkeypatch.syspath_prepend(str(tmp_path / "first"))
    assert library_versions(["twice-here", "later"]) == expected(["twice-here", "later"])
    assert library_versions(["later"]) == {"later": "1.5"}
