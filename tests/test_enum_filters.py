"""A filter on an enum of mixed types (`["a", 1, null]`, kept in a column per JSON type) was typed as its
columns' types: any string, any integer. It takes the enum's values (`Literal`s, as the documents type them):
each value type-checks (mypy --strict) and finds the documents holding it; a value the enum lacks is an error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from projects import generate, write_project
from runtime_helpers import drawn_store

EXAMPLES = settings(
    max_examples=4,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
STRINGS = st.lists(st.text("abq'\\\"", min_size=1, max_size=4), min_size=1, max_size=3, unique=True)
INTEGERS = st.lists(st.integers(-50, 50), min_size=1, max_size=3, unique=True)


@st.composite
def enums(draw: st.DrawFn) -> list[Any]:
    """Strings and integers (so that at least two columns hold them), perhaps booleans, null, a fraction."""
    values: list[Any] = [*draw(STRINGS), *draw(INTEGERS)]
    values += draw(st.sampled_from([[], [True], [False, None], [None], [2.5]]))
    return draw(st.permutations(values))


def _outside(values: list[Any]) -> list[Any]:
    """Values of the enum's columns' types that the enum does not list (no integer beside a fraction: a fraction
    has no Literal, its filter takes a float, and a float parameter takes any int)."""
    strings = [v for v in values if isinstance(v, str)]
    integers = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    fractions = any(isinstance(v, float) for v in values)
    return ["".join(strings) + "z", *([] if fractions else [max(integers) + 1])]


def test_filters_on_mixed_enums_take_the_enums_values(sqlite_url: str, tmp_path: Path) -> None:
    runs = iter(range(10**6))

    @EXAMPLES
    @given(enums(), st.booleans())
    def typed(values: list[Any], nested: bool) -> None:
        prop = {"enum": values}
        properties = {"o": {"type": "object", "properties": {"e": prop}}} if nested else {"e": prop}
        path = "o.e" if nested else "e"
        schema = {"title": "Doc", "type": "object", "properties": {**properties, "n": {"type": "integer"}}}
        with drawn_store(tmp_path, sqlite_url, "doc", schema) as store:
            for i, value in enumerate(values):
                store.create({"n": i, "o": {"e": value}} if nested else {"n": i, "e": value})
            for i, value in enumerate(values):
                found = [d["n"] for _, d in store.find({path: value})]
                assert found == [i] if value is not None else i in found, (values, value, found)
        root = write_project(tmp_path / f"p{next(runs)}", {"doc": schema})
        assert generate(root).exit_code == 0
        head = ["from generated.documents import doc", "", 'docs = doc.store("sqlite://", check=False)']
        clean = root / "app.py"
        clean.write_text("\n".join([*head, *(f"print(docs.count({{{path!r}: {v!r}}}))" for v in values)]) + "\n")
        wrong = []
        for i, value in enumerate(_outside(values)):
            wrong.append(root / f"app_wrong_{i}.py")
            wrong[-1].write_text("\n".join([*head, f"print(docs.count({{{path!r}: {value!r}}}))"]) + "\n")
        env = {**os.environ, "MYPYPATH": str(root)}
        command = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / ".mypy_cache")]
        files = [p.name for p in [clean, *wrong]]  # mypy names them as given, from the project
        result = subprocess.run([*command, *files], capture_output=True, text=True, cwd=root, env=env, check=False)
        errors = [line for line in result.stdout.splitlines() if ": error:" in line]
        assert not [e for e in errors if e.startswith(f"{clean.name}:")], result.stdout
        for path_ in wrong:
            assert any(e.startswith(f"{path_.name}:") for e in errors), (values, result.stdout)

    typed()
