"""Each database's limits are refused at `generate`, where a revision can still be changed, not at `upgrade`:
a schema right at a limit generates and upgrades on SQLite, PostgreSQL and MariaDB; one past it is refused with
exit 2, the file and the JSON pointer, and nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from robust_helpers import assert_clean, project, schemarel, upgrade
from schemarel.sql import limits


def doc(props: dict[str, Any], **root: Any) -> dict[str, Any]:
    """A closed root object (no `_extra` column) whose properties are all required."""
    return {"title": "Doc", "type": "object", "additionalProperties": False, "required": list(props),
            "properties": props, **root}  # fmt: skip


def many(count: int, schema: dict[str, Any]) -> dict[str, Any]:
    return doc({f"c{i}": schema for i in range(count)})


ROW = limits.MARIADB.row_bytes
assert ROW is not None
# uuid key (129 bytes in InnoDB's count) and 18 bytes of row overhead, then 8 per NOT NULL bigint
BIGINTS = (ROW - 129 - 18) // 8
LABEL = limits.TABLE_LITERAL_BYTES // limits.MAX_ENUM_VALUES  # bytes a label when the enum is at both budgets


def enum(count: int, width: int) -> dict[str, Any]:
    return doc({"e": {"enum": [f"{i:0>{width}}" for i in range(count)]}})


def typed(sql_type: str) -> dict[str, Any]:
    return doc({"n": {"type": "number" if "numeric" in sql_type else "string", "x-sql": {"type": sql_type}}})


def small(default: int) -> dict[str, Any]:  # bounds make the column a smallint
    return doc({"n": {"type": "integer", "minimum": 0, "maximum": 100, "default": default}})


# (at the limit, [(past it, the pointer the refusal names)])
CASES: dict[str, tuple[dict[str, Any], list[tuple[dict[str, Any], str]]]] = {
    "columns": (many(limits.MAX_COLUMNS - 1, {"type": "boolean"}),
                [(many(limits.MAX_COLUMNS, {"type": "boolean"}), "#"),  # the key column is the one too many
                 (many(10_000, {"type": "string"}), f"#/properties/c{limits.MAX_COLUMNS}")]),
    "row size": (many(BIGINTS, {"type": "integer"}), [(many(BIGINTS + 1, {"type": "integer"}), "#")]),
    "enum": (enum(limits.MAX_ENUM_VALUES, LABEL),
             [(enum(limits.MAX_ENUM_VALUES, LABEL + 1), "#")]),  # more values: no enum type (test_enum_over_limit)
    "numeric": (typed("numeric(65,30)"),
                [(typed(t), "#/properties/n/x-sql/type")
                 for t in ("numeric(66,30)", "numeric(65,31)", "numeric(5,10)", "numeric(0)")]),
    "varchar": (typed(f"varchar({limits.MAX_VARCHAR})"),
                [(typed(t), "#/properties/n/x-sql/type") for t in (f"varchar({limits.MAX_VARCHAR + 1})",
                                                                  "varchar(0)", "varchar(99999999999)")]),
    "default": (small(2**15 - 1), [(small(2**15), "#/properties/n/default")]),
    "tool tables": (doc({"a": {"type": "string"}}, **{"x-sql": {"table": "alembic_versions"}}),
                    [(doc({"a": {"type": "string"}}, **{"x-sql": {"table": t}}), "#")
                     for t in ("alembic_version", "sqlite_master", "sqlite_docs")]),
    "nul": (doc({"a": {"type": "string", "default": "a\\0", "description": "NUL is \\0"}}),
            [(doc({"a": {"type": "string", "default": "a\x00"}}), "#/properties/a/default"),
             (doc({"a": {"type": "string", "description": "a\x00"}}), "#/properties/a/description"),
             (doc({"a": {"enum": ["x", "\x00"]}}), "#/properties/a/enum")]),
}  # fmt: skip


URL_FIXTURES = {"sqlite": "sqlite_url", "postgresql": "postgres_url", "mariadb": "mysql_url"}


@pytest.mark.parametrize("dialect", sorted(URL_FIXTURES))
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_schema_at_the_limit_generates_and_upgrades(
    case: str, dialect: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(URL_FIXTURES[dialect])
    root = project(tmp_path, CASES[case][0])
    run = schemarel(root, "generate")
    assert run.returncode == 0, run.stderr
    result = upgrade(root, url)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_schema_past_the_limit_is_refused_at_generate(case: str, tmp_path: Path) -> None:
    for i, (schema, where) in enumerate(CASES[case][1]):
        root = project(tmp_path / str(i), schema)
        run = schemarel(root, "generate")
        assert not assert_clean(run, root), f"{case} #{i} generated"
        assert run.stderr.startswith(f"error: schemas/doc.schema.json{where}: "), run.stderr


def test_a_refusal_leaves_an_existing_generated_tree_as_it_was(tmp_path: Path) -> None:
    from conftest import tree

    root = project(tmp_path, doc({"a": {"type": "string"}}))
    assert schemarel(root, "generate").returncode == 0
    before = tree(root / "generated")
    project(tmp_path, CASES["columns"][1][0][0])
    run = schemarel(root, "generate")
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert tree(root / "generated") == before
