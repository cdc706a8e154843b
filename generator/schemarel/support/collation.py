"""The exact collation of string columns spelled for each server: MariaDB's `utf8mb4_nopad_bin` is MySQL's
`utf8mb4_0900_bin` (both binary and without padding; neither server knows the other's name)."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.dialects import mysql
from sqlalchemy.ext.compiler import compiles

MARIADB_EXACT = "utf8mb4_nopad_bin"  # what models and revisions say (schemarel.sql.kinds.MYSQL_EXACT)
MYSQL_EXACT = "utf8mb4_0900_bin"


def _spell(element: Any, compiler: Any, **kw: Any) -> str:
    # a MariaDB server reached through a `mysql://` URL is known once connected (`is_mariadb`), as is MySQL;
    # offline (`--sql`), a `mariadb://` URL says MariaDB and a `mysql://` one MySQL
    if getattr(element, "collation", None) == MARIADB_EXACT and not getattr(compiler.dialect, "is_mariadb", False):
        element = copy.copy(element)
        element.collation = MYSQL_EXACT
    visit: Any = getattr(compiler, f"visit_{element.__visit_name__}")
    return str(visit(element, **kw))


for _type in (mysql.VARCHAR, mysql.TEXT, mysql.LONGTEXT):
    compiles(_type, "mysql")(_spell)
