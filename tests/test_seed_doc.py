"""The seed migration doc's relational model, reproduced name for name: in our docs and in a live PostgreSQL.

The model the product must keep is data of this repository (tests/data/seed_model.json), so these tests run in a
clone without ../shared; where ../shared is there, one more test holds that copy to the seed doc itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import REPO, SHARED, create_users_table, require_shared

SEED = SHARED / "seeds" / "004_fe50a1be069b0212.txt"
SEED_MODEL = REPO / "tests" / "data" / "seed_model.json"
OUR_DOCS = [
    REPO / "generated" / "docs" / "customer.md",
    *sorted((REPO / "generated" / "docs" / "migrations").glob("0001_*.md")),
]
NO_DEFAULT = "—"


@dataclass
class ModelDoc:
    """The facts a schema or migration doc states about the relational model."""

    overview: list[str] = field(default_factory=list)
    # table → [(column, type, null?, default)], in the doc's order
    columns: dict[str, list[tuple[str, str, str, str]]] = field(default_factory=dict)
    constraints: dict[str, list[str]] = field(default_factory=dict)
    enums: dict[str, list[str]] = field(default_factory=dict)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]


def _code(cell: str) -> str:
    return cell[1:-1] if cell.startswith("`") and cell.endswith("`") else cell


def parse_doc(text: str) -> ModelDoc:
    doc = ModelDoc()
    section, table = "", ""
    for line in text.splitlines():
        if line.startswith("## "):
            section, table = line[3:].strip(), ""
        elif section == "Column Reference" and line.startswith("### "):
            table = _code(line[4:].strip())
            doc.columns[table], doc.constraints[table] = [], []
        elif line.startswith("|") and not re.match(r"\|\s*(Table|Column|-+)\s*\|", line):
            cells = [_code(c) for c in _cells(line)]
            if section == "Relational Model Overview":
                doc.overview.append(cells[0])
            elif table:
                assert len(cells) == 5, line
                doc.columns[table].append((cells[0], cells[1], cells[2], cells[3]))
        elif line.startswith("- `"):
            names = re.findall(r"`([^`]+)`", line)
            if section == "Enumerations":
                doc.enums[names[0]] = names[1:]
            elif table:
                doc.constraints[table].append(names[0])
    return doc


def _check_shape(doc: ModelDoc) -> ModelDoc:
    # guard the parser and the data: the seed holds four tables, 20 columns, 5 named constraints, one enum
    assert len(doc.columns) == 4 and sum(map(len, doc.columns.values())) == 20
    assert sum(map(len, doc.constraints.values())) == 5 and len(doc.enums) == 1
    return doc


@pytest.fixture(scope="module")
def seed() -> ModelDoc:
    data = json.loads(SEED_MODEL.read_text(encoding="utf-8"))
    columns = {table: [tuple(c) for c in rows] for table, rows in data["columns"].items()}
    return _check_shape(ModelDoc(data["overview"], columns, data["constraints"], data["enums"]))


def test_seed_model_data_is_the_seed_doc(seed: ModelDoc) -> None:
    """The repository's copy of the seed's model says exactly what the hand-written seed doc says."""
    assert _check_shape(parse_doc(require_shared(SEED).read_text(encoding="utf-8"))) == seed


@pytest.mark.parametrize("path", OUR_DOCS, ids=lambda p: p.name)
def test_our_docs_state_the_seed_model(seed: ModelDoc, path: Path) -> None:
    ours = parse_doc(path.read_text(encoding="utf-8"))

    assert ours.overview == seed.overview
    assert ours.columns == seed.columns  # Column, Type, Null?, Default; table and column order included
    assert ours.enums == seed.enums
    assert ours.constraints.keys() == seed.constraints.keys()
    for table, names in seed.constraints.items():
        assert set(names) <= set(ours.constraints[table]), table
        for extra in set(ours.constraints[table]) - set(names):
            # the seed lists no constraints at all for some tables, and never names its foreign keys; the CHECKs
            # of minLength and pattern came later (revision 0003)
            assert extra.startswith((f"fk_{table}__", f"ck_{table}__")) or (not names and extra == f"pk_{table}"), extra
    every_name = [n for names in ours.constraints.values() for n in names] + list(ours.enums)
    assert len(every_name) == len(set(every_name))
    assert max(len(n.encode()) for n in every_name) <= 63, "PostgreSQL would silently truncate a longer name"


def _pg_type(seed_type: str) -> str:
    """How PostgreSQL's format_type() spells a type of the seed doc."""
    if seed_type == "bigserial":
        return "bigint"  # a bigint with a sequence default
    return re.sub(r"^varchar\((\d+)\)$", r"character varying(\1)", seed_type)


def _pg_default(seed_default: str, actual: str | None) -> bool:
    if seed_default == NO_DEFAULT:
        return actual is None
    if seed_default == "sequence":
        return actual is not None and re.fullmatch(r"nextval\('\w+_seq'::regclass\)", actual) is not None
    return actual == seed_default


COLUMNS_SQL = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.relname <> 'alembic_version'
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum
"""
NAMES_SQL = """
SELECT conrelid::regclass::text, conname FROM pg_constraint
WHERE connamespace = 'public'::regnamespace AND contype IN ('p', 'f', 'u', 'c', 'x')
UNION
SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public'
"""
ENUMS_SQL = """
SELECT t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid ORDER BY t.typname, e.enumsortorder
"""


def test_postgres_after_upgrade_holds_the_seed_model(
    seed: ModelDoc, project: Path, cli: Any, postgres_url: str
) -> None:
    create_users_table(postgres_url)  # profile.schema.json (revision 0002) references it
    result = cli(project, "upgrade", "--db", postgres_url)
    assert result.exit_code == 0, result.output

    engine = sa.create_engine(postgres_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        columns: dict[str, list[tuple[str, str, str, str | None]]] = {}
        for table, column, type_, not_null, default in conn.execute(sa.text(COLUMNS_SQL)):
            columns.setdefault(table, []).append((column, type_, "NO" if not_null else "YES", default))
        names: dict[str, set[str]] = {}
        for table, name in conn.execute(sa.text(NAMES_SQL)):
            names.setdefault(table, set()).add(name)
        enums: dict[str, list[str]] = {}
        for type_name, label in conn.execute(sa.text(ENUMS_SQL)):
            enums.setdefault(type_name, []).append(label)
    engine.dispose()

    assert set(seed.columns) <= set(columns)
    for table, expected in seed.columns.items():
        actual = columns[table]
        assert [c[0] for c in actual] == [c[0] for c in expected], table
        for (name, type_, null, default), (_, pg_type, pg_null, pg_default) in zip(expected, actual, strict=True):
            assert (pg_type, pg_null) == (_pg_type(type_), null), f"{table}.{name}"
            assert _pg_default(default, pg_default), f"{table}.{name}: {pg_default!r} is not {default}"
    ours = parse_doc(OUR_DOCS[0].read_text(encoding="utf-8"))
    for table, expected_names in seed.constraints.items():
        assert set(expected_names) <= names.get(table, set()), table
        # and the database holds exactly the constraints and indexes our doc lists, no unnamed extra
        assert names.get(table, set()) == set(ours.constraints[table]), table
    assert enums == seed.enums
