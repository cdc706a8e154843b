"""The docs' hand-kept PostgreSQL spellings say exactly what SQLAlchemy's compiler emits for the same column."""

from __future__ import annotations

import pytest
from schemarel.ir import Column, ColumnType, Default, TypeKind
from schemarel.sql.kinds import KINDS
from schemarel.sql.metadata import compiled_default, compiled_type
from schemarel.sql.spelling import display_default, display_type
from sqlalchemy.dialects import postgresql

SAMPLES = {
    "varchar": [ColumnType("varchar", length=320), ColumnType("varchar", length=2)],
    "numeric": [ColumnType("numeric", precision=12, scale=2), ColumnType("numeric", precision=5, scale=0)],
}


@pytest.mark.parametrize("kind", sorted(k for k, kind in KINDS.items() if kind.postgres))
def test_postgres_spelling_is_sqlalchemys(kind: TypeKind) -> None:
    pg = postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's psycopg dialect __init__ is unannotated
    for ctype in SAMPLES.get(kind, [ColumnType(kind)]):
        column = Column("c", ctype, nullable=True)
        assert display_type(column, {}) == compiled_type(column, {}, pg)


@pytest.mark.parametrize(
    "default",
    [
        Default("uuid"),
        Default("now"),
        Default("literal", "UTC"),
        Default("literal", "it's"),
        Default("literal", 3),
        Default("literal", 2.5),
        Default("literal", True),
        Default("literal", False),
    ],
    ids=repr,
)
def test_postgres_defaults_are_sqlalchemys(default: Default) -> None:
    kinds: dict[type, TypeKind] = {bool: "boolean", int: "bigint", float: "float"}
    kind = kinds.get(type(default.value), "text")
    column = Column("c", ColumnType(kind if default.kind == "literal" else "uuid"), False, default)
    pg = postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's psycopg dialect __init__ is unannotated
    expected = compiled_default(column, pg)
    assert display_default(column).strip("`") == expected


def test_check_path_does_not_import_sqlalchemy() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, schemarel.cli.main, schemarel.project.pipeline, schemarel.render.output;"
        " print('sqlalchemy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False", "keep SQLAlchemy off the `schemarel check` path: it doubles its start-up"
