"""mariadb: longtext for unbounded text columns

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 15:54:01.258034

Written by hand: schemarel keeps this revision, chains the next generated one after it, and never rewrites it.
Fill in the bodies (data migrations, views, grants); leave the tables schemarel manages to the schemas.

Why by hand: schemarel now maps an unbounded string to LONGTEXT on MySQL/MariaDB (TEXT refuses values over
64 KiB), a change of that dialect's rendering only, so the relational model and its snapshot did not change
and no revision was generated. This one brings databases built by 0001-0003 to the models; on PostgreSQL
and SQLite it does nothing.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy.dialects import mysql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# (table, column, nullable, comment): the unbounded strings revisions 0001-0003 created as TEXT
TEXT_COLUMNS = [
    ("customer_profiles", "first_name", False, "Given name."),
    ("customer_profiles", "middle_name", True, "Optional middle/initial."),
    ("customer_profiles", "last_name", False, "Family name."),
    ("customer_profile_addresses", "line1", False, "Required when address present."),
    ("customer_profile_addresses", "line2", True, "Optional second line."),
    ("customer_profile_addresses", "city", False, None),
    ("customer_profile_addresses", "state", False, None),
    ("customer_profile_addresses", "postal_code", False, None),
]


def _on_mysql() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def upgrade() -> None:
    if not _on_mysql():
        return
    for table, column, nullable, comment in TEXT_COLUMNS:
        op.alter_column(
            table,
            column,
            type_=mysql.LONGTEXT(),
            existing_type=mysql.TEXT(),
            existing_nullable=nullable,
            existing_comment=comment,
        )


def downgrade() -> None:
    if not _on_mysql():
        return
    for table, column, nullable, comment in TEXT_COLUMNS:
        op.alter_column(
            table,
            column,
            type_=mysql.TEXT(),
            existing_type=mysql.LONGTEXT(),
            existing_nullable=nullable,
            existing_comment=comment,
        )
