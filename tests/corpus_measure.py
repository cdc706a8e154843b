"""The corpus measurement (test_corpus.py asserts it, benchmarks/corpus.py prints it): per schema its tables and
columns, the share of its example documents' text stored in JSON columns (`schemarel.runtime.jsonshare`), and
whether each valid example is accepted and read back exactly on each database."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from schemarel.errors import DocumentInvalid, SchemarelError
from schemarel.runtime import exactjson
from schemarel.runtime.jsonshare import JsonShare, json_bytes
from schemarel.runtime.source import Model, from_schemas
from schemarel.runtime.store import Store
from schemarel.runtime.validation import DocumentValidator
from schemarel.sql.metadata import build_metadata

DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$")
EXACT = "exact"


@dataclass
class Figures:
    """One schema's line of the table."""

    name: str
    tables: int = 0
    columns: int = 0
    documents: int = 0  # valid examples (the share and round trips are over these)
    invalid: int = 0  # examples the schema's validator refuses (they must be refused on every database)
    share: JsonShare = JsonShare(0, 0)
    where: dict[str, int] = field(default_factory=dict)  # JSON column (`table.column`) → bytes of the examples
    # dialect → one outcome per valid example: "exact", "differs", or "refused: <message>"
    outcomes: dict[str, list[str]] = field(default_factory=dict)
    error: str = ""  # the schema itself was refused (its message)

    def failures(self) -> list[str]:
        return [f"{self.name} on {dialect}: {o}" for dialect, found in self.outcomes.items() for o in found
                if o != EXACT]  # fmt: skip


def examples_of(schema: Path) -> list[Path]:
    return sorted(schema.parent.glob(f"{schema.name.removesuffix('.schema.json')}.example*.json"))


def model_of(schema: Path, work: Path) -> tuple[Model, Path]:
    """The model of one schema file on its own (copied to `work/schemas`), and that directory."""
    schemas = work / "schemas"
    schemas.mkdir(parents=True, exist_ok=True)
    shutil.copy(schema, schemas / schema.name)
    return from_schemas(schemas), schemas


def measure(schema: Path, urls: Mapping[str, str], work: Path) -> Figures:
    """Figures of `schema` (and its examples beside it), round-tripping on each of `urls` (dialect → empty db)."""
    name = schema.name.removesuffix(".schema.json")
    figures = Figures(name)
    try:
        model, schemas_dir = model_of(schema, work)
    except SchemarelError as exc:
        figures.error = str(exc)
        return figures
    schema_model = model.database.schema(name)
    figures.tables = len(schema_model.tables)
    figures.columns = sum(len(t.columns) for t in schema_model.tables)
    validator = DocumentValidator(model.source(name), model.sources)
    documents, invalid = [], []
    for example in examples_of(schema):
        document = json.loads(example.read_text(encoding="utf-8"))
        if validator.violations(document):
            invalid.append(document)
            continue
        documents.append(document)
        stored = json_bytes(schema_model, document)
        figures.share += JsonShare(sum(stored.values()), len(exactjson.dumps(document).encode()))
        for column, size in stored.items():
            figures.where[column] = figures.where.get(column, 0) + size
    figures.documents, figures.invalid = len(documents), len(invalid)
    if documents or invalid:
        for dialect, url in urls.items():
            figures.outcomes[dialect] = round_trips(url, model, schemas_dir, name, documents, invalid)
    return figures


def round_trips(
    url: str, model: Model, schemas_dir: Path, name: str, documents: list[Any], invalid: list[Any]
) -> list[str]:
    """Create the schema's tables at `url`, store and read back each valid document, drop the tables. An invalid
    document must be refused with DocumentInvalid (its outcome is then not listed)."""
    metadata = build_metadata(model.database)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    metadata.create_all(engine)
    try:
        with Store(engine, name, schemas_dir=schemas_dir) as store:
            outcomes = [one_round_trip(store, document) for document in documents]
            for document in invalid:
                try:
                    store.create(document)
                    outcomes.append("an invalid example was accepted")
                except DocumentInvalid:
                    pass
            return outcomes
    finally:
        metadata.drop_all(engine)
        engine.dispose()


def one_round_trip(store: Store, document: Any) -> str:
    try:
        doc_id = store.create(document)
    except (SchemarelError, sa.exc.DBAPIError) as exc:  # a valid document refused: what the table reports
        return f"refused: {str(exc).splitlines()[0][:300]}"
    back = store.get(doc_id)
    store.delete(doc_id)
    return EXACT if instants(back) == instants(document) else "differs"  # date-times compared as instants


def instants(value: Any) -> Any:
    """`value` with every RFC 3339 date-time as a UTC instant (timestamp with time zone keeps no offset)."""
    if isinstance(value, dict):
        return {k: instants(v) for k, v in value.items()}
    if isinstance(value, list):
        return [instants(v) for v in value]
    if isinstance(value, str) and DATE_TIME.match(value):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00")).astimezone(
            dt.timezone.utc
        )
    return value


def _outcome(found: list[str]) -> str:
    if not found:
        return "-"
    exact = sum(o == EXACT for o in found)
    return f"{exact}/{len(found)}" + ("" if exact == len(found) else " !")


def _share(share: JsonShare) -> str:
    return f"{share.share:6.1%}" if share.document_bytes else "     -"


def table(rows: list[Figures], dialects: list[str]) -> str:
    """The figures as a fixed-width table, one line per schema and an overall line (the share over all valid
    documents' bytes pooled; the median over schemas with documents beside it)."""
    head = f"{'schema':<26} {'tables':>6} {'columns':>7} {'docs':>4} {'doc KB':>7} {'JSON':>6}  " + "  ".join(
        f"{d:>10}" for d in dialects
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        if r.error:
            lines.append(f"{r.name:<26} refused: {r.error[:100]}")
            continue
        lines.append(
            f"{r.name:<26} {r.tables:>6} {r.columns:>7} {r.documents:>4} {r.share.document_bytes / 1000:>7.1f} "
            f"{_share(r.share)}  " + "  ".join(f"{_outcome(r.outcomes.get(d, [])):>10}" for d in dialects)
        )
    measured = [r for r in rows if r.documents]
    total = sum((r.share for r in measured), JsonShare(0, 0))
    median = statistics.median(r.share.share for r in measured) if measured else 0.0
    outcomes = {d: [o for r in rows for o in r.outcomes.get(d, [])] for d in dialects}
    lines.append("-" * len(head))
    lines.append(
        f"{'overall':<26} {sum(r.tables for r in rows):>6} {sum(r.columns for r in rows):>7} "
        f"{sum(r.documents for r in rows):>4} {total.document_bytes / 1000:>7.1f} {_share(total)}  "
        + "  ".join(f"{_outcome(outcomes[d]):>10}" for d in dialects)
    )
    lines.append(f"JSON share: {total.share:.1%} of all valid example bytes; median per schema {median:.1%} "
                 f"({len(measured)} schemas with examples)")  # fmt: skip
    for r in sorted(measured, key=lambda r: -r.share.share):
        if r.where:
            biggest = sorted(r.where.items(), key=lambda kv: -kv[1])[:3]
            lines.append(f"  {r.name}: " + ", ".join(f"{column} {size:,} B" for column, size in biggest))
    return "\n".join(lines)
