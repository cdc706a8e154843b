"""An integer written in a schema with a fraction or an exponent (`"enum": [1.0, 2e0]`, `"default": 5.0`) is an
integer to JSON Schema: the enum's CHECK keeps it (it was left out, so the database refused documents the schema
allows) and the default becomes the column's (it was dropped silently; `1e20`, past bigint, is now refused like
`100000000000000000000`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projects import write_project
from runtime_helpers import open_store
from schemarel.errors import SchemaError

SETTINGS = settings(
    deadline=None, database=None, max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _schema(prop: dict[str, Any]) -> dict[str, Any]:
    return {"title": "Tally", "type": "object", "properties": {"x": {"type": "integer", **prop}}}


def test_every_value_of_an_integer_enum_is_stored_however_it_is_written(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    @SETTINGS
    @given(
        st.lists(
            st.tuples(st.integers(-(2**40), 2**40), st.booleans()), min_size=1, max_size=6, unique_by=lambda v: v[0]
        )
    )
    def store_each(values: list[tuple[int, bool]]) -> None:
        root = tmp_path_factory.mktemp("enum")
        enum = [float(n) if as_float else n for n, as_float in values]
        write_project(root, {"tally": _schema({"enum": enum})})
        store = open_store(f"sqlite:///{root / 'x.db'}", "tally", root / "schemas")
        for n, _ in values:
            assert store.get(store.create({"x": n})) == {"x": n}

    store_each()


@pytest.mark.parametrize(("default", "stored"), [(5.0, 5), (-3e0, -3), (0.0, 0), (2.5e3, 2500)])
def test_an_integer_default_written_as_a_float_is_the_column_default(
    tmp_path: Path, default: float, stored: int
) -> None:
    write_project(tmp_path, {"tally": _schema({"default": default})})
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}", "tally", tmp_path / "schemas")
    column = store.metadata.tables["tallies"].c.x
    assert isinstance(column.server_default, sa.DefaultClause)
    assert str(column.server_default.arg) == str(stored)


def test_an_integer_default_past_bigint_is_refused_however_it_is_written(tmp_path: Path) -> None:
    write_project(tmp_path, {"tally": _schema({"default": 1e20})})
    with pytest.raises(SchemaError, match="out of the range of the column's type bigint"):
        open_store(f"sqlite:///{tmp_path / 'x.db'}", "tally", tmp_path / "schemas")
