"""Enum filters (`eq`, `in`) select exactly what Python selects and can be answered by the enum column's index."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from projects import write_project
from runtime_helpers import open_store
from schemarel.runtime import query
from schemarel.runtime.store import Store

LABELS = ["active", "paused", "é", "closed"]
SCHEMA = {
    "title": "Ticket",
    "type": "object",
    "properties": {
        "status": {"enum": LABELS, "x-sql": {"index": True}},
        "tags": {"type": "array", "items": {"enum": LABELS}},  # a child table's enum column, probed by EXISTS
    },
}
# what a filter may name: the labels, and strings that are none, among them those a folding collation takes for
# one (a label's other case, accent or padding)
ASKED = st.sampled_from([*LABELS, "ACTIVE", "Paused", "closed ", "É", "e", "nope", ""])


def documents(count: int) -> list[dict[str, Any]]:
    cycle = itertools.cycle(LABELS)
    return [{"status": next(cycle), "tags": [next(cycle), next(cycle)][: i % 3]} for i in range(count)]


@pytest.fixture
def tickets(three_db_url: str, tmp_path: Path) -> Any:
    store = open_store(three_db_url, "ticket", write_project(tmp_path, {"ticket": SCHEMA}) / "schemas")
    assert [f.kind for f in store.root.fields if f.column == "status"] == ["enum"]  # what this file is about
    docs = documents(60)
    ids = store.create_many(docs)
    yield store, dict(zip(ids, docs, strict=True))
    with store.engine.begin() as conn:
        store.metadata.drop_all(conn)
    store.close()


def selected(stored: dict[Any, dict[str, Any]], path: str, spec: Any) -> set[Any]:
    values = spec["in"] if isinstance(spec, dict) else [spec]
    if path == "status":
        return {k for k, d in stored.items() if d["status"] in values}
    return {k for k, d in stored.items() if any(t in values for t in d["tags"])}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["status", "tags"]), asked=st.lists(ASKED, min_size=1, max_size=4), one=st.booleans())
@example(path="status", asked=["ACTIVE"], one=True)  # another case of a label: no match, and no error
@example(path="tags", asked=["nope", "closed "], one=False)  # no label at all among them
def test_enum_filters_select_what_python_selects(tickets: Any, path: str, asked: list[str], one: bool) -> None:
    store, stored = tickets
    spec: Any = asked[0] if one else {"in": asked}
    expected = selected(stored, path, spec)
    assert {key for key, _ in store.find({path: spec})} == expected
    assert store.count({path: spec}) == len(expected)


def statement(store: Store, where: dict[str, Any]) -> str:
    """The SQL of the root rows `where` selects, values written in (EXPLAIN takes no parameters)."""
    select = sa.select(store.root.sa_table.c[store.root.key]).where(*query.where_clause(store.paths, where))
    return str(select.compile(dialect=store.engine.dialect, compile_kwargs={"literal_binds": True}))


@pytest.mark.parametrize("where", [{"status": "paused"}, {"status": {"in": ["paused", "nope"]}}])
def test_postgresql_answers_an_enum_filter_by_its_index(postgres_url: str, tmp_path: Path, where: Any) -> None:
    """The enum compared as its text (`status::text = 'paused'`) is no indexed expression: the filter now
    compares the column with the labels it names, which the index answers (seq scans off, to ask whether it
    can, not whether 60 rows make it worth it)."""
    store = open_store(postgres_url, "ticket", write_project(tmp_path, {"ticket": SCHEMA}) / "schemas")
    store.create_many(documents(60))
    with store.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement(store, where)))
    assert "Index" in plan and "ix_tickets__status" in plan, plan
    store.close()


def test_mariadb_can_answer_an_enum_filter_by_its_index(mysql_url: str, tmp_path: Path) -> None:
    """MariaDB lists the index among the possible keys of an enum filter (none for `CAST(status AS CHAR)`)."""
    store = open_store(mysql_url, "ticket", write_project(tmp_path, {"ticket": SCHEMA}) / "schemas")
    store.create_many(documents(60))
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN " + statement(store, {"status": "paused"})).mappings().all()
    assert any("ix_tickets__status" in (row["possible_keys"] or "") for row in rows), rows
    store.close()
