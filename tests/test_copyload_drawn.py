"""`schemarel load` by COPY (runtime/copyload.py) against the Store's way on schemas hypothesis draws: scalars of
every type and format, enums, unions, nullables, arrays of arrays, maps, nested objects, recursive properties,
property names no identifier spells, keys made by schemarel or by the server (children's keys then fetched from
their sequence before they are written). Each drawn project is generated and upgraded on PostgreSQL as a user does;
its documents are loaded once each way, and the exit code, output, reject file and export must be the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projects import generate, invoke, write_project
from schemarel.runtime import copyload, exactjson
from test_documents_roundtrip import DEFS, NAMES, _object, _shapes


@st.composite
def schemas_and_documents(draw: st.DrawFn) -> tuple[dict[str, Any], list[Any]]:
    properties = draw(
        st.lists(st.tuples(NAMES, _shapes(2), st.booleans()), min_size=1, max_size=6, unique_by=lambda p: p[0])
    )
    shape = _object(properties)
    keyed = draw(st.sampled_from([{}, {"x-sql": {"primaryKey": "identity"}}]))  # uuid keys, or the server's
    schema = {"title": "Thing", **shape.node, "$defs": DEFS, **keyed}
    return schema, draw(st.lists(shape.values, min_size=1, max_size=5))


def _emptied(url: str) -> None:
    """Every table of the drawn schema emptied (the migrations' own table kept)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        names = [n for n in sa.inspect(engine).get_table_names() if n != "alembic_version"]
        with engine.begin() as conn:
            conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " CASCADE")
    finally:
        engine.dispose()


def _outcome(root: Path, url: str, batch_size: int, by_copy: bool) -> tuple[Any, ...]:
    """Exit code and output of the load (its timing left out), its reject file, the export; and whether COPY
    loaded it all (no batch handed over to the Store's way)."""
    runs: list[bool] = []
    run = copyload.CopyLoader.run

    def spying(self: copyload.CopyLoader, lines: Any) -> Any:
        rest = run(self, lines)
        runs.append(rest is None)
        return rest

    rejects = root / "in.ndjson.rejects.ndjson"
    rejects.unlink(missing_ok=True)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(copyload.CopyLoader, "run", spying)
        if not by_copy:
            patched.setattr(copyload, "copy_loader", lambda *args, **kwargs: None)
        loaded = invoke(root, "load", "in.ndjson", "--schema", "thing", "--db", url, "--batch-size", str(batch_size))
    exported = invoke(root, "export", "--schema", "thing", "--db", url)
    assert exported.exit_code == 0, exported.output
    _emptied(url)
    output = loaded.output.split(" in ")[0]  # "loaded N thing documents" (the timing differs)
    found = rejects.read_text(encoding="utf-8") if rejects.exists() else None
    return (loaded.exit_code, output, found, sorted(exported.output.splitlines())), runs == [True]


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(drawn=schemas_and_documents(), batch_size=st.integers(1, 3))
def test_drawn_schemas_load_alike_by_copy_and_the_stores_way(
    postgres_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    drawn: tuple[dict[str, Any], list[Any]],
    batch_size: int,
) -> None:
    schema, documents = drawn
    root = write_project(tmp_path_factory.mktemp("drawn"), {"thing": schema})
    generated = generate(root)
    assert generated.exit_code == 0, generated.output
    engine = sa.create_engine(postgres_url, poolclass=sa.pool.NullPool)
    try:
        upgraded = invoke(root, "upgrade", "--db", postgres_url)
        assert upgraded.exit_code == 0, upgraded.output
        (root / "in.ndjson").write_text(exactjson.dumps_lines(documents), encoding="utf-8")
        by_copy, copied = _outcome(root, postgres_url, batch_size, by_copy=True)
        by_store, _ = _outcome(root, postgres_url, batch_size, by_copy=False)
        assert copied, "COPY loaded every line (valid documents: no batch handed over)"
        assert by_copy == by_store
        assert by_copy[0] == 0, by_copy  # every drawn document is valid
    finally:
        with engine.begin() as conn:  # the next example's migrations start from an empty database
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
