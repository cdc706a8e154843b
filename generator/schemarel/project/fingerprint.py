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
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import schemarel

# the libraries whose versions change what generate writes (rendering, migration code, layout, validation)
LIBRARIES = ("alembic", "sqlalchemy", "jinja2", "ruff", "inflection", "jsonschema", "jsonschema-rs", "referencing",
             "jsonpatch", "simplejson")  # fmt: skip
RUFF_CONFIGS = ("pyproject.toml", "ruff.toml", ".ruff.toml")


def library_versions(names: Iterable[str]) -> dict[str, str | None]:
    """Each library's version as `importlib.metadata.version` finds it (None when not installed), read off the
    `name-version.dist-info` folder names on sys.path: importing importlib.metadata and reading each METADATA
    took half of a `check` answered from its stamp. A name found twice in one folder, or behind a path entry
    that is no folder, is asked of importlib.metadata, which decides those as it always does."""
    asked = list(names)
    wanted = {_normalized(name) for name in asked}
    found: dict[str, str | None] = {}
    unsure: set[str] = set()
    for entry in sys.path:
        try:
            children = os.listdir(entry or ".")
            if entry.lower().endswith(".egg"):
                raise NotADirectoryError(entry)  # an egg folder: its EGG-INFO is named after the folder
        except NotADirectoryError:  # a zip or an egg: importlib.metadata looks inside
            unsure.update(wanted - found.keys())
            continue
        except OSError:
            continue
        here: dict[str, list[str]] = {}
        for child in children:
            low = child.lower()
            if low.endswith((".dist-info", ".egg-info")):  # as importlib.metadata's own lookup reads them
                name, _, rest = low.rpartition(".")[0].partition("-")
                here.setdefault(_normalized(name), []).append(rest.partition("-")[0])
        for key, versions in here.items():
            if key in wanted and key not in found and key not in unsure:
                if len(versions) == 1 and versions[0]:
                    found[key] = versions[0]
                else:
                    unsure.add(key)
    result: dict[str, str | None] = {}
    for name in asked:
        key = _normalized(name)
        if key not in unsure:
            result[name] = found.get(key)
            continue
        from importlib import metadata  # only for what the folder names leave open

        try:
            result[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            result[name] = None
    return result


def _normalized(name: str) -> str:
    """A distribution name as importlib.metadata compares them (`Prepared.normalize`)."""
    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")


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
        for name, version in library_versions(LIBRARIES).items():
            digest.update(f"\0{name}={version or 'none'}".encode())
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
