"""Server defaults generated models and revisions spell: a fresh uuid and a boolean, compiled per dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Boolean, Uuid


class uuid_default(FunctionElement[Any]):  # noqa: N801 - reads like the SQL function it stands for
    """A fresh random uuid, in the form SQLAlchemy's `Uuid` type stores on each dialect."""

    type = Uuid()
    inherit_cache = True
    name = "uuid_default"


@compiles(uuid_default, "postgresql")
def _pg(element: uuid_default, compiler: Any, **kw: Any) -> str:
    return "gen_random_uuid()"


@compiles(uuid_default, "sqlite")
def _sqlite(element: uuid_default, compiler: Any, **kw: Any) -> str:
    # Uuid is CHAR(32) of hex digits on SQLite; an expression default must be parenthesized there
    return "(lower(hex(randomblob(16))))"


@compiles(uuid_default, "mysql")
@compiles(uuid_default, "mariadb")
def _mysql(element: uuid_default, compiler: Any, **kw: Any) -> str:
    dialect = compiler.dialect
    # offline (`--sql` with a mariadb:// URL) the version is unknown: SQLAlchemy's MariaDB Uuid is native then
    if getattr(dialect, "is_mariadb", False) and (dialect.server_version_info or (10, 7)) >= (10, 7):
        return "uuid()"  # MariaDB 10.7+ stores Uuid in its native uuid type
    return "(replace(uuid(), '-', ''))"


class boolean_default(FunctionElement[Any]):  # noqa: N801
    """A boolean server default, spelled as each dialect reads it back (`1`/`0` on MySQL and SQLite)."""

    type = Boolean()
    inherit_cache = True
    name = "boolean_default"

    def __init__(self, value: bool) -> None:
        super().__init__()
        self.value = bool(value)


@compiles(boolean_default)
def _boolean(element: boolean_default, compiler: Any, **kw: Any) -> str:
    if compiler.dialect.supports_native_boolean and compiler.dialect.name not in ("mysql", "mariadb"):
        return "true" if element.value else "false"
    return "1" if element.value else "0"


@compiles(uuid_default)
def _default(element: uuid_default, compiler: Any, **kw: Any) -> str:
    raise NotImplementedError(f"no server-side uuid default for {compiler.dialect.name}")
