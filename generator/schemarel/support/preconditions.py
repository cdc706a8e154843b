"""What a revision checks before it changes anything: data the target schema cannot hold, tables it needs.

A check is a tuple, as revisions spell it (revisions are history, so these spellings are frozen):
`("enum_values", table, column, [values])` a value the target enum lacks, `("not_null", table, column)`
NULLs in a column becoming NOT NULL, `("max_length", table, column, n)` text longer than a narrowed
varchar, `("range", table, column, low, high)` numbers outside a narrowed integer type, `("key", table,
column[, True])` NULLs or repeated values in a column becoming the primary key (True: compared exactly, as the
exact collation it gets on MySQL/MariaDB does), `("added_required", table, column)`
any row in a table that gains a NOT NULL column with nothing to fill it (MySQL/MariaDB would fill `''` or 0
in silence, the others fail halfway), `("converts", table, column, source_kind, target_kind[, [values]])` values
a type change would not keep as they are (`schemarel.support.convertible`; SQLite and MariaDB round or
zero them in silence), `("unique", table, None, [columns])` a value (or combination) held by more than one
row where a unique constraint comes (MariaDB would stop after earlier statements of the revision),
`("collides", table, None, [columns])` on MySQL/MariaDB, values of a key or unique constraint that its
server's default collation takes as equal ('a', 'A ', 'á') where its string columns go back to that collation,
`("recollates", table, None, [columns], [[key], …], [names])` the same where `columns` go back to it, for each
`key` the step ends with and each unique key the database holds them in but the `names` it drops or remakes
(a unique index a hand-written revision made; read online only), its other columns compared as they are,
`("violates", table, column, name, op, func, value, dialects)` a value a new CHECK `func(column) op value`
refuses (on `dialects` only, when given): these refuse,
because the target schema cannot hold the rows (the statement would fail halfway, or truncate them).
`("drops", table, column_or_None)` data a dropped column or table holds only warns: dropping it is what
the revision (or reverting it) means, and the migration doc lists it under what reverting loses.
Offline (`--sql`) the checks become part of the script: a DO block raising on PostgreSQL, a compound
statement signalling on MySQL/MariaDB, a comment holding the query on SQLite (which has no way to raise).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
import sqlalchemy.engine.mock

from schemarel.errors import SchemarelError
from schemarel.naming import counted
from schemarel.support.convertible import unconverted
from schemarel.support.migrating import REHEARSAL

log = logging.getLogger("schemarel.migrate")
REFUSING = (
    "enum_values", "not_null", "max_length", "range", "key", "added_required", "converts", "unique", "violates",
    "collides", "recollates",
)  # fmt: skip


class DataLoss(SchemarelError):
    """A migration would lose or cannot convert stored data: refused before anything changed."""

    exit_code = 1


class MissingExternalTable(SchemarelError):
    """A table that another system owns (and schemarel only references) is not in the database."""

    exit_code = 1


def _where(check: Sequence[Any], dialect: str) -> tuple[sa.TableClause, sa.ColumnElement[bool] | None]:
    kind, table, column, *args = check
    if kind == "added_required":  # every row: the column does not exist yet
        return sa.table(table), None
    if kind in ("unique", "collides", "recollates"):  # NULLs repeat freely in a unique key, on every dialect
        u = sa.table(table, *map(sa.column, _key(check)))
        if kind != "unique" and dialect not in ("mysql", "mariadb"):
            return u, sa.false()  # the collation changes there only
        values = _folded(u, check)
        key = sa.tuple_(*values) if len(values) > 1 else values[0]
        repeated = sa.select(*values).where(*(c.is_not(None) for c in u.c)).group_by(*values)
        repeated = repeated.having(sa.func.count() > 1)
        return u, key.in_(repeated if len(values) > 1 else repeated.scalar_subquery())
    t = sa.table(table, *([sa.column(column)] if column else []))
    c: Any = t.c[column] if column else None
    if kind == "enum_values":
        return t, (sa.cast(c, sa.Text) if dialect == "postgresql" else c).in_(list(args[0]))
    if kind == "not_null":
        return t, c.is_(None)
    if kind == "max_length":
        return t, sa.func.char_length(c) > args[0]
    if kind == "range":
        return t, sa.or_(c < args[0], c > args[1])
    if kind == "drops":
        return t, c.is_not(None) if c is not None else None
    if kind == "violates":
        return t, _violating(c, dialect, *args[1:])
    if kind == "converts":
        return t, sa.and_(c.is_not(None), unconverted(c, dialect, args[0], args[1], args[2:]))
    if kind == "key":  # NULL or held by another row too
        k = _as_key(c, dialect, args)
        twice = sa.select(k).select_from(t).where(c.is_not(None)).group_by(k).having(sa.func.count() > 1)
        return t, sa.or_(c.is_(None), k.in_(twice.scalar_subquery()))
    raise ValueError(f"unknown data check {kind!r}")


def _as_key(c: Any, dialect: str, args: Sequence[Any]) -> Any:
    """The column as the key it becomes compares it: exactly (its bytes) where `("key", …, True)` says the key
    gets the exact collation on MySQL/MariaDB, which the column may not have yet."""
    return sa.cast(c, sa.LargeBinary) if args and args[0] and dialect in ("mysql", "mariadb") else c


def _key(check: Sequence[Any]) -> list[str]:
    """The columns of a `unique` or `collides` check's key, or of one key of a `recollates` check (`_keys`)."""
    return list(check[4] if check[0] == "recollates" else check[3])


def _folded(u: sa.TableClause, check: Sequence[Any]) -> list[Any]:
    """The columns of a `unique` check, or for `collides` (for `recollates` those going back) cast to the
    connection's character type, whose collation is the server's default (`utf8mb4_general_ci`,
    `uca1400_ai_ci`): what they compare by once back."""
    back = {"unique": (), "collides": _key(check), "recollates": check[3]}[check[0]]
    return [sa.cast(c, sa.CHAR()) if c.name in back else c for c in u.c]


# What each kind of check found (online, with the rows counted) and what it requires (offline, in the script)
_FOUND = {
    "enum_values": "{where} holds {detail} in {rows}: the target enum has no such value",
    "not_null": "{where} is NULL in {rows}: the target schema makes it NOT NULL",
    "max_length": "{where} holds {values} longer than {a0} characters (longest {detail})",
    "range": "{where} holds {values} outside {a0}..{a1}",
    "drops": "{where} holds data in {rows}, dropped by this step",
    "key": "{where} becomes the primary key but is NULL or not unique in {rows} ({detail}): give each row its "
    "own value",
    "added_required": "{where} is added NOT NULL without a default, and its table holds {rows} it would leave "
    "without a value (a schema `default` fills them)",
    "violates": "{where} holds {values} that the CHECK `{a0}` it gets refuses (such as {detail})",
    "unique": "{where} repeats values in {rows}, which the unique constraint it gets refuses ({detail})",
    "collides": "{where} holds values in {rows} that differ only in case, accents or trailing spaces, which "
    "its key refuses once back in the server's collation ({detail})",
    "recollates": "{where} holds values in {rows} that differ only in case, accents or trailing spaces, which "
    "its unique key refuses once back in the server's collation ({detail})",
    "converts": "{where} holds {values} that becoming `{a1}` would not keep as written on this database (such "
    "as {detail}); a hand-written revision (`schemarel revision`) can convert them first",
}
_REQUIRED = {
    "enum_values": "{where} must not hold {listed}: the target enum has no such value",
    "not_null": "{where} must hold no NULL: the target schema makes it NOT NULL",
    "max_length": "{where} must hold no value longer than {a0} characters",
    "range": "{where} must hold no value outside {a0}..{a1}",
    "drops": "the data of {where} is dropped by this step",
    "key": "{where} must hold no NULL and no value twice: it becomes the primary key",
    "added_required": "{where} is added NOT NULL without a default: its table must hold no row",
    "converts": "{where} must hold only values that becoming `{a1}` keeps as written",
    "unique": "{where} must hold no value twice: it gets a unique constraint",
    "collides": "{where} must hold no values that differ only in case, accents or trailing spaces: its key or unique "
    "constraint goes back to the server's collation",
    "recollates": "{where} must hold no values that differ only in case, accents or trailing spaces: its unique key "
    "goes back to the server's collation",
    "violates": "{where} must hold only values that the CHECK `{a0}` it gets accepts",
}


def _violating(c: Any, dialect: str, op: str, func: str | None, value: Any, dialects: list[str]) -> Any:
    """`NOT (func(c) op value)`: the rows the CHECK refuses (NULL passes a CHECK, and is not counted)."""
    if dialects and dialect not in dialects:  # the CHECK exists only there (a pattern: PostgreSQL)
        return sa.false()
    textual = op == "~" or func is not None or (op == "in" and all(isinstance(v, str) for v in value))
    if textual and dialect == "postgresql":  # before the step the column may still be a native enum
        c = sa.cast(c, sa.Text)
    subject = getattr(sa.func, func)(c) if func else c
    if op == "~":
        return sa.not_(subject.regexp_match(value))
    if op == "in":
        return sa.not_(subject.in_(list(value)))
    compare = {">=": subject >= value, ">": subject > value, "<=": subject <= value, "<": subject < value}
    return sa.not_(compare[op])


def _say(messages: dict[str, str], check: Sequence[Any], rows: int = 0, detail: str = "") -> str:
    kind, table, column, *args = check
    where = f"`{table}.{column}`" if column else f"`{table}`"
    if kind in ("unique", "collides", "recollates"):
        where = f"`{table}` ({', '.join(_key(check))})"
    a0, a1 = (*args, None, None)[:2]
    listed = ", ".join(repr(v) for v in a0) if kind == "enum_values" else ""
    counts = {"rows": counted(rows, "row"), "values": counted(rows, "value")}
    return messages[kind].format(where=where, detail=detail, a0=a0, a1=a1, listed=listed, **counts)


def _measure(bind: sa.Connection, check: Sequence[Any]) -> tuple[int, str]:
    table, where = _where(check, bind.dialect.name)
    kind, column = check[0], check[2]
    query = sa.select(sa.func.count()).select_from(table)
    rows = int(bind.execute(query.where(where) if where is not None else query).scalar() or 0)
    detail = ""
    if rows and kind == "enum_values":
        c = table.c[column]
        assert where is not None  # an enum check always has its condition
        counts = bind.execute(sa.select(c, sa.func.count()).where(where).group_by(c).order_by(c)).all()
        detail = ", ".join(f"{value!r} ({n})" for value, n in counts)
    elif rows and kind == "key":
        c = table.c[column]
        k = _as_key(c, bind.dialect.name, check[3:])
        nulls = int(bind.execute(sa.select(sa.func.count()).select_from(table).where(c.is_(None))).scalar() or 0)
        twice = sa.select(k, sa.func.count()).where(c.is_not(None)).group_by(k).having(sa.func.count() > 1)
        repeated = bind.execute(twice.order_by(k).limit(5)).all()
        parts = [f"{counted(nulls, 'NULL')}"] if nulls else []
        if repeated:
            parts.append("repeated: " + ", ".join(f"{_text(value)!r} ({n} rows)" for value, n in repeated))
        detail = "; ".join(parts)
    elif rows and kind in ("unique", "collides", "recollates"):
        u = _folded(table, check)
        groups = sa.select(*u, sa.func.count()).where(*(c.is_not(None) for c in table.c)).group_by(*u)
        held = bind.execute(groups.having(sa.func.count() > 1).order_by(*u).limit(5)).all()
        detail = "repeated: " + ", ".join(
            f"{', '.join(repr(str(v)) for v in row[:-1])} ({row[-1]} rows)" for row in held
        )
    elif rows and kind in ("converts", "violates"):
        c = table.c[column]
        assert where is not None  # a conversion check always has its condition
        samples = bind.execute(sa.select(c).where(where).group_by(c).order_by(c).limit(3)).scalars()
        detail = ", ".join(repr(v) if isinstance(v, int | float | str) else str(v) for v in samples)
    elif rows and kind == "max_length":
        detail = str(bind.execute(sa.select(sa.func.max(sa.func.char_length(table.c[column])))).scalar())
    return rows, detail


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def protect_data(op: Any, revision: str, step: str, checks: Iterable[Sequence[Any]]) -> None:
    """Refuse (DataLoss) before anything changes when stored data does not fit where `step` takes it."""
    checks = list(checks)
    context = op.get_context()
    if context.as_sql or op.get_bind().info.get(REHEARSAL):
        for check in _keys(None, checks):
            _offline(context, revision, step, check)
        return
    bind = op.get_bind()
    refused = []
    for check in _keys(bind, checks):
        rows, detail = _measure(bind, check)
        if not rows:
            continue
        if check[0] in REFUSING:
            refused.append(_say(_FOUND, check, rows, detail))
        else:
            log.warning("revision %s %s: %s", revision, step, _say(_FOUND, check, rows))
    if refused:
        raise DataLoss(
            f"revision {revision} ({step}) refused before changing anything:\n"
            + "\n".join(f"  {line}" for line in refused)
            + "\nchange or delete those rows first, then run the command again"
        )


def _keys(bind: sa.Connection | None, checks: list[Sequence[Any]]) -> list[Sequence[Any]]:
    """`checks`, each `recollates` one as a check per key: the model's, and online on MySQL/MariaDB (`bind`)
    each other unique key the database holds its columns in, whoever made it."""
    result: list[Sequence[Any]] = []
    for check in checks:
        if check[0] != "recollates":
            result.append(check)
            continue
        kind, table, _, back, keys, names = check
        keys = [list(k) for k in keys]
        if bind is not None and bind.dialect.name in ("mysql", "mariadb"):
            inspector = sa.inspect(bind)
            found = [ix for ix in inspector.get_indexes(table) if ix["unique"] and ix["name"] not in names]
            # an expression's part (MySQL 8) has no column: such a key is left to the statement that fails
            live = [[str(c) for c in ix["column_names"]] for ix in found if None not in ix["column_names"]]
            keys += [k for k in live if set(k) & set(back) and k not in keys]
        result += [(kind, table, None, list(back), k) for k in keys]
    return result


def _offline(context: Any, revision: str, step: str, check: Sequence[Any]) -> None:
    dialect = context.dialect
    table, where = _where(check, dialect.name)
    found = sa.select(sa.literal(1)).select_from(table)
    query = str((found.where(where) if where is not None else found).compile(
        dialect=dialect, compile_kwargs={"literal_binds": True}
    ))  # fmt: skip
    query = " ".join(query.split())
    message = f"schemarel: revision {revision} ({step}): {_say(_REQUIRED, check)}"
    refuse = check[0] in REFUSING
    if dialect.name == "postgresql":
        action = "RAISE EXCEPTION" if refuse else "RAISE WARNING"
        quoted = message.replace("'", "''")
        context.impl.static_output(
            f"DO $schemarel$ BEGIN IF EXISTS ({query}) THEN {action} '%', '{quoted}'; END IF; END $schemarel$;\n"
        )
    elif dialect.name in ("mysql", "mariadb") and refuse:
        quoted = message.replace("\\", "\\\\").replace("'", "''")[:128]
        context.impl.static_output(
            "DELIMITER //\n"
            f"BEGIN NOT ATOMIC IF EXISTS ({query}) THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{quoted}';"
            " END IF; END//\nDELIMITER ;\n"
        )
    else:
        verdict = "refuses to go on" if refuse else "warns"
        context.impl.static_output(f"-- {message}\n-- ({verdict} when this finds rows) {query};\n")


def require_tables(bind: Any, tables: Iterable[str], revision: str) -> None:
    """Fail with a clear message when a referenced, externally owned table does not exist yet; offline, the
    script checks it (PostgreSQL) or says so in a comment."""
    tables = list(tables)
    if isinstance(bind, sa.engine.mock.MockConnection) or bind.info.get(REHEARSAL):
        _offline_tables(bind.dialect, tables, revision)
        return
    inspector = sa.inspect(bind)
    missing = [t for t in tables if not inspector.has_table(t)]
    if missing:
        names = ", ".join(f"`{t}`" for t in missing)
        raise MissingExternalTable(
            f"revision {revision} references {names}, which schemarel does not create (another system owns it, "
            f'declared with "x-sql": {{"references": …}}); create it first, then run the upgrade again'
        )


def _offline_tables(dialect: Any, tables: list[str], revision: str) -> None:
    from alembic import op

    impl = op.get_context().impl
    needs = "table" if len(tables) == 1 else "tables"
    message = f"schemarel: revision {revision} needs {needs} {', '.join(tables)}, owned by another system"
    if dialect.name == "postgresql":
        names = ", ".join("'" + t.replace("'", "''") + "'" for t in tables)
        impl.static_output(
            f"DO $schemarel$ BEGIN IF (SELECT count(*) FROM information_schema.tables WHERE table_schema = "
            f"current_schema() AND table_name IN ({names})) < {len(tables)} THEN RAISE EXCEPTION '%', "
            f"'{message}'; END IF; END $schemarel$;\n"
        )
    else:
        impl.static_output(f"-- {message}: create them before running this script\n")
