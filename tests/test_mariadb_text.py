"""Unbounded text on MariaDB: the committed history gives it LONGTEXT (hand-written revision 0004), so a value
past TEXT's 65,535 bytes is stored and read back, and a downgrade that cannot hold it is refused first.

Revision 0001 created these columns as TEXT; the models say LONGTEXT on MariaDB/MySQL. The migrations run as
users run them (`schemarel upgrade/downgrade` processes), the document goes through the Store.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import REPO, USERS_DDL, committed_revisions
from pathtools import execute, ok, scalar, schemarel
from runtime_helpers import customer, stored_as_given

TEXT_BYTES = 65_535


def column_types(url: str, table: str) -> dict[str, str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        found = {c["name"]: str(c["type"]).upper() for c in sa.inspect(conn).get_columns(table)}
    engine.dispose()
    return found


@pytest.mark.parametrize("length", [TEXT_BYTES + 1, 3 * TEXT_BYTES, TEXT_BYTES // 4 + 1])
def test_long_text_is_kept_and_a_downgrade_that_cannot_hold_it_is_refused(
    tmp_path: Path, mysql_url: str, length: int
) -> None:
    if "0004" not in committed_revisions():
        pytest.fail("the committed history lost revision 0004 (LONGTEXT on MariaDB)")
    root = tmp_path / "project"
    shutil.copytree(REPO / "generated", root / "generated", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "schemas", root / "schemas")
    execute(mysql_url, USERS_DDL)
    ok(schemarel(root, mysql_url, "upgrade", "0003"))
    assert column_types(mysql_url, "customer_profiles")["first_name"] == "TEXT"
    ok(schemarel(root, mysql_url, "upgrade", "head"))
    for table, column in (("customer_profiles", "first_name"), ("customer_profile_addresses", "line2")):
        assert column_types(mysql_url, table)[column] == "LONGTEXT", (table, column)

    name = "é" * length  # two bytes each in utf8mb4: past TEXT's bytes from length 32,768 on
    document = customer(1, firstName=name)
    stored_as_given(mysql_url, "customer", document, root / "generated")

    if length > TEXT_BYTES:  # certainly longer than TEXT holds: refused before any column changes
        refused = schemarel(root, mysql_url, "downgrade", "0003")
        assert refused.returncode != 0
        assert "customer_profiles" in refused.stderr and "first_name" in refused.stderr, refused.stderr
        assert column_types(mysql_url, "customer_profiles")["first_name"] == "LONGTEXT"
        # revisions after 0004 came down; 0004's refused before changing anything
        assert scalar(mysql_url, "SELECT version_num FROM alembic_version") == "0004"
        assert scalar(mysql_url, "SELECT char_length(first_name) FROM customer_profiles") == length
        execute(mysql_url, "UPDATE customer_profiles SET first_name = 'Ada'")
    else:  # fits in TEXT's bytes: the downgrade keeps it
        assert length * 2 <= TEXT_BYTES
    ok(schemarel(root, mysql_url, "downgrade", "0003"))
    assert column_types(mysql_url, "customer_profiles")["first_name"] == "TEXT"
    assert scalar(mysql_url, "SELECT count(*) FROM customer_profiles") == 1
