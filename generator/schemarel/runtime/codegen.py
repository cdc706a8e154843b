"""Python source written at run time from the IR (the compiled row builders and readers): constants, lines, exec.

Schema text never becomes source: values are bound in the namespace the source runs in, under names `const`
gives them (`K3`, …), so a property name with quotes or newlines is data, never code.
"""

from __future__ import annotations

from typing import Any


class CodeWriter:
    """The lines of a generated module and the namespace it runs in."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace
        self.names: dict[int, str] = {}
        self.lines: list[str] = []

    def const(self, value: Any, prefix: str = "K") -> str:
        """The name under which `value` is in the namespace of the generated code."""
        name = self.names.get(id(value))
        if name is None or self.namespace[name] is not value:
            name = f"{prefix}{len(self.namespace)}"
            self.namespace[name] = value
            self.names[id(value)] = name
        return name

    def run(self, label: str) -> dict[str, Any]:
        """Execute the lines (named `label` in tracebacks); the namespace, now holding what they define."""
        source = "\n".join(self.lines) + "\n"
        exec(compile(source, label, "exec"), self.namespace)  # noqa: S102 - the module docstring says why it is safe
        return self.namespace
