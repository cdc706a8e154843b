"""The runtime's public API: store, read, replace and delete the documents of one schema in its tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from schemarel.errors import DocumentInvalid, DocumentNotFound, SchemarelError, ValueRejected
from schemarel.ir import Database
from schemarel.normalize.normalizer import TIMESTAMP_COLUMNS, normalize
from schemarel.runtime import exactjson, marks
from schemarel.runtime.bulk import Writer, writer_for
from schemarel.runtime.dberrors import translate
from schemarel.runtime.documents import DocumentMap
from schemarel.runtime.tablemap import TableMap
from schemarel.runtime.validation import DocumentValidator
from schemarel.runtime.values import MARIADB_JSON_DEPTH, problems
from schemarel.schema.loader import load_schemas
from schemarel.sql.metadata import build_metadata

Bind = Any  # a Connection, or an ORM Session (its connection is used)
UPDATED_AT = TIMESTAMP_COLUMNS[1][0]
PACKET_MARGIN = 64 * 1024  # the statement around the values


class Store:
    """Documents of one schema (`customer`, `profile`: the schema file's stem) in a database.

    Every write validates the document (formats included), fills the schema's `default`s in for absent required
    properties, and writes all its rows in one transaction; given `conn=` (a Connection or a Session) it runs
    inside the caller's transaction, in a SAVEPOINT, so that a failure undoes only this document.
    """

    def __init__(self, db: str | sa.Engine, schema: str, *, schemas_dir: str | Path = "schemas") -> None:
        self.schemas_dir = Path(schemas_dir)
        self.owns_engine = not isinstance(db, sa.Engine)
        self.engine = _engine(db) if isinstance(db, str) else db
        prepare_sqlite(self.engine)
        sources = load_schemas(Path(schemas_dir))
        database = Database(tuple(normalize(s) for s in sources))
        names = [s.name for s in sources]
        if schema not in names:
            raise SchemarelError(f"no schema named {schema!r} in {schemas_dir} (there are: {', '.join(names)})")
        self.name = schema
        self.database = database
        self.metadata = build_metadata(database)
        self.mysql = self.engine.dialect.name in ("mysql", "mariadb")
        json_depth = MARIADB_JSON_DEPTH if self.mysql else None
        sqlite = self.engine.dialect.name == "sqlite"
        self.mapping = DocumentMap(database.schema(schema), self.metadata, json_depth=json_depth, sqlite=sqlite)
        self._packet: int | None = None  # MySQL's max_allowed_packet, asked at the first write
        self.validator = DocumentValidator(sources[names.index(schema)], sources)
        self.root: TableMap = self.mapping.root
        self._writers: dict[tuple[str, str], Writer] = {}

    # -- building blocks (the CLI's bulk load uses them) ------------------------------------------
    def prepare(self, document: Any, index: int | None = None) -> Any:
        """The document with defaults filled in, validated; raises DocumentInvalid listing every violation, or
        ValueRejected for what the database cannot hold (checked here, before anything is written)."""
        found = problems(document, nul_ok=self.engine.dialect.name != "postgresql")
        if found.invalid:
            raise DocumentInvalid(self.name, found.invalid, index)
        if found.refused:
            raise ValueRejected("; ".join(str(v) for v in found.refused))
        document = self.mapping.with_defaults(document)
        self.validator.validate(document, index)
        if self.mysql:
            self._check_size(document)
        return document

    def _check_size(self, document: Any) -> None:
        """MySQL drops the connection on a statement longer than max_allowed_packet: refuse such a document."""
        if self._packet is None:
            with self.engine.connect() as conn:
                self._packet = int(conn.exec_driver_sql("SELECT @@max_allowed_packet").scalar_one())
        size = len(exactjson.dumps(document).encode())  # JSON escapes at least what SQL literals escape
        if size + PACKET_MARGIN > self._packet:
            raise ValueRejected(
                f"the document is {size:,} bytes, more than the server's max_allowed_packet ({self._packet:,}) allows"
            )

    @contextmanager
    def transaction(self, conn: Bind | None = None, *, one_statement: bool = False) -> Iterator[sa.Connection]:
        """A transaction of its own, or a SAVEPOINT in the caller's; database refusals become typed errors.

        `one_statement`: the block runs a single statement, atomic on its own, so no BEGIN and COMMIT are sent.
        """
        try:
            if conn is not None:
                connection = conn if isinstance(conn, sa.Connection) else conn.connection()
                with connection.begin_nested():
                    yield connection
            elif one_statement:
                with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as own:
                    yield own
            else:
                with self.engine.begin() as own:
                    yield own
        except Exception as exc:
            error = translate(exc, self.database)
            if error is None:
                raise
            raise error from exc

    def write(self, conn: sa.Connection, documents: Sequence[Any]) -> list[Any]:
        """Write prepared documents on `conn` (no transaction handling); returns their ids in order."""
        batch = self.mapping.new_batch()
        ids = [self.mapping.add(batch, doc) for doc in documents]
        self._writer(conn.dialect).write(conn, batch)
        return batch.keys[0] if self.root.key_source == "server" else ids

    # -- the API ----------------------------------------------------------------------------------
    def create(self, document: Any, *, conn: Bind | None = None) -> Any:
        """Store one document; returns its id."""
        batch = self.mapping.new_batch()
        doc_id = self.mapping.add(batch, self.prepare(document))
        writer = self._writer(self.engine.dialect)
        with self.transaction(conn, one_statement=writer.one_statement(batch)) as c:
            writer.write_one(c, batch)
        return batch.keys[0][0] if self.root.key_source == "server" else doc_id

    def create_many(self, documents: Iterable[Any], batch_size: int = 1000, *, conn: Bind | None = None) -> list[Any]:
        """Store many documents, `batch_size` per transaction (or SAVEPOINT); returns their ids in order.

        Each batch is all or nothing. A failing batch raises (DocumentInvalid says which document, by
        `index`); the batches before it stay written.
        """
        ids: list[Any] = []
        batch: list[Any] = []
        for index, document in enumerate(documents):
            batch.append(self.prepare(document, index))
            if len(batch) >= batch_size:
                with self.transaction(conn) as c:
                    ids += self.write(c, batch)
                batch = []
        if batch:
            with self.transaction(conn) as c:
                ids += self.write(c, batch)
        return ids

    def get(self, doc_id: Any, *, conn: Bind | None = None) -> Any:
        """The document as stored; raises DocumentNotFound."""
        key = self._key(doc_id)
        with self._reading(conn) as c:
            found = self._read(c, self.mapping.select(self.root).where(self._key_column == key, *self._top))
        if not found:
            raise DocumentNotFound(self.name, doc_id)
        return found[0][1]

    def exists(self, doc_id: Any, *, conn: Bind | None = None) -> bool:
        try:
            key = self._key(doc_id)
        except DocumentNotFound:
            return False
        with self._reading(conn) as c:
            query = sa.select(sa.literal(1)).select_from(self.root.sa_table).where(self._key_column == key, *self._top)
            return c.execute(query).first() is not None

    def replace(self, doc_id: Any, document: Any, *, conn: Bind | None = None) -> None:
        """Replace a stored document by another (same id; `created_at` kept, `updated_at` set)."""
        key = self._key(doc_id)
        document = self.prepare(document)
        root = self.root
        batch = self.mapping.new_batch()
        self.mapping.add(batch, document, key=key)
        values = self.mapping.values(root, batch.rows[0][0], self.engine.dialect)
        values.pop(root.key, None)
        if UPDATED_AT in root.sa_table.c and UPDATED_AT not in values:
            values[UPDATED_AT] = sa.func.now()
        if root.key_source == "server":
            batch.keys[0] = [key]
        with self.transaction(conn) as c:
            if c.execute(sa.update(root.sa_table).where(self._key_column == key).values(values)).rowcount == 0:
                raise DocumentNotFound(self.name, doc_id)
            for child in root.children:  # their own children go by ON DELETE CASCADE
                assert child.fk is not None
                c.execute(sa.delete(child.sa_table).where(child.sa_table.c[child.fk] == key))
            for ref in root.links:  # documents nested by a recursive property, and theirs by cascade
                c.execute(sa.delete(root.sa_table).where(root.sa_table.c[ref.column] == key))
            tables = self.mapping.tables[1:]
            if len(batch.rows[0]) > 1:  # the nested documents are new rows of the root table (client keys)
                batch.rows[0] = batch.rows[0][1:]
                tables = self.mapping.tables
            self._writer(c.dialect).insert(c, batch, tables)

    def delete(self, doc_id: Any, *, conn: Bind | None = None) -> None:
        """Delete a document and, by ON DELETE CASCADE, every row of it."""
        key = self._key(doc_id)
        with self.transaction(conn) as c:
            if c.execute(sa.delete(self.root.sa_table).where(self._key_column == key)).rowcount == 0:
                raise DocumentNotFound(self.name, doc_id)

    def items(self, batch_size: int = 500, *, conn: Bind | None = None) -> Iterator[tuple[Any, Any]]:
        """Every (id, document), by id, read `batch_size` documents at a time (one snapshot on PostgreSQL)."""
        query = self.mapping.select(self.root).where(*self._top).order_by(self._key_column).limit(batch_size)
        after = None
        with self._reading(conn) as c:
            while True:
                page = self._read(c, query if after is None else query.where(self._key_column > after))
                yield from page
                if len(page) < batch_size:
                    return
                after = page[-1][0]

    def __iter__(self) -> Iterator[Any]:
        return (document for _, document in self.items())

    def __len__(self) -> int:
        with self._reading(None) as c:
            query = sa.select(sa.func.count()).select_from(self.root.sa_table).where(*self._top)
            return int(c.execute(query).scalar_one())

    def __contains__(self, doc_id: object) -> bool:
        return self.exists(doc_id)

    def close(self) -> None:
        if self.owns_engine:
            self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------------------
    @property
    def _key_column(self) -> Any:
        return self.root.sa_table.c[self.root.key]

    @property
    def _top(self) -> list[Any]:
        """Conditions for documents of their own (rows nested by a recursive property are parts of another)."""
        return [self.root.sa_table.c[ref.column].is_(None) for ref in self.root.links]

    def _key(self, doc_id: Any) -> Any:
        if isinstance(self._key_column.type, sa.Uuid) and not isinstance(doc_id, uuid.UUID):
            try:
                return uuid.UUID(str(doc_id))
            except ValueError:
                raise DocumentNotFound(self.name, doc_id) from None
        return doc_id

    def _writer(self, dialect: sa.Dialect) -> Writer:
        name = (dialect.name, dialect.driver)
        if name not in self._writers:
            self._writers[name] = writer_for(dialect, self.mapping)
        return self._writers[name]

    @contextmanager
    def _reading(self, conn: Bind | None) -> Iterator[sa.Connection]:
        """The caller's connection, or one of ours reading one snapshot (REPEATABLE READ where there is one)."""
        if conn is not None:
            yield conn if isinstance(conn, sa.Connection) else conn.connection()
            return
        options = {"isolation_level": "REPEATABLE READ"} if self.engine.dialect.name == "postgresql" else {}
        with self.engine.connect().execution_options(**options) as own, own.begin():
            yield own

    def _read(self, conn: sa.Connection, root_query: Any) -> list[tuple[Any, Any]]:
        """Documents of the root rows `root_query` selects: one query per table, children by parent keys."""
        mapping = self.mapping
        root = self.root
        nodes: list[dict[Any, Any]] = [{} for _ in mapping.tables]
        result = []
        for row in conn.execute(root_query):
            document = mapping.node(root, row)
            nodes[0][row[0]] = document
            result.append((row[0], document))
        self._read_nested(conn, nodes[0], list(nodes[0]))
        for tm in mapping.tables[1:]:
            assert tm.parent is not None and tm.fk is not None
            parents = nodes[tm.parent.index]
            if not parents:
                continue
            for parent in parents.values():
                mapping.start(tm, parent)
            query = mapping.select(tm).where(tm.sa_table.c[tm.fk].in_(list(parents)))
            for row in conn.execute(query):
                node = mapping.node(tm, row)
                mapping.attach(tm, parents[tm.parent_key(row)], node)
                if tm.children:
                    nodes[tm.index][row[0]] = node
        return result

    def _read_nested(self, conn: sa.Connection, documents: dict[Any, Any], keys: list[Any]) -> None:
        """Documents nested in `keys` by recursive properties (rows of the root table), level by level."""
        root = self.root
        while keys and root.links:
            found = []
            for i, ref in enumerate(root.links):
                query = self.mapping.select(root).where(root.sa_table.c[ref.column].in_(keys))
                rows = sorted(conn.execute(query), key=lambda r: (r[1 + 2 * i + 1] or 0, str(r[0])))
                for row in rows:
                    node = self.mapping.node(root, row)
                    holder = documents[row[1 + 2 * i]]
                    if ref.position:
                        marks.ensure(holder, ref.path, list).append(node)
                    else:
                        marks.put(holder, ref.path, node)
                    documents[row[0]] = node
                    found.append(row[0])
            keys = found


def _engine(url: str) -> sa.Engine:
    """An engine for a URL; a URL SQLAlchemy cannot read is a usage error (exit 2) that does not echo the URL,
    which may hold a password."""
    try:
        parsed = sa.engine.make_url(url)
        if parsed.port is not None and not 0 < parsed.port < 65536:
            raise ValueError(f"port {parsed.port} is not between 1 and 65535")
        return sa.create_engine(parsed)
    except ValueError as exc:
        reason = "its port is not a number" if "int()" in str(exc) else str(exc).splitlines()[0]
        raise SchemarelError(f"the database URL is not valid: {reason}") from None
    except sa.exc.NoSuchModuleError as exc:
        raise SchemarelError(f"the database URL is not valid: {str(exc).splitlines()[0]}") from None
    except sa.exc.ArgumentError:  # its message quotes the URL
        raise SchemarelError("the database URL is not valid: expected dialect+driver://user@host:port/db") from None


def prepare_sqlite(engine: sa.Engine) -> None:
    """Make SQLite behave like the other databases for the runtime (SQLAlchemy's documented recipe).

    SQLite enforces foreign keys (so ON DELETE CASCADE) only when each connection asks for it; and the
    pysqlite driver opens a transaction only at the first write, so that a SAVEPOINT taken before it would
    be the transaction itself and its RELEASE a commit. The driver's own handling is switched off and BEGIN
    is sent when SQLAlchemy begins a transaction.
    """
    if engine.dialect.name != "sqlite" or sa.event.contains(engine, "connect", _sqlite_connect):
        return
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _sqlite_begin)


def _sqlite_connect(dbapi_connection: Any, record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    conn.exec_driver_sql("BEGIN")
