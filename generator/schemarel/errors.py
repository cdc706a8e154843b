"""Errors users see without a traceback: bad input files (file + JSON pointer) and refused documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class SchemarelError(Exception):
    """Base class of every error schemarel reports to a user without a traceback."""

    exit_code = 2


class SchemaError(SchemarelError):
    """A schema file is unreadable, invalid, or uses a construct schemarel cannot map."""

    def __init__(self, file: str, pointer: str, message: str) -> None:
        self.file = file
        self.pointer = pointer
        self.message = message
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.file}{self.pointer}: {self.message}"

    def __reduce__(self) -> tuple[type[SchemaError], tuple[str, str, str]]:
        """Pickled as its three parts (render.beside sends it from the process that raised it)."""
        return (type(self), (self.file, self.pointer, self.message))


class HistoryError(SchemaError):
    """The recorded revision history is broken (a missing file, snapshots that do not chain): drift, exit 1."""

    exit_code = 1


def pointer(*parts: object) -> str:
    """A JSON pointer fragment (`#/properties/emails`) from path parts, escaped per RFC 6901."""
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "#" + "".join("/" + p for p in escaped)


class StoreError(SchemarelError):
    """A document operation the runtime refused; nothing of it was written."""

    exit_code = 1


@dataclass(frozen=True)
class Violation:
    """One reason a document does not satisfy its schema, at a JSON pointer into the document."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer}: {self.message}"


class DocumentInvalid(StoreError):
    """The document fails its JSON Schema; `violations` lists every failure, sorted by pointer."""

    exit_code = 2

    def __init__(self, schema: str, violations: list[Violation], index: int | None = None) -> None:
        self.schema = schema
        self.violations = violations
        self.index = index  # the document's position in a create_many call
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.violations)
        which = "document" if self.index is None else f"document {self.index}"
        head = f"{which} is not a valid {self.schema}: {count} violation{'s' * (count != 1)}"
        return "\n  ".join([head, *(str(v) for v in self.violations)])


class ConstraintViolation(StoreError):
    """The database refused the rows (a unique, foreign key, check or NOT NULL constraint); rolled back."""

    def __init__(self, constraint: str | None, detail: str) -> None:
        self.constraint = constraint
        self.detail = detail
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"constraint {self.constraint}" if self.constraint else "a constraint"
        return f"the database refused the document ({where}): {self.detail}"


class ValueRejected(StoreError):
    """A value the schema allows but the database cannot hold (out of range, a NUL character); rolled back.

    `unplaced`: the detail names the column, not where in the document the value sits; the caller holding the
    whole document finds `value` (the document's own object) in it and puts its pointer in front (`located`)."""

    def __init__(self, detail: str, value: Any = None, *, unplaced: bool = False) -> None:
        self.detail = detail
        self.value = value
        self.unplaced = unplaced
        super().__init__(f"the database cannot store a value of the document: {detail}")

    def located(self, where: str) -> ValueRejected:
        """The same refusal with the value's JSON pointer in front (`#/lines/1/qty (event_lines.qty) = …`)."""
        return ValueRejected(f"{where} {self.detail}")


class MigrationRequired(StoreError):
    """The database's tables are not those of the models (never upgraded, or at another revision); the
    message says which command brings them together."""


class WriteRefused(StoreError):
    """The database refuses the write whatever the document (no privilege, a read-only database or
    transaction, a full disk); the message quotes its reason."""


class ConcurrentUpdate(StoreError):
    """The document changed since it was read (`patch(..., if_match=...)`); nothing was written."""

    def __init__(self, schema: str, doc_id: object) -> None:
        self.doc_id = doc_id
        super().__init__(f"the {schema} document {doc_id} changed since it was read; read it again and retry")


class DocumentNotFound(StoreError, KeyError):
    """No document with this id."""

    def __init__(self, schema: str, doc_id: object, by: str = "id") -> None:
        self.doc_id = doc_id
        super().__init__(f"no {schema} document with {by} {doc_id}")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class QueryError(SchemarelError, ValueError):
    """A filter or ordering the tables cannot answer (an unknown path, a JSON value, a bad operator), or a count
    argument out of range."""


def amount(name: str, value: Any, least: int) -> int:
    """A count argument (`limit`, `batch_size`): a whole number of at least `least`, else QueryError (a page
    of 0, a batch of 0 or -1 would read nothing, silently; PostgreSQL refuses a negative LIMIT)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise QueryError(f"{name} takes a whole number of at least {least}, not {value!r}")
    return value
