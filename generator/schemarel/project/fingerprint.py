"""What `check` can know without building: generated/ was verified against exactly these inputs before.

A generate or a passing check records one stamp, a hash of everything the output depends on (schemarel's own
code and templates, the versions of the libraries that render and lay out, the schemas, the user's templates,
the ruff settings that apply to generated/, the paths and options) together with every byte of generated/.
A later check that computes the same stamp knows its verdict without importing the pipeline; any difference,
a link or special file in generated/, or a missing cache falls back to the full build, which explains.
Stamps live in the user's cache folder (`$XDG_CACHE_HOME/schemarel`), never in the project.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import schemarel

# the libraries whose versions change what generate writes (rendering, migration code, layout, validation)
LIBRARIES = ("alembic", "sqlalchemy", "jinja2", "ruff", "inflection", "jsonschema", "jsonschema-rs", "referencing",
             "jsonpatch", "simplejson")  # fmt: skip
RUFF_CONFIGS = ("pyproject.toml", "ruff.toml", ".ruff.toml")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "schemarel" / "verified"


def _files(folder: Path) -> Iterator[Path] | None:
    """Every file under `folder`, sorted; None when one is a link or not a regular file (the build explains)."""
    found: list[Path] = []
    for root, dirs, names in os.walk(folder, followlinks=False):
        for name in dirs:
            if os.path.islink(os.path.join(root, name)):
                return None
        for name in names:
            path = Path(root, name)
            if path.is_symlink() or not path.is_file():
                return None
            found.append(path)
    return iter(sorted(found))


def _add_tree(digest: hashlib._Hash, label: str, folder: Path | None, suffixes: tuple[str, ...] = ()) -> bool:
    digest.update(f"\0{label}\0{folder}\0".encode())
    if folder is None or not folder.is_dir():
        return folder is None or not folder.exists()
    files = _files(folder)
    if files is None:
        return False
    for path in files:
        if suffixes and not path.name.endswith(suffixes):
            continue
        digest.update(f"\0{path.relative_to(folder).as_posix()}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return True


def stamp(schemas_dir: Path, out_dir: Path, templates_dir: Path | None, strict: bool) -> str | None:
    """The stamp of this project as it is now, or None when it cannot be taken (then no fast verdict)."""
    try:
        digest = hashlib.sha256(f"{sys.version}\0{Path.cwd().resolve()}\0{strict}".encode())
        for name in LIBRARIES:
            try:
                digest.update(f"\0{name}={metadata.version(name)}".encode())
            except metadata.PackageNotFoundError:
                digest.update(f"\0{name}=none".encode())
        digest.update("".join(f"\0{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("RUFF")).encode())
        package = Path(schemarel.__file__).resolve().parent
        shipped = package / "templates"
        if not shipped.is_dir():  # an editable install: the templates beside the package folder
            shipped = package.parent.parent / "templates"
        ok = _add_tree(digest, "schemarel", package, (".py",)) and _add_tree(digest, "shipped", shipped)
        ok = ok and _add_tree(digest, "schemas", schemas_dir.resolve(), (".json",))
        ok = ok and _add_tree(digest, "templates", templates_dir.resolve() if templates_dir else None)
        out = out_dir.resolve()
        for folder in (out, *out.parents):  # the ruff settings generated/ is laid out with
            for name in RUFF_CONFIGS:
                config = folder / name
                if config.is_file():
                    digest.update(f"\0{config}\0".encode() + config.read_bytes())
        ok = ok and out.is_dir() and _add_tree(digest, "out", out)
    except OSError:
        return None
    return digest.hexdigest() if ok else None


def verified(schemas_dir: Path, out_dir: Path, templates_dir: Path | None, strict: bool) -> bool:
    """Whether generated/ is known to be what these inputs give (a stamp recorded by `record`)."""
    current = stamp(schemas_dir, out_dir, templates_dir, strict)
    return current is not None and (cache_dir() / current).is_file()


def record(schemas_dir: Path, out_dir: Path, templates_dir: Path | None, strict: bool) -> None:
    """Remember that generated/ is what these inputs give (after generate wrote it, or a check found it so)."""
    current = stamp(schemas_dir, out_dir, templates_dir, strict)
    if current is None:
        return
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        (cache_dir() / current).touch()
    except OSError:  # a read-only home: checks simply build every time
        pass
