"""The one error type users see: a problem in an input file, located by file and JSON pointer."""

from __future__ import annotations


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


class HistoryError(SchemaError):
    """The recorded revision history is broken (a missing file, snapshots that do not chain): drift, exit 1."""

    exit_code = 1


def pointer(*parts: object) -> str:
    """A JSON pointer fragment (`#/properties/emails`) from path parts, escaped per RFC 6901."""
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "#" + "".join("/" + p for p in escaped)
