"""The runtime's public API: store, read, replace and delete the documents of one schema in its tables."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from schemarel.errors import (
    DocumentInvalid,
    DocumentNotFound,
    SchemarelError,
    ValueRejected,
)
from schemarel.normalize.normalizer import TIMESTAMP_COLUMNS
from schemarel.runtime import exactjson, marks, patch
from schemarel.runtime.bulk import Writer, writer_for
from schemarel.runtime.dberrors import translate
from schemarel.runtime.dbstate import check_revision, migration_required
from schemarel.runtime.direct import DirectReads, row_reader
from schemarel.runtime.documents import DocumentMap
from schemarel.runtime.marks import MISSING
from schemarel.runtime.query import (
    Binder,
    Order,
    Page,
    Paths,
    QueryError,
    Where,
    bound,
    condition,
    query_value,
    shape,
    terms,
    where_clause,
    where_of,
)
from schemarel.runtime.source import Source, from_schemas, locate
from schemarel.runtime.tablemap import RowBatch, TableMap
from schemarel.runtime.validation import DocumentValidator
from schemarel.runtime.values import MARIADB_JSON_DEPTH, problems
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

    def __init__(
        self,
        db: str | sa.Engine,
        schema: str,
        *,
        source: Source = None,
        schemas_dir: str | Path | None = None,
        check: bool = True,
    ) -> None:
        """`source`: the generated package (`import generated`), its directory, or a `source.Model`; by default
        the `out` of `[tool.schemarel]` (else `generated/`) beside the nearest pyproject.toml. The model is that
        package's head revision; with `check`, the database must be at that revision (MigrationRequired says
        what to run otherwise). `schemas_dir` builds the model from schema files instead (no revision)."""
        self.owns_engine = not isinstance(db, sa.Engine)
        self.engine = _engine(db) if isinstance(db, str) else db
        prepare_sqlite(self.engine)
        self.model = from_schemas(Path(schemas_dir)) if schemas_dir is not None else locate(source)
        self.schemas_dir = Path(schemas_dir) if schemas_dir is not None else None
        self.name = schema
        source_schema = self.model.source(schema)
        self.database = self.model.database
        self.metadata = build_metadata(self.database)
        self.mysql = self.engine.dialect.name in ("mysql", "mariadb")
        json_depth = MARIADB_JSON_DEPTH if self.mysql else None
        sqlite = self.engine.dialect.name == "sqlite"
        self.mapping = DocumentMap(self.database.schema(schema), self.metadata, json_depth=json_depth, sqlite=sqlite)
        self._packet: int | None = None  # MySQL's max_allowed_packet, asked at the first write
        self.validator = DocumentValidator(source_schema, self.model.sources)
        patch_schema = patch.partial_schema(source_schema.contents)
        self.patch_validator = (
            DocumentValidator(dataclasses.replace(source_schema, contents=patch_schema), self.model.sources)
            if patch_schema is not None
            else None
        )
        self.root: TableMap = self.mapping.root
        self.paths = Paths(self.mapping)
        self.patcher = patch.Patcher(self)
        # a document in one table is read by one statement, atomic on its own: no transaction needed
        self.one_table = len(self.mapping.tables) == 1 and not self.root.links
        self.direct = DirectReads(self.engine, self.one_table)
        self.read_row = row_reader(self.root) or partial(self.mapping.node, self.root)
        self._unique: dict[str, Any] = {}  # get_by's paths, once checked
        self._writers: dict[tuple[str, str], Writer] = {}
        if check and self.model.revision is not None and not self.engine.dialect.is_async:
            try:
                with self.engine.connect() as conn:
                    check_revision(conn, self.model.revision)
            except BaseException:
                self.close()
                raise

    @property
    def revision(self) -> str | None:
        """The revision of the models this store writes (None when built from schema files)."""
        return self.model.revision

    # -- building blocks (the CLI's bulk load uses them) ------------------------------------------
    def prepare(self, document: Any, index: int | None = None) -> Any:
        """The document with defaults filled in, validated; raises DocumentInvalid listing every violation, or
        ValueRejected for what the database cannot hold (checked here, before anything is written)."""
        self._check_values(document, index)
        document = self.mapping.with_defaults(document)
        self.validator.validate(document, index)
        if self.mysql:
            self._check_size(document)
        return document

    def _check_values(self, document: Any, index: int | None = None) -> None:
        found = problems(document, nul_ok=self.engine.dialect.name != "postgresql")
        if found.invalid:
            raise DocumentInvalid(self.name, found.invalid, index)
        if found.refused:
            raise ValueRejected("; ".join(str(v) for v in found.refused))

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
            raise self.error(exc) from exc

    def error(self, exc: Exception) -> Exception:
        """The typed error for a database failure (a refused row, a missing table), else `exc` itself."""
        return translate(exc, self.database) or migration_required(exc) or exc

    def write(self, conn: sa.Connection, documents: Sequence[Any]) -> list[Any]:
        """Write prepared documents on `conn` (no transaction handling); returns their ids in order."""
        batch = self.mapping.new_batch()
        ids = [self.mapping.add(batch, doc) for doc in documents]
        self._writer(conn.dialect).write(conn, batch)
        return batch.keys[0] if self.root.key_source == "server" else ids

    # -- the API ----------------------------------------------------------------------------------
    def create(self, document: Any, *, conn: Bind | None = None) -> Any:
        """Store one document; returns its id."""
        batch, doc_id = self.one_batch(document)
        writer = self._writer(self.engine.dialect)
        with self.transaction(conn, one_statement=writer.one_statement(batch)) as c:
            writer.write_one(c, batch)
        return self.created_id(batch, doc_id)

    def one_batch(self, document: Any) -> tuple[RowBatch, Any]:
        """The rows of one new document, validated (its id, or None until the database assigns it)."""
        batch = self.mapping.new_batch()
        return batch, self.mapping.add(batch, self.prepare(document))

    def created_id(self, batch: RowBatch, doc_id: Any) -> Any:
        return batch.keys[0][0] if self.root.key_source == "server" else doc_id

    def create_many(self, documents: Iterable[Any], batch_size: int = 1000, *, conn: Bind | None = None) -> list[Any]:
        """Store many documents, `batch_size` per transaction (or SAVEPOINT); returns their ids in order.

        Each batch is all or nothing. A failing batch raises (DocumentInvalid says which document, by
        `index`); the batches before it stay written.
        """
        ids: list[Any] = []
        for batch in self.batches(documents, batch_size):
            with self.transaction(conn) as c:
                ids += self.write(c, batch)
        return ids

    def batches(self, documents: Iterable[Any], batch_size: int) -> Iterator[list[Any]]:
        """Prepared documents, `batch_size` at a time."""
        batch: list[Any] = []
        for index, document in enumerate(documents):
            batch.append(self.prepare(document, index))
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def get(self, doc_id: Any, *, conn: Bind | None = None) -> Any:
        """The document as stored; raises DocumentNotFound."""
        if conn is None and self.direct.enabled:
            return self._direct_one(("get",), self._key_column, self._key(doc_id), "id", doc_id)
        with self._reading(conn, one_statement=self.one_table) as c:
            return self.get_on(c, doc_id)

    def _direct_one(self, key: Any, column: Any, value: Any, by: str, shown: Any) -> Any:
        """The document of the row whose `column` is `value`, read by one statement sent through psycopg."""

        def build() -> Any:
            return self.mapping.select(self.root).where(column == sa.bindparam("v", type_=column.type))

        try:
            rows = self.direct.rows(key, build, {"v": value})
        except Exception as exc:
            raise self.error(exc) from exc
        if not rows:
            raise DocumentNotFound(self.name, shown if by == "id" else repr(shown), by=by)
        return self.read_row(rows[0])

    def get_on(self, c: sa.Connection, doc_id: Any) -> Any:
        found = self._read(c, self.mapping.select(self.root).where(self._key_column == self._key(doc_id), *self._top))
        if not found:
            raise DocumentNotFound(self.name, doc_id)
        return found[0][1]

    def get_by(self, *, conn: Bind | None = None, **unique: Any) -> Any:
        """The document whose unique property has this value: `get_by(userId="u42")`; raises DocumentNotFound."""
        if conn is None and self.direct.enabled and len(unique) == 1:
            ((path, value),) = unique.items()
            target = self._unique.get(path) or self._unique.setdefault(path, self.paths.unique(path))
            column = target.tm.sa_table.c[target.field.column]
            return self._direct_one(("by", path), column, query_value(target, value), path, value)
        query = self.by_query(unique)
        with self._reading(conn, one_statement=self.one_table) as c:
            return self.get_by_on(c, query, unique)

    def by_query(self, unique: dict[str, Any]) -> Any:
        if len(unique) != 1:
            raise QueryError(f"get_by takes one unique property, as in get_by(userId=...), not {sorted(unique)}")
        ((path, value),) = unique.items()
        return self.mapping.select(self.root).where(condition(self.paths.unique(path), value), *self._top)

    def get_by_on(self, c: sa.Connection, query: Any, unique: dict[str, Any]) -> Any:
        found = self._read(c, query)
        if not found:
            ((path, value),) = unique.items()
            raise DocumentNotFound(self.name, repr(value), by=path)
        return found[0][1]

    def find(
        self,
        where: Where | None = None,
        *,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        batch_size: int = 500,
        conn: Bind | None = None,
    ) -> Iterator[tuple[Any, Any]]:
        """(id, document) pairs matching `where` (see runtime/query.py), ordered by `order_by` (paths of the
        root table, `-` for descending; the id breaks ties, and orders alone by default), NULLs last; read
        `batch_size` at a time by keyset, in one snapshot."""
        if conn is None and self.direct.enabled:
            order = Order.parse(self.paths, order_by)
            terms(self.paths, where)  # a bad filter raises here, not at the first item
            stream: Iterator[tuple[Any, Any]] = self._direct_stream(where, order, limit, batch_size)
            return stream
        conds, order = self.compile(where, order_by)
        rows: Iterator[tuple[Any, Any]] = self._stream(conds, order, limit, batch_size, conn)
        return rows

    def _direct_stream(self, where: Where | None, order: Order, limit: int | None, size: int) -> Any:
        """`find` of documents held in one row each: every page one statement (a document is read atomically;
        the pages are not one snapshot)."""
        after = None
        while limit is None or limit > 0:
            items, after = self.direct_page(where, order, size if limit is None else min(size, limit), after)
            yield from items
            if after is None:
                return
            limit = None if limit is None else limit - len(items)

    def direct_page(
        self, where: Where | None, order: Order, size: int, after: list[Any] | None
    ) -> tuple[list[tuple[Any, Any]], list[Any] | None]:
        """`page_on` by one statement sent through psycopg, compiled once per form of the query."""
        root = self.root
        items = terms(self.paths, where)
        after_shape = None if after is None else tuple(v is None for v in after[:-1])
        key = ("page", shape(items), after_shape, tuple((t.path, d) for t, d in order.keys))
        values = bound(items) + ([v for v in after if v is not None] if after is not None else [])
        params = {f"p{i}": v for i, v in enumerate(values)}

        def build() -> Any:
            bind = Binder(named=True)
            query = self.mapping.select(root).where(*where_of(items, bind))
            if after is not None:
                query = query.where(order.after(root, after, bind))
            return query.order_by(*order.columns(root)).limit(sa.bindparam("limit", type_=sa.Integer()))

        try:
            rows = self.direct.rows(key, build, {**params, "limit": size})
        except Exception as exc:
            raise self.error(exc) from exc
        read = self.read_row
        return [(row[0], read(row)) for row in rows], (
            order.values(rows[-1], root) if size and len(rows) == size else None
        )

    def _stream(self, conds: list[Any], order: Order, limit: int | None, size: int, conn: Bind | None) -> Any:
        after = None
        with self._reading(conn) as c:
            while limit is None or limit > 0:
                items, after = self.page_on(c, conds, order, size if limit is None else min(size, limit), after)
                yield from items
                if after is None:
                    return
                limit = None if limit is None else limit - len(items)

    def page(
        self,
        where: Where | None = None,
        *,
        order_by: str | Sequence[str] | None = None,
        limit: int = 50,
        after: str | None = None,
        conn: Bind | None = None,
    ) -> Page[Any]:
        """One page of `find`; `Page.next` is the cursor to pass as `after` for the next one (keyset)."""
        order = Order.parse(self.paths, order_by)
        start = order.decode(after, self._key) if after else None
        if conn is None and self.direct.enabled:
            items, last = self.direct_page(where, order, limit, start)
        else:
            conds = where_clause(self.paths, where)
            with self._reading(conn, one_statement=self.one_table) as c:
                items, last = self.page_on(c, conds, order, limit, start)
        return Page(items, order.encode(last) if last is not None else None)

    def count(self, where: Where | None = None, *, conn: Bind | None = None) -> int:
        """How many documents match `where`."""
        conds, _ = self.compile(where, None)
        with self._reading(conn, one_statement=self.one_table) as c:
            return self.count_on(c, conds)

    def count_on(self, c: sa.Connection, conds: list[Any]) -> int:
        query = sa.select(sa.func.count()).select_from(self.root.sa_table).where(*self._top, *conds)
        return int(c.execute(query).scalar_one())

    def compile(self, where: Where | None, order_by: str | Sequence[str] | None) -> tuple[list[Any], Order]:
        return where_clause(self.paths, where), Order.parse(self.paths, order_by)

    def page_on(
        self, c: sa.Connection, conds: list[Any], order: Order, size: int, after: list[Any] | None
    ) -> tuple[list[tuple[Any, Any]], list[Any] | None]:
        """Up to `size` documents after the keyset position `after`; and the position of the last when the
        page is full (more may follow), else None."""
        root = self.root
        query = self.mapping.select(root).where(*self._top, *conds)
        if after is not None:
            query = query.where(order.after(root, after))
        rows: list[Any] = []
        items = self._read(c, query.order_by(*order.columns(root)).limit(size), rows)
        return items, (order.values(rows[-1], root) if size and len(rows) == size else None)

    def exists(self, doc_id: Any, *, conn: Bind | None = None) -> bool:
        with self._reading(conn, one_statement=self.one_table) as c:
            return self.exists_on(c, doc_id)

    def exists_on(self, c: sa.Connection, doc_id: Any) -> bool:
        try:
            key = self._key(doc_id)
        except DocumentNotFound:
            return False
        query = sa.select(sa.literal(1)).select_from(self.root.sa_table).where(self._key_column == key, *self._top)
        return c.execute(query).first() is not None

    def replace(self, doc_id: Any, document: Any, *, conn: Bind | None = None) -> None:
        """Replace a stored document by another (same id; `created_at` kept, `updated_at` set)."""
        document = self.prepare(document)
        with self.transaction(conn) as c:
            self.replace_on(c, doc_id, document)

    def replace_on(self, c: sa.Connection, doc_id: Any, document: Any) -> None:
        key = self._key(doc_id)
        root = self.root
        batch = self._batch_of(document, key)
        values = self.mapping.values(root, batch.rows[0][0], self.engine.dialect)
        values.pop(root.key, None)
        if UPDATED_AT in root.sa_table.c and UPDATED_AT not in values:
            values[UPDATED_AT] = sa.func.now()
        if c.execute(sa.update(root.sa_table).where(self._key_column == key).values(values)).rowcount == 0:
            raise DocumentNotFound(self.name, doc_id)
        for child in root.children:  # their own children go by ON DELETE CASCADE
            patch.clear(c, child, key)
        for ref in root.links:  # documents nested by a recursive property, and theirs by cascade
            c.execute(sa.delete(root.sa_table).where(root.sa_table.c[ref.column] == key))
        tables = self.mapping.tables[1:]
        if len(batch.rows[0]) > 1:  # the nested documents are new rows of the root table (client keys)
            batch.rows[0] = batch.rows[0][1:]
            tables = self.mapping.tables
        self._writer(c.dialect).insert(c, batch, tables)

    def patch(self, doc_id: Any, merge_patch: Any, *, if_match: Any = MISSING, conn: Bind | None = None) -> Any:
        """Apply an RFC 7396 JSON Merge Patch (`{"timezone": "Europe/Paris", "settings": null}`: null removes)
        and return the new document, validated as a whole. Only the changed columns of the root row, and the
        rows of the arrays and objects that changed, are written, in one transaction, the document's row
        locked (FOR UPDATE) while it is read. `if_match`: the document as the caller read it; if the stored
        one differs, ConcurrentUpdate is raised and nothing is written (optimistic concurrency)."""
        planned = self.direct_patch(merge_patch, if_match)
        if planned is not None and conn is None and self.direct.enabled:
            return self.patcher.direct(doc_id, planned)
        with self.transaction(conn, one_statement=planned is not None and len(self.mapping.tables) == 1) as c:
            return self.patcher.apply(c, doc_id, merge_patch, if_match, planned)

    def direct_patch(self, merge_patch: Any, if_match: Any) -> dict[str, Any] | None:
        """The root columns a patch sets, validated, when it can be written without reading the document."""
        return self.patcher.plan(merge_patch, if_match)

    def patch_on(
        self, c: sa.Connection, doc_id: Any, merge_patch: Any, if_match: Any = MISSING, direct: Any = None
    ) -> Any:
        return self.patcher.apply(c, doc_id, merge_patch, if_match, direct)

    def _batch_of(self, document: Any, key: Any) -> RowBatch:
        """The rows of a stored document (its key given)."""
        batch = self.mapping.new_batch()
        self.mapping.add(batch, document, key=key)
        if self.root.key_source == "server":
            batch.keys[0] = [key]
        return batch

    def delete(self, doc_id: Any, *, conn: Bind | None = None) -> None:
        """Delete a document and, by ON DELETE CASCADE, every row of it."""
        with self.transaction(conn) as c:
            self.delete_on(c, doc_id)

    def delete_on(self, c: sa.Connection, doc_id: Any) -> None:
        if c.execute(sa.delete(self.root.sa_table).where(self._key_column == self._key(doc_id))).rowcount == 0:
            raise DocumentNotFound(self.name, doc_id)

    def items(self, batch_size: int = 500, *, conn: Bind | None = None) -> Iterator[tuple[Any, Any]]:
        """Every (id, document), by id, read `batch_size` documents at a time (one snapshot on PostgreSQL)."""
        return self.find(batch_size=batch_size, conn=conn)

    def __iter__(self) -> Iterator[Any]:
        return (document for _, document in self.items())

    def __len__(self) -> int:
        return self.count()

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

    def snapshot(self) -> Any:
        """A connection reading one snapshot (REPEATABLE READ on PostgreSQL), for `conn=` of several reads."""
        return self._reading(None)

    @contextmanager
    def _reading(self, conn: Bind | None, one_statement: bool = False) -> Iterator[sa.Connection]:
        """The caller's connection, or one of ours reading one snapshot (REPEATABLE READ where there is one);
        `one_statement`: the reading is a single statement (no BEGIN and COMMIT are sent)."""
        if conn is not None:
            yield conn if isinstance(conn, sa.Connection) else conn.connection()
            return
        options = {"isolation_level": "REPEATABLE READ"} if self.engine.dialect.name == "postgresql" else {}
        if one_statement:
            options = {"isolation_level": "AUTOCOMMIT"}
        try:
            with self.engine.connect().execution_options(**options) as own, own.begin():
                yield own
        except sa.exc.DBAPIError as exc:
            raise self.error(exc) from exc

    def _read(self, conn: sa.Connection, root_query: Any, rows: list[Any] | None = None) -> list[tuple[Any, Any]]:
        """Documents of the root rows `root_query` selects: one query per table, children by parent keys."""
        mapping = self.mapping
        root = self.root
        nodes: list[dict[Any, Any]] = [{} for _ in mapping.tables]
        result = []
        for row in conn.execute(root_query):
            if rows is not None:
                rows.append(row)
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
