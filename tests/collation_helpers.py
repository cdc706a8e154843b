"""Strings a folding collation takes as equal, a schema holding them in unique keys, and what tests of MariaDB's
collations read off a database or do to a project (make it look as generated before string columns were exact)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from hypothesis import strategies as st
from pathtools import scalar

# a unique property and a map: its keys are unique in each document
ENV: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.com/env.schema.json",
    "title": "Env",
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 100, "x-sql": {"unique": True}},
        "vars": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["name"],
}

ACCENTS = {"a": "á", "e": "é", "o": "ö", "u": "ü", "n": "ñ", "c": "ç", "s": "ß"}


def variant(text: str, how: str) -> str:
    """`text` changed in a way a case- and accent-insensitive, space-padding collation may not see."""
    if how == "case":
        return text.swapcase()
    if how == "space":
        return text + " "
    if how == "accent":
        return "".join(ACCENTS.get(ch, ch) for ch in text)
    if how == "ligature":
        return text.replace("fi", "ﬁ")
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)  # full width


pairs = st.tuples(
    st.text(alphabet="abcefinosuABE ", min_size=1, max_size=8),
    st.lists(st.sampled_from(["case", "space", "accent", "ligature", "width"]), min_size=1, max_size=3),
).map(lambda drawn: (drawn[0], fold(drawn[0], drawn[1])))


def fold(text: str, hows: list[str]) -> str:
    for how in hows:
        text = variant(text, how)
    return text


def server_equal(url: str, a: str, b: str) -> bool:
    """Whether the server's default collation (this database's) takes `a` and `b` as equal."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        collation = conn.exec_driver_sql("SELECT @@collation_database").scalar_one()
        equal = conn.execute(sa.text(f"SELECT :a = :b COLLATE {collation}"), {"a": a, "b": b}).scalar_one()
    engine.dispose()
    return bool(equal)


def collation(url: str, table: str, column: str) -> str:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(
                "SELECT collation_name FROM information_schema.columns"
                " WHERE table_schema = database() AND table_name = :t AND column_name = :c"
            ),
            {"t": table, "c": column},
        ).scalar_one()
    engine.dispose()
    return str(found)


def as_generated_before(root: Path) -> None:
    """The project as schemarel generated it before string columns were exact: its first revision without the
    collation, its snapshot without `exact_text` (`generate --rehash` then takes the files as they are)."""
    for revision in (root / "generated" / "migrations" / "versions").glob("0001_*.py"):
        text = revision.read_text()
        revision.write_text(
            text.replace('collation="utf8mb4_nopad_bin", ', "").replace('collation="utf8mb4_nopad_bin"', "")
        )
    snapshot = root / "generated" / "migrations" / "snapshots" / "0001.json"
    data = json.loads(snapshot.read_text())
    del data["database"]["exact_text"]
    snapshot.write_text(json.dumps(data))


def foreign_keys(url: str) -> int:
    query = "SELECT count(*) FROM information_schema.referential_constraints WHERE constraint_schema = database()"
    return int(scalar(url, query))
