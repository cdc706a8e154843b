"""Dialect-aware SQL expressions that generated models and migrations share (a server-side uuid default)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Uuid


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
    return "(replace(uuid(), '-', ''))"


@compiles(uuid_default)
def _default(element: uuid_default, compiler: Any, **kw: Any) -> str:
    raise NotImplementedError(f"no server-side uuid default for {compiler.dialect.name}")
