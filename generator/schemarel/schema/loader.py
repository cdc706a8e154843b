"""Loading schema files: JSON parsing with located errors, metaschema and `x-sql` validation, `$ref` lookup."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urljoin

import referencing
import referencing.exceptions
from referencing.jsonschema import DRAFT202012, specification_with

from schemarel.errors import SchemaError, pointer
from schemarel.schema import fragments, jsontext
from schemarel.schema.work import Work
from schemarel.schema.xsql import XSQL_SCHEMA
from schemarel.sql.regex import python_syntax

jsonschema_rs: Any
try:  # the metaschema verdict, ~100x faster than jsonschema; jsonschema words the errors when there are some
    import jsonschema_rs
except ImportError:  # pragma: no cover - where no wheel exists for the platform, jsonschema alone decides
    jsonschema_rs = None

if TYPE_CHECKING:
    from referencing._core import Resolved, Resolver  # not re-exported by `referencing`


SCHEMA_SUFFIX = ".schema.json"
# Nesting of a schema file's JSON (objects and arrays); the deepest schema of the corpus nests 22. The metaschema
# validator recurses several frames per level (2019-09's `$recursiveRef` most) and must stay within Python's stack.
MAX_JSON_DEPTH = 64
# `$schema` → the metaschema it names, recognized by its draft whatever the spelling (http/https, `#` or not).
_DIALECTS = {
    "draft-03": "http://json-schema.org/draft-03/schema#",
    "draft-04": "http://json-schema.org/draft-04/schema#",
    "draft-06": "http://json-schema.org/draft-06/schema#",
    "draft-07": "http://json-schema.org/draft-07/schema#",
    "2019-09": "https://json-schema.org/draft/2019-09/schema",
    "2020-12": "https://json-schema.org/draft/2020-12/schema",
}
# Drafts in which keywords beside `$ref` are ignored (2019-09 and later apply them like an allOf).
_LEGACY_REF_DRAFTS = ("draft-03", "draft-04", "draft-06", "draft-07")


def dialect(contents: dict[str, Any]) -> str:
    """The canonical `$schema` of a schema file: 2020-12 when absent or unknown."""
    given = str(contents.get("$schema", ""))
    return next((uri for key, uri in _DIALECTS.items() if key in given), _DIALECTS["2020-12"])


@dataclass(frozen=True)
class Catalog:
    """Every schema file by document URI, so that a `$ref` into another file names that file in messages."""

    displays: Mapping[str, str] = field(default_factory=dict)  # document URI → display path
    legacy_ref: frozenset[str] = frozenset()  # display paths of files where siblings of `$ref` are ignored
    work: Work = field(default_factory=Work, compare=False)  # what mapping one schema has spent (normalize)
    # (document URI, anchor) → the JSON pointer of the subschema that `$anchor` names, found once
    anchors: dict[tuple[str, str], str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class SourceSchema:
    """One parsed, validated schema file and the resolver its `$ref`s go through."""

    name: str  # the file stem: `customer` for customer.schema.json
    path: Path
    display_path: str  # how messages and docs name the file
    contents: dict[str, Any]
    resolver: Resolver[Any]
    catalog: Catalog = field(default_factory=Catalog)

    @property
    def base_uri(self) -> str:
        """The URI relative `$ref`s of this file resolve against (its `$id`, else its path)."""
        return schema_uris(self.path, self.contents)[-1]

    def error(self, ptr: str, message: str) -> SchemaError:
        return SchemaError(self.display_path, ptr, message)

    def lookup(self, ref: str, resolver: Resolver[Any], ptr: str) -> Resolved[Any]:
        """Resolve `ref` relative to `resolver`; remote references are refused, never fetched."""
        try:
            return fragments.lookup(resolver, ref)
        except fragments.Unresolved as exc:
            raise self.error(ptr, str(exc)) from None


def reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`json.loads`' object hook for JSON whose keys must each be given once (else which one holds is a guess)."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"key {key!r} is given twice")
        result[key] = value
    return result


def reject_constant(name: str) -> Any:
    """`json.loads`' hook for NaN and Infinity, which JSON has not."""
    raise ValueError(f"{name} is not a JSON number")


def parse_json(path: Path, display: str) -> Any:
    """Parse a JSON file; a syntax error names the line and column, a value no later stage can hold (too deep,
    a lone surrogate, a number past a double's range) its JSON pointer."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(display, "", f"cannot read: {exc}") from None
    try:
        document = json.loads(text, object_pairs_hook=reject_duplicates, parse_constant=reject_constant)
    except json.JSONDecodeError as exc:
        raise SchemaError(display, "", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:
        raise SchemaError(display, "", f"invalid JSON: {exc}") from None
    except RecursionError:  # deeper than the parser's stack: find where, without recursion
        raise jsontext.too_deep(text, display, MAX_JSON_DEPTH) from None
    jsontext.check_values(document, display, MAX_JSON_DEPTH)
    return document


def _check_metaschema(contents: Any, display: str) -> None:
    if not isinstance(contents, dict):
        raise SchemaError(display, "#", "a schema file must hold a JSON object")
    if not _fast_verdict(dialect(contents), contents):
        import jsonschema  # slow to import: only where jsonschema-rs cannot say, and to word the errors

        validator_cls = jsonschema.validators.validator_for({"$schema": dialect(contents)})
        errors = _metaschema_errors(validator_cls, contents)
        if errors is None:
            raise SchemaError(display, "#", "the schema nests too deeply to validate against its metaschema")
        if errors:
            best = jsonschema.exceptions.best_match(errors)
            assert best is not None
            raise SchemaError(display, pointer(*best.path), f"not a valid JSON Schema: {best.message}")
    found = find_keys(contents, ("pattern", "patternProperties", "x-sql"))
    _check_patterns(found, display)
    annotations = found["x-sql"]
    if not annotations or _fast_xsql_verdict(annotation for _, annotation in annotations):
        return
    import jsonschema  # slow to import (a load would spend more on it than on its first batch): to word the errors

    xsql_validator = jsonschema.Draft202012Validator(XSQL_SCHEMA)
    for node_path, annotation in annotations:
        for err in sorted(xsql_validator.iter_errors(annotation), key=lambda e: list(e.path)):
            raise SchemaError(display, pointer(*node_path, "x-sql", *err.path), f"invalid x-sql: {err.message}")


def _fast_verdict(uri: str, contents: Any) -> bool:
    """True when jsonschema-rs finds `contents` valid against the metaschema of dialect `uri` (formats unchecked,
    as jsonschema does without a format checker); False when it finds it invalid or cannot say (then jsonschema
    decides)."""
    if jsonschema_rs is None:  # pragma: no cover - no wheel for the platform
        return False
    validator = _fast_metaschema(uri)
    if validator is None:
        return False
    try:
        return bool(validator.is_valid(contents))
    except (ValueError, TypeError, OverflowError):
        return False


def _fast_xsql_verdict(annotations: Iterable[Any]) -> bool:
    """True when jsonschema-rs finds every annotation a valid `x-sql` (False: jsonschema decides, and words why)."""
    validator = _fast_xsql()
    if validator is None:  # pragma: no cover - no wheel for the platform
        return False
    try:
        return all(validator.is_valid(annotation) for annotation in annotations)
    except (ValueError, TypeError, OverflowError):
        return False


@functools.cache
def _fast_xsql() -> Any:
    return None if jsonschema_rs is None else jsonschema_rs.Draft202012Validator(XSQL_SCHEMA, validate_formats=False)


@functools.cache
def _fast_metaschema(uri: str) -> Any:
    """jsonschema-rs's validator of one draft's metaschema (None for a draft it does not know, such as draft 3):
    a reference to the metaschema jsonschema-rs holds (reading jsonschema's copies, every draft's files, took
    longer than the rest of a load's start-up checks)."""
    if uri not in _DIALECTS.values() or "draft-03" in uri:
        return None
    try:
        return jsonschema_rs.validator_for({"$schema": uri, "$ref": uri}, validate_formats=False)
    except (ValueError, jsonschema_rs.ReferencingError):  # pragma: no cover - a metaschema it cannot compile
        return None


def _metaschema_errors(validator_cls: Any, contents: Any) -> list[Any] | None:
    """jsonschema's errors of `contents` against its metaschema, sorted by path (None: too deep to check)."""
    try:
        return sorted(validator_cls(validator_cls.META_SCHEMA).iter_errors(contents), key=lambda e: list(e.path))
    except RecursionError:  # MAX_JSON_DEPTH keeps every draft within the stack; this is the last line
        return None


def _check_patterns(keys: Mapping[str, list[tuple[tuple[Any, ...], Any]]], display: str) -> None:
    """Failures are worded with Python's `re`: a pattern it cannot compile (group names in Python's spelling,
    as the validator gives them) could never be checked."""
    found = [((*path, "pattern"), value) for path, value in keys["pattern"] if isinstance(value, str)]
    for path, props in keys["patternProperties"]:
        if isinstance(props, dict):
            found += [((*path, "patternProperties", key), key) for key in props]
    for where, regex in found:
        try:
            re.compile(python_syntax(regex))
        except re.error as exc:
            raise SchemaError(display, pointer(*where), f"{regex!r} is not a regular expression: {exc}") from None


def find_keys(node: Any, keys: tuple[str, ...]) -> dict[str, list[tuple[tuple[Any, ...], Any]]]:
    """Per key of `keys`, (path of the object, value) of every object member so named, depth first, not looking
    inside a found member's value for the same key (other keys are looked for there): one walk for all."""
    found: dict[str, list[tuple[tuple[Any, ...], Any]]] = {key: [] for key in keys}

    def walk(node: Any, path: tuple[Any, ...], inside: frozenset[str]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in found and k not in inside:
                    found[k].append((path, v))
                    walk(v, (*path, k), inside | {k})
                else:
                    walk(v, (*path, k), inside)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*path, i), inside)

    walk(node, (), frozenset())
    return found


def _refuse_remote(uri: str) -> referencing.Resource[Any]:
    raise referencing.exceptions.NoSuchResource(
        f"{uri} is not a schema in the schemas directory (remote references are never fetched)"
    )


def schema_uris(path: Path, contents: dict[str, Any]) -> list[str]:
    """The URIs a schema file answers to: its file URI, and its `$id` (`id` in drafts 3 and 4), the base, last."""
    uris = [path.resolve().as_uri()]
    key = "id" if _is_draft4_id(contents) else _ID
    if isinstance(contents.get(key), str):
        uris.append(urldefrag(contents[key]).url)
    return uris


def _bases(schemas: list[tuple[Path, dict[str, Any]]]) -> list[str]:
    return [uri for path, contents in schemas for uri in schema_uris(path, contents)]


def _aliases(path: Path, contents: dict[str, Any], bases: list[str]) -> list[str]:
    """A file's URIs, and its name next to every file's base: a relative `$ref` from a file with an `$id`
    still reaches its siblings in the directory."""
    return sorted({*schema_uris(path, contents), *(urljoin(base, path.name) for base in bases)})


def schema_registry(schemas: Iterable[tuple[Path, dict[str, Any]]]) -> referencing.Registry[Any]:
    """A registry of schema files under their URIs, so that their `$ref`s reach each other (never the network)."""
    items = list(schemas)
    bases = _bases(items)
    resources: list[tuple[str, referencing.Resource[Any]]] = []
    for path, contents in items:
        resource = specification_with(dialect(contents), default=DRAFT202012).create_resource(contents)
        resources.extend((uri, resource) for uri in _aliases(path, contents, bases))
    # `retrieve` is an attrs field mypy does not see through its alias
    return referencing.Registry(retrieve=_refuse_remote).with_resources(resources)  # type: ignore[call-arg]


def schema_files(schemas_dir: Path) -> list[Path]:
    """The schema files of a directory, in name order."""
    return sorted(schemas_dir.glob(f"*{SCHEMA_SUFFIX}"))


def load_schemas(schemas_dir: Path, display_base: Path | None = None) -> list[SourceSchema]:
    """Read and validate every `*.schema.json` of `schemas_dir`; their `$ref`s may point at each other."""
    paths = schema_files(schemas_dir)
    if not paths:
        raise SchemaError(jsontext.printable(str(schemas_dir)), "", f"no *{SCHEMA_SUFFIX} files found")
    parsed: list[tuple[Path, str, dict[str, Any]]] = []
    for path in paths:
        display = _display(path, display_base)
        if jsontext.printable(display) != display:  # it would be written into revisions, docs and messages
            raise SchemaError(jsontext.printable(display), "", "the file name is not UTF-8 text: rename the file")
        if "\\" in path.name:  # generated paths and the docs site's copy refuse it (a Windows separator)
            raise SchemaError(display, "", "the file name holds a backslash, which no output path may: rename the file")
        contents = parse_json(path, display)
        _check_metaschema(contents, display)
        parsed.append((path, display, contents))
    registry = schema_registry((path, contents) for path, _display, contents in parsed)
    bases = _bases([(path, contents) for path, _display, contents in parsed])
    displays: dict[str, str] = {}
    for path, display, contents in parsed:
        for uri in _aliases(path, contents, bases):
            displays.setdefault(uri, display)
    legacy = frozenset(d for _, d, c in parsed if any(k in dialect(c) for k in _LEGACY_REF_DRAFTS))
    catalog = Catalog(displays, legacy)
    result = []
    for path, display, contents in parsed:
        source = SourceSchema(path.name[: -len(SCHEMA_SUFFIX)], path, display, contents, registry.resolver(), catalog)
        result.append(replace(source, resolver=registry.resolver(base_uri=source.base_uri)))
    for source in result:
        _check_refs(source)
    return result


def _check_refs(source: SourceSchema) -> None:
    """Refuse a `$ref` that leads nowhere, wherever it stands: also in the parts the mapping stores as JSON or
    never reads (`not`, `if`, `contains`, a union it keeps whole), which the validators follow on a document
    (jsonschema-rs refuses to compile such a schema; jsonschema raised at the first document that reached it)."""
    spec = specification_with(dialect(source.contents), default=DRAFT202012)
    checked: set[tuple[int, str]] = set()  # (resolver, $ref) pairs followed once: most refs repeat
    schemas: list[tuple[Any, Resolver[Any]]] = [(source.contents, source.resolver)]
    while schemas:
        contents, resolver = schemas.pop()
        if not isinstance(contents, dict):
            continue
        if spec.id_of(contents) is not None:  # a resource of its own: relative refs start from its id
            resolver = resolver.in_subresource(spec.create_resource(contents))
        ref = contents.get("$ref")
        if isinstance(ref, str) and (id(resolver), ref) not in checked:
            checked.add((id(resolver), ref))
            try:
                fragments.check(resolver, ref)
            except fragments.Unresolved as exc:
                raise source.error(jsontext.locate(source.contents, contents), str(exc)) from None
        schemas += [(sub, resolver) for sub in spec.subresources_of(contents)]


_ID = "$id"


def _is_draft4_id(contents: dict[str, Any]) -> bool:
    """Drafts 3 and 4 spell `$id` as `id` (which later drafts leave to properties)."""
    return isinstance(contents.get("id"), str) and any(d in dialect(contents) for d in ("-03", "-04"))


def _display(path: Path, base: Path | None) -> str:
    base = base or Path.cwd()
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
