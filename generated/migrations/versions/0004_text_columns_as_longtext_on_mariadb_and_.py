"""text columns as LONGTEXT on MariaDB and MySQL

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Written by hand: schemarel keeps this revision, chains the next generated one after it, and never rewrites it.
Brings MariaDB and MySQL databases to the text type the models hold there (LONGTEXT); nothing elsewhere.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from schemarel.support import protect_data
from sqlalchemy.dialects import mysql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# Revision 0001 created these columns as TEXT, which holds 65,535 bytes on MariaDB and MySQL; the models say
# LONGTEXT there (a JSON Schema string without maxLength has no such bound). Other databases have one text type.
LONGTEXT_COLUMNS: dict[str, dict[str, tuple[bool, str | None]]] = {
    "customer_profiles": {
        "first_name": (False, "Given name."),
        "middle_name": (True, "Optional middle/initial."),
        "last_name": (False, "Family name."),
    },
    "customer_profile_addresses": {
        "line1": (False, "Required when address present."),
        "line2": (True, "Optional second line."),
        "city": (False, None),
        "state": (False, None),
        "postal_code": (False, None),
    },
}
TEXT_BYTES = 65_535


def _on_mysql() -> bool:
    return op.get_context().dialect.name in ("mysql", "mariadb")


def _alter(from_type: sa.types.TypeEngine[str], to_type: sa.types.TypeEngine[str]) -> None:
    for table, columns in LONGTEXT_COLUMNS.items():
        for column, (nullable, comment) in columns.items():
            op.alter_column(table, column, type_=to_type, existing_type=from_type, existing_nullable=nullable,
                            existing_comment=comment)  # fmt: skip


def upgrade() -> None:
    if _on_mysql():
        _alter(mysql.TEXT(), mysql.LONGTEXT())


def downgrade() -> None:
    if _on_mysql():
        # values longer than TEXT's bytes in any encoding are refused before anything changes (shorter ones of
        # multi-byte characters that still do not fit make MariaDB refuse that column's ALTER, which it undoes)
        checks = [("max_length", t, c, TEXT_BYTES) for t, columns in LONGTEXT_COLUMNS.items() for c in columns]
        protect_data(op, "0004", "downgrade", checks)
        _alter(mysql.LONGTEXT(), mysql.TEXT())
