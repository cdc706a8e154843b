"""Searching text for a schema's ECMA-262 `pattern` in bounded time, and jsonschema validators that search so.

Why: Python's `re` backtracks, so a pattern such as `^(a+)+$` (real schemas hold such email and identifier
patterns) takes exponential time on a string that almost matches: 40 `a`s and a `!` kept `schemarel load`
busy for minutes, in jsonschema wording why a document fails. Document text is anyone's, so no schema pattern
ever runs on it in `re`: jsonschema-rs's regex engine (Rust's `regex`, linear in the text, or `fancy-regex`
with a bounded number of backtracking steps for look-around and back references) answers instead, the
engine whose verdict on the whole document is the one that stands. Python's `re` remains only where
jsonschema-rs is missing or cannot read the pattern.

jsonschema searches in four keywords (`pattern`, `patternProperties`, and the `additionalProperties` and
`unevaluatedProperties` that skip the keys those patterns take), through the name `re` of its keyword
modules. `searching_class` gives a validator class whose keyword functions are the same code, run in copies of
those modules' namespaces in which `re` is this module's search: jsonschema's own rules and messages, without
its regular expression engine.
"""

from __future__ import annotations

import functools
import re
import types
from typing import Any

from schemarel.sql.regex import python_syntax

jsonschema_rs: Any
try:
    import jsonschema_rs
except ImportError:  # pragma: no cover - where no wheel exists for the platform, Python's `re` searches
    jsonschema_rs = None

# jsonschema's modules whose functions search with `re.search` (keywords, and the helpers they call)
_KEYWORD_MODULES = ("jsonschema._keywords", "jsonschema._legacy_keywords", "jsonschema._utils")


def search(pattern: str, text: str) -> bool:
    """Whether the ECMA-262 `pattern` matches somewhere in `text`, as JSON Schema's `pattern` asks."""
    return bool(_searcher(pattern)(text))


@functools.lru_cache(maxsize=4096)
def _searcher(pattern: str) -> Any:
    if jsonschema_rs is not None:
        try:
            return jsonschema_rs.validator_for({"type": "string", "pattern": pattern}).is_valid
        except Exception:  # a pattern jsonschema-rs cannot read (the schema's own verdict is then jsonschema's)
            pass
    compiled = re.compile(python_syntax(pattern))
    return lambda text: compiled.search(text) is not None


class _Re:
    """The part of the `re` module jsonschema's keywords use, searching with `search`; the rest is `re`'s."""

    @staticmethod
    def search(pattern: str, text: str) -> bool:
        return search(pattern, text)

    def __getattr__(self, name: str) -> Any:
        return getattr(re, name)


@functools.cache
def _namespaces() -> dict[str, dict[str, Any]]:
    """Copies of the namespaces of jsonschema's keyword modules, `re` there being `_Re`, and each of their
    functions a copy running in them (so that a keyword's helper, such as `find_additional_properties`, searches
    the same way)."""
    import importlib

    modules = [importlib.import_module(name) for name in _KEYWORD_MODULES]
    spaces = {m.__name__: dict(vars(m), re=_Re()) for m in modules}
    for space in spaces.values():
        for name, value in list(space.items()):
            if isinstance(value, types.FunctionType) and value.__module__ in spaces:
                space[name] = _rebound(value, spaces[value.__module__])
    return spaces


def _rebound(fn: types.FunctionType, namespace: dict[str, Any]) -> types.FunctionType:
    copy = types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    copy.__qualname__ = fn.__qualname__
    return copy


def searching_class(cls: Any) -> Any:
    """The jsonschema validator class `cls`, its keywords searching patterns with `search` (ECMA-262 patterns,
    as the schema writes them)."""
    import jsonschema

    spaces = _namespaces()
    keywords = {
        keyword: spaces[fn.__module__][fn.__name__]
        for keyword, fn in cls.VALIDATORS.items()
        if getattr(fn, "__module__", None) in spaces and fn.__name__ in spaces[fn.__module__]
    }
    return jsonschema.validators.extend(cls, keywords)  # type: ignore[no-untyped-call]
