"""The downgrade of the revision that makes an earlier project's strings exact on MariaDB refuses, before it
changes anything, values the server's collation would take as equal in any unique key their column is in: a
unique property, a map's keys of one document, an array's unique items, and a unique index that schemarel did
not make (a hand-written revision's), naming the table, the key's columns and the values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from collation_helpers import ENV, as_generated_before, collation, pairs, server_equal
from filter_semantics import SETTINGS
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from pathtools import execute, ok, scalar, schemarel
from projects import generate, write_project
from schemarel import Store

SCHEMA = {
    **ENV,
    "properties": {
        **ENV["properties"],
        "nick": {"type": "string", "maxLength": 40},
        "zone": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 40}, "uniqueItems": True},
    },
}
# another system's unique indexes, one over a string and a number (compared as it is)
USER_INDEXES = (
    "CREATE UNIQUE INDEX ux_envs_nick ON envs (nick)",
    "CREATE UNIQUE INDEX ux_envs_zone ON envs (zone, name)",
)


def documents(where: str, a: str, b: str) -> tuple[list[dict[str, Any]], str]:
    """Documents that hold `a` and `b` where `where` says, and the key the downgrade must name."""
    if where == "unique":
        return [{"name": a}, {"name": b}], "`envs` (name)"
    if where == "index":
        return [{"name": "n1", "nick": a}, {"name": "n2", "nick": b}], "`envs` (nick)"
    if where == "index with a number":
        return [{"name": a, "zone": 1}, {"name": b, "zone": 1}], "`envs` (zone, name)"
    if where == "map":
        return [{"name": "n1", "vars": {a: "1", b: "2"}}], "`env_vars` (env_id, key)"
    return [{"name": "n1", "tags": [a, b]}], "`env_tags` (env_id, tag)"


WHERE = ["unique", "index", "index with a number", "map", "items"]
EXACT = [("envs", "name"), ("envs", "nick"), ("env_vars", "key"), ("env_tags", "tag")]


def test_downgrade_refuses_values_any_unique_key_would_take_as_equal(tmp_path: Path, mysql_url: str) -> None:
    root = write_project(tmp_path / "project", {"env": SCHEMA})
    assert generate(root).exit_code == 0
    as_generated_before(root)
    assert generate(root, "--rehash").exit_code == 0
    ok(schemarel(root, mysql_url, "upgrade", "0001"))
    execute(mysql_url, *USER_INDEXES)
    server = collation(mysql_url, "envs", "nick")
    ok(schemarel(root, mysql_url, "upgrade", "head"))

    @settings(SETTINGS, max_examples=10)  # two migrations per example
    @given(st.sampled_from(WHERE), pairs)
    @example("index", ("Ab", "ab"))
    @example("index with a number", ("e", "é"))
    @example("map", ("a", "a "))
    @example("items", ("fi", "ﬁ"))
    @example("unique", ("x", "Ｘ"))
    def check(where: str, pair: tuple[str, str]) -> None:
        a, b = pair
        assume(a != b and server_equal(mysql_url, a, b))
        docs, key = documents(where, a, b)
        store = Store(mysql_url, "env", source=root / "generated")
        try:
            ids = [store.create(doc) for doc in docs]
            assert [store.get(i) for i in ids] == docs
        finally:
            store.close()
        refused = schemarel(root, mysql_url, "downgrade", "0001")
        assert refused.returncode != 0
        assert key in refused.stderr, refused.stderr
        assert repr(a) in refused.stderr or repr(b) in refused.stderr, refused.stderr
        assert scalar(mysql_url, "SELECT version_num FROM alembic_version") == "0002"
        for column in EXACT:  # refused before anything changed
            assert collation(mysql_url, *column) == "utf8mb4_nopad_bin", column
        execute(mysql_url, "DELETE FROM envs")
        ok(schemarel(root, mysql_url, "downgrade", "0001"))
        assert {collation(mysql_url, *column) for column in EXACT} == {server}
        assert len(_unique_indexes(mysql_url)) == 3  # the constraint's and the two of another system
        ok(schemarel(root, mysql_url, "upgrade", "head"))

    check()


def _unique_indexes(url: str) -> list[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        found = [ix["name"] for ix in sa.inspect(conn).get_indexes("envs") if ix["unique"]]
    engine.dispose()
    return [str(name) for name in found]
