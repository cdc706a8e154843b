"""A deterministic example document for a schema, built from its `examples`, defaults, enums and formats.

No randomness: the same schema always gives the same document, so the docs that show it never drift. A value
is the first of `examples`, `const`, `default` or `enum` the node has; otherwise one made from its type,
`format`, `pattern` (a string the regular expression matches), length and range keywords. Every optional
property is filled in, so that the example reaches every table. The result is validated against the schema;
when it fails (an unusual pattern, conflicting keywords) the docs say so instead of showing a wrong example.
"""

from __future__ import annotations

import importlib
import re
import sys
from typing import TYPE_CHECKING, Any

import referencing
import referencing.exceptions

from schemarel.runtime.validation import compiled, standard
from schemarel.schema.jsontext import holds
from schemarel.schema.loader import SourceSchema, dialect
from schemarel.schema.patterns import searching_class
from schemarel.schema.refs import deref_raw
from schemarel.sql.regex import python_syntax

if TYPE_CHECKING:
    from referencing._core import Resolver  # not re-exported by `referencing`


# the parser `re` itself uses: private, but unchanged since Python 3.0 (moved into `re` in 3.11)
sre_parse: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")

_FORMATS = {
    "email": "user{n}@example.com",
    "idn-email": "user{n}@example.com",
    "uri": "https://example.com/{n}",
    "url": "https://example.com/{n}",
    "uri-reference": "/items/{n}",
    "hostname": "host{n}.example.com",
    "ipv4": "192.0.2.{n}",
    "ipv6": "2001:db8::{n}",
    "date": "2024-01-{n:02d}",
    "date-time": "2024-01-{n:02d}T12:00:00Z",
    "time": "12:00:{n:02d}",
    "duration": "P{n}D",
    "uuid": "00000000-0000-4000-8000-{n:012d}",
}
_MAX_DEPTH = 12  # a recursive schema gets an empty object past this depth, never an endless example
# every optional property is filled in, so big graph-like schemas (FHIR, Popolo) would grow an example
# exponentially: past this many values there is no example
_MAX_VALUES = 5_000


class ExampleError(ValueError):
    """The schema's keywords admit no example this module can build."""


def example_document(source: SourceSchema) -> Any:
    """The example document of `source`; raises ExampleError when the result does not validate."""
    builder = _Builder(source)
    document = builder.value(source.contents, source.resolver, "#", "", 1, 0)
    fast = compiled(source, [source])  # a schema whose `$ref`s reach other files is left to jsonschema
    try:
        if fast is not None and fast.is_valid(document):  # the verdict in compiled code; jsonschema words a fault
            return document
    except (ValueError, TypeError, OverflowError):
        pass
    if fast is not None and _has_union(source.contents):
        # the verdict stands, unworded: wording a union's fault (jsonschema's `best_match`, or jsonschema-rs's
        # errors) walks every failing branch of every union below, which a recursive union multiplies without
        # bound (a drawn one took minutes and 21 GB)
        raise ExampleError("the example built does not validate against the schema's anyOf/oneOf unions")
    import jsonschema  # slow to import: only to word why an example does not validate

    validator_cls = jsonschema.validators.validator_for({"$schema": dialect(source.contents)})
    validator = searching_class(validator_cls)(
        standard(source.contents),
        registry=source.resolver._registry,  # referencing has no public accessor; cross-file $refs need it
        format_checker=validator_cls.FORMAT_CHECKER,
    )
    try:
        error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    except (AttributeError, TypeError, LookupError, ValueError, RecursionError, referencing.exceptions.Unresolvable):
        # jsonschema trips over some schemas the metaschema lets through (`"$ref": null` in draft 4)
        raise ExampleError("the schema could not check an example against itself") from None
    if error is not None:
        where = "#" + "".join(f"/{p}" for p in error.absolute_path)
        raise ExampleError(f"the example built for {where} does not validate: {error.message}")
    return document


class _Builder:
    def __init__(self, source: SourceSchema) -> None:
        self.source = source
        self.values = 0

    def value(self, raw: Any, resolver: Resolver[Any], ptr: str, name: str, n: int, depth: int) -> Any:
        self.values += 1
        if self.values > _MAX_VALUES:
            raise ExampleError(f"the schema is too large for an example (more than {_MAX_VALUES} values)")
        node, resolver = deref_raw(self.source, raw, resolver, ptr)
        for key in ("examples", "const", "default", "enum"):
            if key in node:
                values = node[key] if key in ("examples", "enum") else [node[key]]
                usable = [v for v in values if v is not None] or values
                if usable:
                    return usable[(n - 1) % len(usable)]  # the n-th item of an array differs where it can
        for key in ("allOf", "oneOf", "anyOf"):
            if node.get(key):
                merged = dict(node)
                branches = node[key] if key == "allOf" else node[key][:1]
                del merged[key]
                for i, branch in enumerate(branches):
                    sub, _ = deref_raw(self.source, branch, resolver, f"{ptr}/{key}/{i}")
                    merged = _merge(merged, sub)
                return self.value(merged, resolver, ptr, name, n, depth)
        kind = _kind(node)
        if kind == "object":
            if depth >= _MAX_DEPTH:
                return {}
            props = node.get("properties") or {}
            document = {
                prop: self.value(sub, resolver, f"{ptr}/properties/{prop}", prop, n, depth + 1)
                for prop, sub in props.items()
            }
            extra = node.get("additionalProperties")
            if not props and isinstance(extra, dict) and extra:
                document["key"] = self.value(extra, resolver, f"{ptr}/additionalProperties", "key", n, depth + 1)
            return document
        if kind == "array":
            items = node.get("items", {})
            count = max(1, node.get("minItems", 1))
            return [self.value(items, resolver, f"{ptr}/items", name, i + 1, depth + 1) for i in range(count)]
        if kind == "string":
            return _string(node, name, n)
        if kind in ("integer", "number"):
            return _number(node, kind, n)
        if kind == "boolean":
            return True
        return None


def _kind(node: dict[str, Any]) -> str:
    types = node.get("type")
    if isinstance(types, list):
        types = next((t for t in types if t != "null"), "null")
    if types:
        return str(types)
    if "properties" in node:
        return "object"
    if "items" in node:
        return "array"
    return "string"


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    merged = {**a, **{k: v for k, v in b.items() if k not in ("properties", "required")}}
    merged["properties"] = {**a.get("properties", {}), **b.get("properties", {})}
    merged["required"] = [*a.get("required", []), *b.get("required", [])]
    if not merged["properties"]:
        del merged["properties"]
    return merged


def _string(node: dict[str, Any], name: str, n: int) -> str:
    if isinstance(node.get("pattern"), str):
        sample = regex_sample(python_syntax(node["pattern"]))
        if sample is not None:
            return sample
    template = _FORMATS.get(node.get("format", ""))
    text = template.format(n=n) if template else _words(name or "text") + ("" if n == 1 else f" {n}")
    low, high = node.get("minLength", 0), node.get("maxLength")
    if len(text) < low:
        text += "x" * (low - len(text))
    return text[:high] if isinstance(high, int) else text


def _words(name: str) -> str:
    """`firstName` → `First name`: a readable placeholder named after its property."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|[_\-\s]+", " ", name).strip().lower()
    return words[:1].upper() + words[1:]


def _number(node: dict[str, Any], kind: str, n: int) -> int | float:
    value: float = n if kind == "integer" else n + 0.5
    if "minimum" in node:
        value = max(value, node["minimum"])
    if "exclusiveMinimum" in node:
        value = max(value, node["exclusiveMinimum"] + (1 if kind == "integer" else 0.5))
    if "maximum" in node:
        value = min(value, node["maximum"])
    if "exclusiveMaximum" in node:
        value = min(value, node["exclusiveMaximum"] - (1 if kind == "integer" else 0.5))
    step = node.get("multipleOf")
    if isinstance(step, int | float) and step > 0:
        value = -(-value // step) * step
    return int(value) if kind == "integer" else float(value)


def regex_sample(pattern: str) -> str | None:
    """The shortest plain string `pattern` matches, choosing the first alternative everywhere; None if unsure."""
    try:
        parsed = sre_parse.parse(pattern)
        text = _emit(parsed)
    except (re.error, _Unsupported, RecursionError):
        return None
    return text if re.search(pattern, text) else None


class _Unsupported(Exception):
    pass


def _emit(items: Any) -> str:
    out = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "NOT_LITERAL":
            out.append("a" if chr(arg) != "a" else "b")
        elif name == "ANY":
            out.append("a")
        elif name == "IN":
            out.append(_char_in(arg))
        elif name == "BRANCH":
            out.append(_emit(arg[1][0]))
        elif name == "SUBPATTERN":
            out.append(_emit(arg[-1]))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _high, sub = arg
            out.append(_emit(sub) * low)
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue  # anchors and lookarounds add no characters
        elif name == "CATEGORY":
            out.append(_category(arg))
        else:
            raise _Unsupported(name)
    return "".join(out)


def _char_in(members: Any) -> str:
    if members and str(members[0][0]) == "NEGATE":
        excluded = {chr(a) for op, a in members[1:] if str(op) == "LITERAL"}
        return next(c for c in "axyz019" if c not in excluded)
    op, arg = members[0]
    if str(op) == "LITERAL":
        return chr(arg)
    if str(op) == "RANGE":
        return chr(arg[0])
    if str(op) == "CATEGORY":
        return _category(arg)
    raise _Unsupported(str(op))


def _category(cat: Any) -> str:
    name = str(cat)
    if "NOT" in name:
        return "-" if "WORD" in name else "a"
    return {"CATEGORY_DIGIT": "0", "CATEGORY_SPACE": " ", "CATEGORY_WORD": "a"}.get(name, "a")


def _has_union(contents: Any) -> bool:
    """Whether the schema holds an `anyOf` or `oneOf` anywhere."""
    return holds(contents, lambda node: isinstance(node.get("anyOf"), list) or isinstance(node.get("oneOf"), list))
