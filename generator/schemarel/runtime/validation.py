"""Document validation: a compiled validator gives the verdict, `jsonschema` explains the failures."""

from __future__ import annotations

import copy
import json
import reprlib
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from schemarel.errors import DocumentInvalid, Violation, pointer
from schemarel.schema.loader import SourceSchema, dialect, schema_registry, schema_uris
from schemarel.schema.patterns import searching_class

if TYPE_CHECKING:
    import jsonschema

jsonschema_rs: Any
try:  # an accelerator: the same verdicts, about 80× faster than jsonschema on our documents
    import jsonschema_rs
except ImportError:  # pragma: no cover - where no wheel exists for the platform, jsonschema alone decides
    jsonschema_rs = None


class DocumentValidator:
    """Validates documents of one schema (formats checked); `$ref`s may reach the other schema files."""

    def __init__(self, source: SourceSchema, sources: Iterable[SourceSchema]) -> None:
        self.name = source.name
        self.source = source
        self.others = list(sources)
        self.fast = compiled(source, self.others)

    @cached_property
    def reference(self) -> Any:
        """The jsonschema validator: built at the first document it words the faults of (or every document's
        verdict where jsonschema-rs is missing), as it takes longer to build than most loads take to check."""
        import jsonschema

        registry = schema_registry((s.path, standard(s.contents)) for s in self.others)
        cls = jsonschema.validators.validator_for({"$schema": dialect(self.source.contents)})
        return searching_class(cls)(
            standard(self.source.contents), registry=registry, format_checker=format_checker(cls)
        )

    def violations(self, document: Any) -> list[Violation]:
        """Every way `document` fails the schema, sorted by pointer; empty when it is valid."""
        if self.fast is not None:
            try:
                if self.fast.is_valid(document):
                    return []
            except (ValueError, TypeError, OverflowError) as exc:  # e.g. a dict with int keys
                return [Violation("#", f"not JSON data: {exc}")]
        try:
            # jsonschema words the errors; it takes a Decimal for no integer and cannot divide one by a float
            errors = self.reference.iter_errors(_plain(document))
            found = {Violation(pointer(*e.absolute_path), _brief(e.message, e.instance, repr)) for e in errors}
        except (TypeError, ArithmeticError, RecursionError):
            found = set()
        if self.fast is not None:
            # every fault in one pass: what the compiled validator finds at a place jsonschema found nothing
            # wrong with (a stricter reading of some keyword) is listed too, in its own words
            seen = {v.pointer for v in found}
            try:
                fast = {
                    Violation(pointer(*e.instance_path), _brief(e.message, e.instance, _json_text))
                    for e in self.fast.iter_errors(document)
                }
            except (ValueError, TypeError, OverflowError) as exc:  # a value it cannot quote (a subclass of str)
                fast = {Violation("#", f"not JSON data: {exc}")}
            found |= {v for v in fast if v.pointer not in seen}
        return sorted(found, key=lambda v: (v.pointer, v.message))

    def validate(self, document: Any, index: int | None = None) -> None:
        """Raise DocumentInvalid listing every violation."""
        found = self.violations(document)
        if found:
            raise DocumentInvalid(self.name, found, index)


LONGEST_MESSAGE = 300  # characters of a violation's message; past it, the value it quotes is abbreviated
_PREVIEW = reprlib.Repr()  # what is left of a long value: its start and end, a few items of each container
_PREVIEW.maxstring = _PREVIEW.maxlong = _PREVIEW.maxother = 80
_PREVIEW.maxlist = _PREVIEW.maxdict = 5


def _brief(message: str, instance: Any, quoted: Callable[[Any], str]) -> str:
    """A validator's message with the value it quotes (spelled by `quoted`: jsonschema's `repr`, jsonschema-rs's
    JSON) abbreviated when the message is long: a 5 MB string, or an object failing `type`, is quoted whole,
    in the Store's exception, the reject file and the terminal alike. A message that quotes it otherwise is cut
    in the middle."""
    if len(message) <= LONGEST_MESSAGE:
        return message
    try:
        whole = quoted(instance)
    except (TypeError, ValueError, RecursionError):
        whole = ""
    if whole and whole in message:
        message = message.replace(whole, _PREVIEW.repr(instance), 1)
    if len(message) <= LONGEST_MESSAGE:
        return message
    half = LONGEST_MESSAGE // 2
    return f"{message[:half]} … {message[-half:]}"


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# formats jsonschema-rs checks; jsonschema checks several of them only with optional packages installed
# (`date-time` needs rfc3339-validator), and silently passes them otherwise
RS_FORMATS = (
    "date", "date-time", "time", "duration", "email", "idn-email", "hostname", "idn-hostname", "ipv4", "ipv6",
    "uri", "uri-reference", "iri", "iri-reference", "uri-template", "json-pointer", "relative-json-pointer", "uuid",
)  # fmt: skip


def format_checker(cls: Any) -> jsonschema.FormatChecker:
    """The validator class's format checker, with every format jsonschema-rs knows checked by it: the same
    verdicts as the compiled validator, so that one pass of jsonschema words every fault, formats included."""
    checker = copy.deepcopy(cls.FORMAT_CHECKER)
    if jsonschema_rs is None:
        return checker  # type: ignore[no-any-return]
    for name in RS_FORMATS:
        try:
            single = jsonschema_rs.validator_for({"format": name}, validate_formats=True)
        except Exception:  # pragma: no cover - a jsonschema-rs without this format
            continue
        checker.checks(name)(lambda value, single=single: not isinstance(value, str) or single.is_valid(value))
    return checker  # type: ignore[no-any-return]


_LARGEST_WORDED = 308  # a double's exponent: beyond it a number is worded as written


def _plain(value: Any) -> Any:
    """The document with Decimals as the int or float nearest to them (for the wording only); an integral one
    past a double's range stays a Decimal (`1e999999` as an int has a million digits: seconds of CPU, then no
    text jsonschema could word)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        if value.is_finite() and value.adjusted() > _LARGEST_WORDED:
            return value
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def compiled(source: SourceSchema, sources: list[SourceSchema]) -> Any:
    """A jsonschema-rs validator, or None where it is missing or cannot compile this schema."""
    if jsonschema_rs is None:
        return None
    resources = []
    own = None
    for s in sources:  # one standard form per file, whatever number of URIs it answers to
        spelled = standard(s.contents)
        resources += [(uri, spelled) for uri in schema_uris(s.path, s.contents)]
        own = spelled if s is source else own  # spelled once: a big schema's copy costs as much as the compile
    try:
        return jsonschema_rs.validator_for(
            {**(own if own is not None else standard(source.contents)), "$schema": dialect(source.contents)},
            validate_formats=True,
            registry=jsonschema_rs.Registry(resources),
            base_uri=schema_uris(source.path, source.contents)[-1],
        )
    except Exception:  # an unsupported regex or keyword: jsonschema alone still decides, only slower
        return None


_VALUES = frozenset({"enum", "const", "default", "examples"})  # keywords whose values are data, not schemas


# OpenAPI's integer formats (Kubernetes' `replicas`), which narrow the column: checked as bounds, since neither
# validator's format hooks see numbers (jsonschema-rs calls them for strings only), and bounds cost nothing more
_FORMAT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def standard(schema: Any) -> Any:
    """The schema with OpenAPI 3.0's `nullable: true` spelled as JSON Schema, as `normalize` reads it: null is
    added to `type` and `enum`, or the node becomes "null or this"; `format: int32`/`int64` bounds numbers to
    that range (a value past it was valid, then refused by the column)."""
    if isinstance(schema, list):
        return [standard(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: v if k in _VALUES else standard(v) for k, v in schema.items()}
    fmt = out.get("format")
    if isinstance(fmt, str) and fmt in _FORMAT_BOUNDS and isinstance(out.get("allOf", []), list):
        low, high = _FORMAT_BOUNDS[fmt]
        out["allOf"] = [*out.get("allOf", []), {"minimum": low, "maximum": high}]
    if out.get("nullable") is not True:
        return out
    if isinstance(out.get("enum"), list) and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    elif isinstance(kind, list):
        out["type"] = kind if "null" in kind else [*kind, "null"]
    elif "enum" not in out:
        return {"anyOf": [{"type": "null"}, {k: v for k, v in out.items() if k != "nullable"}]}
    return out
