"""String comparisons of filters and orderings as Python makes them (code points: case, accents and trailing
spaces count) on every dialect: MariaDB's and MySQL's default collations fold case and accents and pad with
spaces ('a' = 'A ' holds), and SQLite's LIKE folds ASCII case. schemarel's string columns are binary there
(sql/kinds.py `MYSQL_EXACT`), but native enums and columns tied to another system's table keep the server's
collation, so the comparison stays explicit; an enum's equality is answered by its column's index."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

MYSQL = ("mysql", "mariadb")


class _Dialected(ColumnElement[Any]):
    """A construct written one way on MySQL and MariaDB (`mysql`) and another elsewhere (`default`)."""

    def default(self) -> Any:
        raise NotImplementedError

    def mysql(self) -> Any:
        raise NotImplementedError


class Exact(_Dialected):
    """A text column compared byte for byte (UTF-8 bytes order as code points do): `CAST(… AS BINARY)` on
    MySQL and MariaDB, the column itself elsewhere (SQLite's and PostgreSQL's `=` are exact already)."""

    __visit_name__ = "schemarel_exact"
    _traverse_internals = [("element", InternalTraversal.dp_clauseelement)]
    inherit_cache = True

    def __init__(self, element: Any) -> None:
        self.element = element
        self.type = element.type

    def default(self) -> Any:
        return self.element

    def mysql(self) -> Any:
        return sa.cast(self.element, mysql.BINARY())


class Both(_Dialected):
    """`exact` where it differs from `plain`, and `plain` too there (so the column's index still serves the
    lookup): `plain AND exact` on MySQL and MariaDB, `plain` elsewhere."""

    __visit_name__ = "schemarel_both"
    _traverse_internals = [("plain", InternalTraversal.dp_clauseelement), ("exact", InternalTraversal.dp_clauseelement)]
    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True  # a condition as it is, not compared with 1 where booleans are integers

    def __init__(self, plain: Any, exact: Any) -> None:
        self.plain = plain
        self.exact = exact

    def default(self) -> Any:
        return self.plain

    def mysql(self) -> Any:
        return sa.and_(self.plain, self.exact).self_group()


class Like(_Dialected):
    """`column LIKE pattern ESCAPE '/'`, `pattern` a bound pattern of `how` (`startswith`, `endswith`,
    `contains`), matching case as Python does: on SQLite, whose LIKE folds ASCII case, the pattern's text is
    also compared exactly (`substr`, `instr`); on MySQL and MariaDB the column's bytes are matched too."""

    __visit_name__ = "schemarel_like"
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("pattern", InternalTraversal.dp_clauseelement),
        ("how", InternalTraversal.dp_string),
    ]
    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True

    def __init__(self, column: Any, pattern: Any, how: str) -> None:
        self.column = column
        self.pattern = pattern
        self.how = how

    def default(self) -> Any:
        return self.column.like(self.pattern, escape="/")

    def mysql(self) -> Any:
        return Both(self.default(), Exact(self.column).like(self.pattern, escape="/")).mysql()


class Label(_Dialected):
    """`column = values[0]` (or `column IN values`) for an enum column compared as its text, in a form its index
    answers (the text cast `Exact` compares is no indexed expression): the column itself on SQLite (text) and
    MySQL/MariaDB (whose collation `Both` corrects); on PostgreSQL, which refuses a string that is no label of
    the type, the labels whose text is among the values, looked up in the type's labels once per statement
    (an InitPlan: no label, no row). The statement's form never depends on the values (statements are cached
    by shape, runtime/query.py)."""

    __visit_name__ = "schemarel_label"
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_clauseelement_list),
    ]
    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True

    def __init__(self, column: Any, values: list[Any]) -> None:
        self.column = column
        self.values = values

    def default(self) -> Any:
        return self.column == self.values[0] if len(self.values) == 1 else self.column.in_(self.values)

    def mysql(self) -> Any:
        return self.default()


for _cls in (Exact, Both, Like, Label):
    compiles(_cls)(lambda element, compiler, **kw: compiler.process(element.default(), **kw))
    compiles(_cls, *MYSQL)(lambda element, compiler, **kw: compiler.process(element.mysql(), **kw))


@compiles(Like, "sqlite")
def _like_sqlite(element: Like, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    p = compiler.process(element.pattern, **kw)
    # the operand: the pattern without its `%` (one at the end, the start, or both) and unescaped; the
    # escapes are `//`, `/%`, `/_`, replaced in an order that reads each once (an escaped `/` is never
    # followed by a bare `%` or `_`, which are always escaped)
    stripped = {
        "startswith": f"substr({p}, 1, length({p}) - 1)",
        "endswith": f"substr({p}, 2)",
        "contains": f"substr({p}, 2, length({p}) - 2)",
    }[element.how]
    raw = f"replace(replace(replace({stripped}, '/%', '%'), '/_', '_'), '//', '/')"
    exact = {
        "startswith": f"substr({column}, 1, length({raw})) = {raw}",
        "endswith": f"(length({raw}) = 0 OR substr({column}, -length({raw})) = {raw})",
        "contains": f"instr({column}, {raw}) > 0",
    }[element.how]
    return f"({column} LIKE {p} ESCAPE '/' AND {exact})"


@compiles(Label, "postgresql")
def _label_postgresql(element: Label, compiler: Any, **kw: Any) -> str:
    label = sa.func.unnest(sa.func.enum_range(sa.cast(sa.null(), element.column.type))).column_valued("label")
    as_text = sa.cast(label, sa.Text())
    if len(element.values) == 1:
        found = sa.select(label).where(as_text == element.values[0]).scalar_subquery()
        return str(compiler.process(element.column == found, **kw))
    found_all = compiler.process(sa.select(label).where(as_text.in_(element.values)).scalar_subquery(), **kw)
    # `= ANY(ARRAY(…))`, an InitPlan too, which the index answers (`IN (SELECT …)` is a join, planned blind)
    return f"{compiler.process(element.column, **kw)} = ANY(ARRAY{found_all})"
