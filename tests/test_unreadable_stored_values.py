"""A stored value that SQLAlchemy's result processing or the driver refuses (a row another program wrote: SQLite
keeps 'yesterday' in a DATE column, PostgreSQL 'infinity' in a date and '24:00' in a time) is refused by every read
path naming the table, the column, the row's key and the value; exit 1 and no traceback from `schemarel export`.

Reads said `ValueError: Invalid isoformat string: 'yesterday'` (SQLite; a bare traceback from export) or "the
database cannot store a value of the document: date too large" (PostgreSQL, a read taken for a write), naming
neither where the value is nor that stored data is wrong.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import run_schemarel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projects import generate, write_project
from schemarel import Store, StoreError
from schemarel.runtime.async_store import AsyncStore

SCHEMA = {
    "title": "Item",
    "type": "object",
    "properties": {
        "code": {"type": "string", "x-sql": {"unique": True}},
        "day": {"type": "string", "format": "date"},
        "at": {"type": "string", "format": "date-time"},
        "clock": {"type": "string", "format": "time"},
        "ref": {"type": "string", "format": "uuid"},
        "price": {"type": "number"},
        "amount": {"type": "number", "x-sql": {"type": "numeric(12,2)"}},
        "n": {"type": "integer"},
        "meta": {"type": "object"},
        "tags": {
            "type": "array",
            "items": {"type": "object", "properties": {"on": {"type": "string", "format": "date"}}},
        },
    },
    "required": ["code"],
}
# a document of one table: read by one statement, on psycopg by the driver itself (the direct paths), and patched
# by one UPDATE … RETURNING
THING = {
    "title": "Thing",
    "type": "object",
    "properties": {k: v for k, v in SCHEMA["properties"].items() if k != "tags"},  # type: ignore[attr-defined]
    "required": ["code"],
}
GOOD = {
    "day": "2024-01-02",
    "at": "2024-01-02T03:04:05Z",
    "clock": "03:04:05Z",
    "ref": "5f0c6a52-53f4-4bd7-9a4f-0ac5a8d6c0a1",
    "price": 1.25,
    "amount": 2.5,
    "n": 3,
    "meta": {"a": 1},
    "tags": [{"on": "2024-01-01"}],
}
COLUMNS = [("items", c) for c in ("day", "at", "clock", "ref", "price", "amount", "n", "meta")] + [("item_tags", "on")]
# text no value of any column's kind is spelled as: no digits, no hex letters (a uuid), no float words
NONSENSE = st.text(
    st.characters(blacklist_categories=("Cs", "Nd"), blacklist_characters="abcdefABCDEF"), min_size=1, max_size=12
).filter(lambda t: t.strip().lower().lstrip("+-") not in {"nan", "inf", "infinity", "snan", "true", "null"})
SQLITE_CASES = st.tuples(
    st.sampled_from(COLUMNS),
    st.one_of(NONSENSE, st.sampled_from(["2024-13-45", "2024-02-30", "25:61:00", "yesterday", "1.2.3", "{bad", "NaN"])),
)
# what PostgreSQL's typed columns hold and psycopg cannot load (its text as PostgreSQL prints it back)
PG_DATES = ["infinity", "-infinity", "12345-06-07", "0044-03-15 BC", "200000-01-01"]
PG_CASES = st.one_of(
    st.tuples(st.sampled_from([("items", "day"), ("item_tags", "on")]), st.sampled_from(PG_DATES)),
    st.tuples(st.just(("items", "at")), st.sampled_from(["infinity", "-infinity"])),
    st.tuples(st.just(("items", "clock")), st.just("24:00:00")),
)
# what MariaDB's DATE and DATETIME hold where the SQL mode allows it, and PyMySQL gives as text
MYSQL_DATES = ["0000-00-00", "2024-00-10", "2024-02-00"]
MYSQL_CASES = st.one_of(
    st.tuples(st.sampled_from([("items", "day"), ("item_tags", "on")]), st.sampled_from(MYSQL_DATES)),
    st.tuples(st.just(("items", "at")), st.sampled_from([f"{d} 00:00:00" for d in MYSQL_DATES])),
)
CASES = {"sqlite": SQLITE_CASES, "postgresql": PG_CASES, "mysql": MYSQL_CASES}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_project(tmp_path_factory.mktemp("unreadable_stored"), {"item": SCHEMA, "thing": THING})
    assert generate(root).exit_code == 0
    return root


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def url(request: pytest.FixtureRequest, project: Path) -> str:
    url = str(request.getfixturevalue({"postgresql": "postgres_url"}.get(request.param, f"{request.param}_url")))
    upgraded = run_schemarel(project, "upgrade", "--db", url)
    assert upgraded.returncode == 0, upgraded.stderr
    return url


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_an_unreadable_stored_value_is_named_by_every_read(project: Path, url: str, data: st.DataObject) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    dialect = engine.dialect.name
    (table, column), text = data.draw(CASES[dialect])
    name = data.draw(st.sampled_from(["item", "thing"] if table == "items" else ["item"]))
    root = f"{name}s"
    table = root if table == "items" else table
    good_doc = {k: v for k, v in GOOD.items() if k in (SCHEMA if name == "item" else THING)["properties"]}
    with engine.begin() as conn:
        conn.execute(sa.text(f"DELETE FROM {root}"))
    with Store(url, name, source=project / "generated") as store:
        good = store.create({"code": "good", **good_doc})
        bad = store.create({"code": "bad", **good_doc})
    # behind schemarel's back: the bad document's value, as another program would write it
    quoted = engine.dialect.identifier_preparer.quote(column)
    where = "id = :k" if table == root else "item_id = :k"
    key = bad if dialect == "postgresql" else bad.hex
    with engine.begin() as conn:
        if dialect == "mysql":  # MariaDB keeps zero dates where the SQL mode allows them
            conn.exec_driver_sql("SET SESSION sql_mode = ''")
        conn.execute(sa.text(f"UPDATE {table} SET {quoted} = :v WHERE {where}"), {"v": text, "k": key})
        row_key = conn.execute(sa.text(f"SELECT id FROM {table} WHERE {where}"), {"k": key}).scalar_one()
        # the value as the database gives it (PostgreSQL: as its text, which psycopg cannot load; SQLite's
        # column affinity may have made a number of the text)
        raw = f"CAST({quoted} AS TEXT)" if dialect == "postgresql" else quoted
        stored = conn.execute(sa.text(f"SELECT {raw} FROM {table} WHERE id = :r"), {"r": row_key}).scalar_one()
    shown = repr(bad) if table == root else repr(row_key)
    said = f"{table}.{column} of the row whose id is {shown} holds {stored!r}, which is no "

    # a one-table patch is one UPDATE … RETURNING, written before the row it returns is read: it keeps the code
    patched = "other" if name == "item" else "bad"

    def refused(read: Any) -> None:
        with pytest.raises(StoreError) as raised:
            read()
        assert said in str(raised.value), str(raised.value)

    with Store(url, name, source=project / "generated") as store:
        refused(lambda: store.get(bad))
        refused(lambda: list(store.items(batch_size=1)))
        refused(lambda: list(store.pages(batch_size=7)))
        refused(lambda: list(store.find({"code": "bad"})))
        refused(lambda: store.get_by(code="bad"))
        refused(lambda: store.page({"code": "bad"}))
        refused(lambda: store.patch(bad, {"code": patched}))
        with store.snapshot() as conn:
            refused(lambda: store.get(bad, conn=conn))
        assert store.get(good)["code"] == "good"  # the other document is read as before
    if name == "item":  # the refused patch wrote nothing
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT code FROM items WHERE id = :k"), {"k": key}).scalar_one() == "bad"
    engine.dispose()
    if dialect == "postgresql":

        async def reads() -> None:
            async with AsyncStore(url, name, source=project / "generated") as other:
                for read in (
                    lambda: other.get(bad),
                    lambda: other.get_by(code="bad"),
                    lambda: other.page({"code": "bad"}),
                    lambda: other.patch(bad, {"code": patched}),
                    lambda: _all(other.find({"code": "bad"})),
                    lambda: _all(other.items()),
                ):
                    with pytest.raises(StoreError) as raised:
                        await read()
                    assert said in str(raised.value), str(raised.value)

        asyncio.run(reads())
    result = run_schemarel(project, "export", "--schema", name, "--db", url)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert said in result.stderr


async def _all(items: Any) -> list[Any]:
    return [item async for item in items]
