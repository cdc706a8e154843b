"""The Store's ground: its model, mapping and validators, transactions and snapshots, keys, and one-document reads.

`lookups.Lookups` and `writes.Writes` build the API on it; `store.Store` is the two together.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any, Self

import sqlalchemy as sa

from schemarel.errors import DocumentNotFound, ValueRejected
from schemarel.normalize.normalizer import TIMESTAMP_COLUMNS
from schemarel.runtime import culprit, exactjson, patch
from schemarel.runtime.bulk import Writer, writer_for
from schemarel.runtime.connect import engine_for, prepare_sqlite
from schemarel.runtime.dberrors import translate, write_refused
from schemarel.runtime.dbstate import check_revision, migration_required
from schemarel.runtime.direct import DirectReads
from schemarel.runtime.documents import DocumentMap
from schemarel.runtime.prepare import check_values, prepared
from schemarel.runtime.query import Paths
from schemarel.runtime.rawread import raw_decoders
from schemarel.runtime.reassembly import ReadPlan
from schemarel.runtime.source import Source, from_schemas, locate
from schemarel.runtime.tablemap import TableMap
from schemarel.runtime.validation import DocumentValidator
from schemarel.runtime.values import MARIADB_JSON_DEPTH, problems
from schemarel.sql.metadata import build_metadata

Bind = Any  # a Connection, or an ORM Session (its connection is used)
UPDATED_AT = TIMESTAMP_COLUMNS[1][0]
_DIGITS = re.compile(r"-?(0|[1-9][0-9]{0,18})")  # an integer id as its text (a path parameter), nothing else
PACKET_MARGIN = 64 * 1024  # the statement around the values


class StoreBase:
    """Documents of one schema in a database: what every read and write of `Store` stands on."""

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
        self.engine = engine_for(db) if isinstance(db, str) else db
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
        self.mapping = DocumentMap(
            self.database.schema(schema),
            self.metadata,
            json_depth,
            sqlite,
            contents=source_schema.contents,
            raw=raw_decoders(self.engine.dialect.name),
        )
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
        self.reads = ReadPlan(self.mapping, self.engine.dialect)  # statements built once per store
        self.read_row = self.reads.readers[0]
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

    def prepare(self, document: Any, index: int | None = None, *, plain: bool = False) -> Any:
        """The document with defaults filled in, validated; raises DocumentInvalid listing every violation, or
        ValueRejected for what the database cannot hold (checked here, before anything is written; not when
        `plain`, a document `exactjson.loads_checked` found plain JSON data, which these checks pass)."""
        nul_ok = self.engine.dialect.name != "postgresql"
        document = prepared(self.name, self.mapping, self.validator, document, index, plain=plain, nul_ok=nul_ok)
        if self.mysql:
            self._check_size(document)
        return document

    def _check_values(self, document: Any, index: int | None = None) -> None:
        check_values(self.name, document, self.engine.dialect.name != "postgresql", index)

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
        """The typed error for a database failure (a refused row, a missing table, a write refused whatever the
        document), else `exc` itself."""
        return translate(exc, self.database) or migration_required(exc) or write_refused(exc) or exc

    def read_error(self, exc: Exception, doc_id: Any = None) -> Exception:
        """`error` of a failure that may come from reading: a stored value that cannot be turned into a
        document's is named (`culprit`; in the document `doc_id` where given), else the typed error."""
        if culprit.read_failure(exc):
            with self.engine.connect() as own:
                found = self.locate(own, doc_id)
            if found is not None:
                return found
        return self.error(exc)

    def locate(self, conn: sa.Connection, doc_id: Any = None) -> Exception | None:
        """The refusal naming a stored value no read can turn into a document's (see `culprit.locate`), in the
        document `doc_id` where given."""
        key = None if doc_id is None else self._key(doc_id)
        return culprit.locate(conn, self.mapping, self.reads.subtree, key)  # type: ignore[no-any-return]

    def snapshot(self) -> Any:
        """A connection reading one snapshot (REPEATABLE READ on PostgreSQL), for `conn=` of several reads."""
        return self._reading(None, locating=False)  # the caller's reads name what they cannot read

    @contextmanager
    def _reading(
        self, conn: Bind | None, one_statement: bool = False, doc_id: Any = None, locating: bool = True
    ) -> Iterator[sa.Connection]:
        """The caller's connection, or one of ours reading one snapshot (REPEATABLE READ where there is one);
        `one_statement`: the reading is a single statement (no BEGIN and COMMIT are sent). A stored value that
        cannot be read is named (`read_error`; `doc_id`: the one document read) where `locating`: not around the
        caller's own code (`snapshot`), whose errors are not reads."""
        options = {"isolation_level": "REPEATABLE READ"} if self.engine.dialect.name == "postgresql" else {}
        if one_statement:
            options = {"isolation_level": "AUTOCOMMIT"}
        try:
            if conn is not None:
                yield conn if isinstance(conn, sa.Connection) else conn.connection()
                return
            with self.engine.connect().execution_options(**options) as own, own.begin():
                yield own
        except Exception as exc:
            if not (locating and culprit.read_failure(exc)) and (
                conn is not None or not isinstance(exc, sa.exc.DBAPIError)
            ):
                raise
            error = self.read_error(exc, doc_id) if locating else self.error(exc)
            if error is exc:
                raise
            raise error from exc

    def get_on(self, c: sa.Connection, doc_id: Any) -> Any:
        key = self._key(doc_id)
        found = self.reads.document(c, key)
        if found is None:
            found = self._read(c, self.mapping.select(self.root).where(self._key_column == key, *self._top))
        if not found:
            raise DocumentNotFound(self.name, doc_id)
        return found[0][1]

    def _read(
        self, conn: sa.Connection, root_query: Any, rows: list[Any] | None = None, contiguous: bool = False
    ) -> list[tuple[Any, Any]]:
        """Documents of the root rows `root_query` selects (see reassembly.ReadPlan.documents)."""
        return self.reads.documents(conn, root_query, rows, contiguous)

    @property
    def _key_column(self) -> Any:
        return self.root.sa_table.c[self.root.key]

    @property
    def _top(self) -> list[Any]:
        """Conditions for documents of their own (rows nested by a recursive property are parts of another)."""
        return [self.root.sa_table.c[ref.column].is_(None) for ref in self.root.links]

    def _key(self, doc_id: Any) -> Any:
        """`doc_id` as the key column holds it: a uuid from its text, an integer from its digits (`"42"`, as a path
        parameter gives it); DocumentNotFound for an id no document can have (another type, a value the column
        cannot hold), which the drivers refused with their own errors or, on SQLite, compared as another value."""
        kind = self._key_type
        if kind is sa.Uuid:
            if isinstance(doc_id, uuid.UUID):
                return doc_id
            try:
                return uuid.UUID(str(doc_id))
            except ValueError:
                raise DocumentNotFound(self.name, doc_id) from None
        if kind is sa.Integer:
            if isinstance(doc_id, str) and _DIGITS.fullmatch(doc_id):
                doc_id = int(doc_id)
            if isinstance(doc_id, int) and not isinstance(doc_id, bool) and -(2**63) <= doc_id < 2**63:
                return doc_id
            raise DocumentNotFound(self.name, doc_id)
        if kind is sa.String:
            if not isinstance(doc_id, str):
                raise DocumentNotFound(self.name, doc_id)
            found = problems(doc_id, nul_ok=self.engine.dialect.name != "postgresql")
            if found.invalid or found.refused:  # a lone surrogate, a NUL on PostgreSQL: text no column holds
                raise DocumentNotFound(self.name, doc_id)
            return doc_id
        return doc_id

    @cached_property
    def _key_type(self) -> type[Any] | None:
        """The kind of the key column (`sa.Uuid`, `sa.Integer`, `sa.String`), None for another."""
        column = self._key_column.type
        return next((kind for kind in (sa.Uuid, sa.Integer, sa.String) if isinstance(column, kind)), None)

    def _writer(self, dialect: sa.Dialect) -> Writer:
        name = (dialect.name, dialect.driver)
        if name not in self._writers:
            self._writers[name] = writer_for(dialect, self.mapping)
        return self._writers[name]

    def close(self) -> None:
        self.direct.close()  # the connection kept for one-statement reads and writes (runtime/direct.py)
        if self.owns_engine:
            self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
