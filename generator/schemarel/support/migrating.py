"""How the generated env.py runs migrations: real SQLite transactions, one transaction a run, failures named."""

from __future__ import annotations

import hashlib
import linecache
import logging
import re
import sys
import traceback
from typing import Any

import sqlalchemy as sa

from schemarel.errors import SchemarelError
from schemarel.naming import counted

log = logging.getLogger("schemarel.migrate")
JOURNAL = "schemarel_migration_journal"
# statements a journal records and replays past: the ones that change something (reads run again)
_READS = ("select", "show", "describe", "pragma", "explain", "with")
_DML = ("insert", "update", "delete", "replace")


class MigrationFailed(SchemarelError):
    """An upgrade or downgrade failed: names the revision, the operation, the statement and the database's state."""

    exit_code = 1


def migration_engine(url: str) -> sa.Engine:
    """An engine for one migration run; on SQLite its transactions are real and foreign keys are off.

    pysqlite opens a transaction only before DML and commits before DDL, so a failed migration would leave
    half a table rebuild (`_alembic_tmp_*`): SQLAlchemy's documented recipe hands BEGIN to SQLAlchemy.
    Foreign keys stay off for the run (SQLite ignores the pragma inside a transaction, so it is set on
    connect): a table rebuild drops the old table, which would cascade deletes to its children.
    """
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.isolation_level = None
            dbapi_connection.execute("PRAGMA foreign_keys=OFF")

        @sa.event.listens_for(engine, "begin")
        def _begin(connection: sa.Connection) -> None:
            connection.exec_driver_sql("BEGIN")

    return engine


def migration_options(connection: sa.Connection) -> dict[str, Any]:
    """`context.configure` options: one transaction for the whole run where DDL is transactional."""
    transactional = connection.dialect.name in ("sqlite", "postgresql")
    # MySQL/MariaDB commit each DDL statement: a transaction per revision keeps alembic_version exact
    return {"transactional_ddl": transactional, "transaction_per_migration": not transactional}


def migrate(context: Any, connection: sa.Connection, **options: Any) -> None:
    """Configure Alembic on `connection` and run the migrations; a failure raises MigrationFailed."""
    before = _version(connection)
    journal = Journal(connection) if not migration_options(connection)["transactional_ddl"] else None
    callbacks = [journal.revision_done] if journal else []
    context.configure(connection=connection, on_version_apply=callbacks, **migration_options(connection), **options)
    committed: list[str] = []  # PostgreSQL's ADD VALUE runs (and commits) outside the transaction

    def autocommitted(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if " ADD VALUE " in statement:
            committed.append(" ".join(statement.split()))

    sa.event.listen(connection, "before_cursor_execute", autocommitted)
    try:
        with context.begin_transaction():
            context.run_migrations()
    except SchemarelError:  # a refusal (data, missing tables): it says itself what happened
        if connection.in_transaction():
            connection.rollback()
        raise
    except Exception as exc:
        if connection.in_transaction():
            connection.rollback()
        if _revision_frame(exc) is None and not isinstance(exc, sa.exc.DBAPIError):
            raise  # Alembic's own (an unknown revision): nothing ran
        raise MigrationFailed(_report(exc, connection, before, journal, committed)) from exc
    finally:
        sa.event.remove(connection, "before_cursor_execute", autocommitted)
        if journal:
            journal.close()


def _version(connection: sa.Connection) -> str:
    """The revision alembic_version records; the transaction this read opens is closed again (Alembic takes a
    connection already in a transaction for the caller's, and would not commit it)."""
    try:
        rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
    except sa.exc.DBAPIError as exc:
        connection.rollback()
        try:  # no table is no revision; a table (or a file, a server) that cannot be read is no known revision
            missing = not sa.inspect(connection).has_table("alembic_version")
        except sa.exc.DBAPIError:
            missing = False
        if not missing:
            reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
            return f"unknown (its revision cannot be read: {reason})"
        rows = []
    finally:
        connection.rollback()
    return ", ".join(sorted(rows)) or "base (no revision)"


def _in_revision(frame: Any) -> bool:
    """Whether `frame` runs a revision script's upgrade() or downgrade()."""
    g = frame.f_globals
    return "revision" in g and "down_revision" in g and frame.f_code.co_name in ("upgrade", "downgrade")


def _journal_key(frame: Any) -> str:
    return f"{frame.f_globals['revision']}:{'up' if frame.f_code.co_name == 'upgrade' else 'down'}"


def _revision_frame(exc: BaseException) -> tuple[str, str, str, int] | None:
    """(revision, function, file, line) of the revision code that was running when `exc` was raised."""
    found = None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        if _in_revision(frame):
            found = (str(frame.f_globals["revision"]), frame.f_code.co_name, frame.f_code.co_filename, line)
    return found


def _report(
    exc: BaseException, connection: sa.Connection, before: str, journal: Journal | None, committed: list[str]
) -> str:
    where = _revision_frame(exc)
    if where:
        revision, function, path, line = where
        source = linecache.getline(path, line).strip()
        head = f"revision {revision} failed in {function}() at {path}:{line}: `{source}`"
    else:
        head = "the migration failed outside a revision's code"
    statement = getattr(exc, "statement", None)
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else cause.__class__.__name__
    lines = [head, f"  error: {cause.__class__.__name__}: {text}"]
    if statement:
        lines.append(f"  statement: {' '.join(str(statement).split())}")
    if journal:
        journal.forget_uncommitted()
    now = _version(connection)
    if journal is None and not committed:
        lines.append(
            f"  state: rolled back; the database is at revision {now}, schema and data as they were."
            " Fix the cause and run the same command again"
        )
    elif journal is None:
        lines.append(
            f"  state: rolled back to revision {now}"
            + (f" (from {before}: the revisions before it committed with it)" if now != before else "")
            + ", except what PostgreSQL cannot do inside a transaction and committed:\n"
            + "\n".join(f"    {s}" for s in committed)
            + "\n  fix the cause and run the same command again: the revision adds these values IF NOT EXISTS"
        )
    else:
        ran = journal.recorded(f"{where[0]}:{'up' if where[1] == 'upgrade' else 'down'}") if where else []
        lines.append(
            f"  state: {connection.dialect.name} commits each DDL statement: the database is at revision {now}"
            + (
                f", with {counted(len(ran), 'statement')} of the failed revision applied:\n"
                + "\n".join(f"    {s}" for s in ran)
                + f"\n  they are recorded in `{JOURNAL}`: after fixing the cause, run the same command again and"
                " it resumes after them"
                if ran
                else "; nothing of the failed revision was applied. Fix the cause and run the same command again"
            )
        )
    return "\n".join(lines)


class Journal:
    """What the running revision changed, on a database whose DDL commits by itself (MySQL/MariaDB).

    Each statement that changes something is recorded, by its position in the revision and a hash of its
    text, in a table of its own written on a second connection (so that a rollback on the first cannot
    undo the record of a statement the server already committed). When a revision runs again after a
    failure, statements that the journal holds at the same position with the same text are skipped, so
    that the run resumes where the failed one stopped; the records go once the revision completes.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self.side = connection.engine.connect()
        self.position = 0
        self.table = sa.Table(
            JOURNAL,
            sa.MetaData(),
            sa.Column("revision", sa.String(64), primary_key=True),
            sa.Column("position", sa.Integer, primary_key=True),
            sa.Column("digest", sa.String(64), nullable=False),
            sa.Column("statement", sa.Text, nullable=False),
        )
        self.table.create(self.side, checkfirst=True)
        self.side.commit()
        sa.event.listen(connection, "before_cursor_execute", self._before, retval=True)
        sa.event.listen(connection, "after_cursor_execute", self._after)
        self._pending: tuple[str, int, str, str] | None = None
        self.uncommitted: list[tuple[str, int]] = []  # DML positions a rollback would undo

    def close(self) -> None:
        sa.event.remove(self.connection, "before_cursor_execute", self._before)
        sa.event.remove(self.connection, "after_cursor_execute", self._after)
        if not self.side.execute(sa.select(sa.func.count()).select_from(self.table)).scalar():
            self.table.drop(self.side, checkfirst=True)
        self.side.commit()
        self.side.close()

    def revision_done(self, ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
        """Alembic `on_version_apply` callback: the revision completed, its records go."""
        key = f"{step.up_revision_id}:{'up' if step.is_upgrade else 'down'}"
        self.side.execute(self.table.delete().where(self.table.c.revision == key))
        self.side.commit()
        self.position = 0
        self.uncommitted = []

    def recorded(self, key: str) -> list[str]:
        """The statements of revision `key` (`0004:up`) the server has applied, this run or an earlier one."""
        query = sa.select(self.table.c.statement).where(self.table.c.revision == key).order_by(self.table.c.position)
        rows = [" ".join(text.split()) for text in self.side.execute(query).scalars()]
        self.side.commit()
        return rows

    def forget_uncommitted(self) -> None:
        """After a failure: DML since the last DDL statement was rolled back, so it must run again."""
        for key, position in self.uncommitted:
            where = (self.table.c.revision == key) & (self.table.c.position == position)
            self.side.execute(self.table.delete().where(where))
        self.side.commit()
        self.uncommitted = []

    def _running(self) -> str | None:
        """The journal key (`0004:up`) of the revision whose code runs the current statement."""
        return next((_journal_key(frame) for frame, _ in traceback.walk_stack(None) if _in_revision(frame)), None)

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> Any:
        self._pending = None
        if statement.lstrip().lower().startswith(_READS) or JOURNAL in statement:
            return statement, parameters
        key = self._running()
        if key is None:
            return statement, parameters
        self.position += 1
        digest = hashlib.sha256(f"{statement}\n{parameters!r}".encode()).hexdigest()
        done = self.side.execute(
            sa.select(self.table.c.digest).where(self.table.c.revision == key, self.table.c.position == self.position)
        ).scalar()
        self.side.commit()
        if done == digest:
            log.warning("skipping statement %d of %s, applied by a run that failed: %s", self.position, key, statement)
            return "SELECT 1", ()
        if not statement.lstrip().lower().startswith(_DML):
            self.uncommitted = []  # MySQL commits the open transaction before a DDL statement runs
        self._pending = (key, self.position, digest, statement)
        return statement, parameters

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if self._pending is None:
            return
        key, position, digest, text = self._pending
        self._pending = None
        if text.lstrip().lower().startswith(_DML):
            self.uncommitted.append((key, position))
        self.side.execute(self.table.delete().where(self.table.c.revision == key, self.table.c.position == position))
        self.side.execute(self.table.insert().values(revision=key, position=position, digest=digest, statement=text))
        self.side.commit()


def offline_options(url: str) -> dict[str, Any]:
    """`context.configure` options for `--sql`: literal values, and BEGIN/COMMIT where DDL is transactional."""
    dialect = sa.engine.make_url(url).get_backend_name()
    transactional = dialect in ("sqlite", "postgresql")
    return {
        "literal_binds": True,
        "dialect_opts": {"paramstyle": "named"},
        "transactional_ddl": transactional,
        "transaction_per_migration": not transactional,
    }


REHEARSAL = "schemarel_rehearsal"  # Connection.info key: the statements are a script, the data is not real


def rehearse(context: Any, external: sa.MetaData | None = None, **options: Any) -> None:
    """`--sql` on SQLite: the script is what the migrations run on an empty in-memory database.

    SQLite changes a table by rebuilding it, and Alembic's batch mode reflects the table to rebuild, which
    offline mode cannot; so the revisions run for real on a scratch database, brought to the starting
    revision first, and every statement that changes something is written out with its values inlined.
    Data checks and the tables of other systems are written as comments (see schemarel.support.preconditions);
    the latter are created on the scratch database from `external` (tables with `info["external"]`), so
    that table rebuilds can reflect the foreign keys to them.
    """
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(context.config)
    start, destination = context.get_starting_revision_argument(), context.get_revision_argument()
    destination = destination or "base"  # Alembic gives `base` as None: `downgrade 0002:base --sql` wrote nothing
    down = start is not None and (
        destination == "base" or any(r.revision == destination for r in script.iterate_revisions(start, "base"))
    )
    out = context.config.output_buffer or sys.stdout
    engine = migration_engine("sqlite://")

    def run(connection: sa.Connection, steps: Any, **extra: Any) -> None:
        opts = {"fn": steps, "script": script, "transactional_ddl": True, **options, **extra}
        ctx = MigrationContext.configure(connection, opts=opts)
        with Operations.context(ctx), ctx.begin_transaction():
            ctx.run_migrations()

    # ScriptDirectory's step functions are what Alembic's own upgrade and downgrade commands run
    with engine.connect() as connection:
        connection.info[REHEARSAL] = True
        if external is not None:
            external.create_all(connection, [t for t in external.tables.values() if t.info.get("external")])
        if start is not None:  # silently: the script starts where the database is
            run(connection, lambda rev, _: script._upgrade_revs(start, rev))
        step = script._downgrade_revs if down else script._upgrade_revs
        out.write("BEGIN;\n\n")
        sa.event.listen(connection, "before_cursor_execute", _writer(out))
        run(connection, lambda rev, _: step(destination, rev), output_buffer=out)
        out.write("COMMIT;\n\n")
    engine.dispose()


def _writer(out: Any) -> Any:
    def write(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        text = statement.strip()
        if not text.lower().startswith(_READS) and text.upper() not in ("BEGIN", "COMMIT"):
            # SQLAlchemy asks for the inserted version back; a script has no one to read it
            text = re.sub(r"\s+RETURNING\s+version_num$", "", text) if "alembic_version" in text else text
            out.write(_inline(text, parameters) + ";\n\n")

    return write


def _inline(statement: str, parameters: Any) -> str:
    """`statement` with its `?` parameters written as SQLite literals (values of the script's data moves)."""
    if not parameters:
        return statement
    values = iter(parameters if isinstance(parameters, list | tuple) else [parameters])

    def literal(value: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool | int | float):
            return str(int(value) if isinstance(value, bool) else value)
        if isinstance(value, bytes):
            return f"X'{value.hex()}'"
        return "'" + str(value).replace("'", "''") + "'"

    parts = statement.split("?")
    return parts[0] + "".join(literal(next(values)) + rest for rest in parts[1:])


_NOW = {"now()", "current_timestamp", "current_timestamp()"}


def compare_server_default(
    context: Any,
    inspected_column: Any,
    metadata_column: Any,
    inspected: str | None,
    metadata: Any,
    rendered: str | None,
) -> bool | None:
    """Alembic `compare_server_default` hook: MySQL/MariaDB read `now()` back as `current_timestamp()`, which
    is the same default; everything else is left to Alembic's comparison (None)."""
    if context.dialect.name != "mysql" or inspected is None or rendered is None:
        return None
    if inspected.strip("'\"").lower() in _NOW and rendered.strip("'\"").lower() in _NOW:
        return False
    return None
