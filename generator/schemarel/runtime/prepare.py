"""A document made ready to write: its values checked, its defaults filled in, validated against its schema."""

from __future__ import annotations

from typing import Any

from schemarel.errors import DocumentInvalid, ValueRejected
from schemarel.runtime.documents import DocumentMap
from schemarel.runtime.validation import DocumentValidator
from schemarel.runtime.values import problems


def check_values(name: str, document: Any, nul_ok: bool, index: int | None = None) -> None:
    """Raise DocumentInvalid (JSON text no schema can accept: a key given twice, NaN) or ValueRejected (what the
    database cannot hold: a lone surrogate, a NUL where `nul_ok` is False) before anything is written."""
    found = problems(document, nul_ok=nul_ok)
    if found.invalid:
        raise DocumentInvalid(name, found.invalid, index)
    if found.refused:
        raise ValueRejected("; ".join(str(v) for v in found.refused))


def prepared(
    name: str,
    mapping: DocumentMap,
    validator: DocumentValidator,
    document: Any,
    index: int | None = None,
    *,
    plain: bool = False,
    nul_ok: bool = False,
) -> Any:
    """The document with defaults filled in, validated (`check_values` first, unless `plain`: a document
    `exactjson.loads_checked` found plain JSON data, which those checks pass)."""
    if not plain:
        check_values(name, document, nul_ok, index)
    document = mapping.with_defaults(document)
    validator.validate(document, index)
    return document
