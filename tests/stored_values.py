"""Stored values written behind the Store's back, and every read path that must refuse them by name: shared by the
tests of values no read can take or would take for another (test_unreadable_stored_values, test_misread_…)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import run_schemarel
from hypothesis import strategies as st
from projects import generate, write_project
from schemarel import Store, StoreError
from schemarel.runtime.async_store import AsyncStore


def upgraded_url(request: pytest.FixtureRequest, project: Path) -> str:
    """A fresh database of the fixture's parameter (sqlite, postgresql, mysql), upgraded to `project`'s head."""
    url = str(request.getfixturevalue({"postgresql": "postgres_url"}.get(request.param, f"{request.param}_url")))
    upgraded = run_schemarel(project, "upgrade", "--db", url)
    assert upgraded.returncode == 0, upgraded.stderr
    return url


def project_of(factory: pytest.TempPathFactory, schemas: dict[str, Any]) -> Path:
    """A project of `schemas`, generated."""
    root = write_project(factory.mktemp("stored_values"), schemas)
    assert generate(root).exit_code == 0
    return root


def drawn_document(data: Any, table: str, good: dict[str, Any], schemas: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A schema of `schemas` ("item" or "thing", "item" where `table` is a child table) and the values of `good`
    its properties have."""
    name = data.draw(st.sampled_from(["item", "thing"] if table == "items" else ["item"]))
    return name, {k: v for k, v in good.items() if k in schemas[name]["properties"]}


@dataclass
class Planted:
    """Two documents written by the Store, and the bad one's value overwritten by another program."""

    good: Any
    bad: Any
    key: Any  # the bad document's key as the database takes it in raw SQL
    row_key: Any  # the key of the row holding the value
    named: str  # how a refusal starts naming it: "<table>.<column> of the row whose id is <key> holds "


def plant(url: str, project: Path, name: str, document: dict[str, Any], table: str, column: str, value: str,
          params: dict[str, Any] | None = None) -> Planted:  # fmt: skip
    """The documents "good" and "bad" of schema `name` (its only ones, `document` each), then `table`.`column`
    of the bad one set to the SQL expression `value` (`params` bound) with raw SQL. `table`: "items" (the
    schema's root table) or a child table of the `item` schema."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    dialect = engine.dialect.name
    if dialect == "sqlite":  # the DELETE below cascades to the child rows, as the Store's connections have it
        sa.event.listen(engine, "connect", lambda dbapi, record: dbapi.execute("PRAGMA foreign_keys = ON"))
    root = f"{name}s"
    table = root if table == "items" else table
    with engine.begin() as conn:
        # the earlier example's documents go, children too: an orphaned child row holding its planted value
        # would be met first by a read that streams a child table in key order
        conn.execute(sa.text(f"DELETE FROM {root}"))
    with Store(url, name, source=project / "generated") as store:
        good = store.create({"code": "good", **document})
        bad = store.create({"code": "bad", **document})
    quoted = engine.dialect.identifier_preparer.quote(column)
    where = "id = :k" if table == root else "item_id = :k"
    key = bad if dialect == "postgresql" else bad.hex
    with engine.begin() as conn:
        if dialect == "mysql":  # MariaDB keeps zero dates where the SQL mode allows them
            conn.exec_driver_sql("SET SESSION sql_mode = ''")
        conn.execute(sa.text(f"UPDATE {table} SET {quoted} = {value} WHERE {where}"), {"k": key, **(params or {})})
        row_key = conn.execute(sa.text(f"SELECT id FROM {table} WHERE {where}"), {"k": key}).scalar_one()
    engine.dispose()
    shown = repr(bad) if table == root else repr(row_key)
    return Planted(good, bad, key, row_key, f"{table}.{column} of the row whose id is {shown} holds ")


def refused_by_every_read(url: str, project: Path, name: str, bad: Any, said: str) -> None:
    """Every read path of the Store (and on PostgreSQL the AsyncStore's) raises a StoreError saying `said` when
    it meets the bad document, and `schemarel export` exits 1 saying it, no traceback."""
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
    if url.startswith("postgresql"):

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
