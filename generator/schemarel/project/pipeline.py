"""The generation pipeline: schemas → IR → every file of `generated/`, with the revision history carried over."""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schemarel import naming
from schemarel.errors import SchemaError, SchemarelError
from schemarel.ir import Database, SchemaModel, database_from_snapshot, snapshot
from schemarel.migrate import doc as migration_doc
from schemarel.migrate.first import plan as first_plan
from schemarel.migrate.guard import refuse_destructive
from schemarel.migrate.match import kept_name_renames
from schemarel.normalize.normalizer import normalize
from schemarel.project.history import (
    MIGRATION_DOCS,
    SUM_FILE,
    VERSIONS,
    DiskSource,
    History,
    Revision,
    encode_snapshot,
    read_history,
    render_sum,
)
from schemarel.render import beside, docpages, views
from schemarel.render.documents import documents_view
from schemarel.render.jinja import environment, render
from schemarel.schema.loader import SourceSchema, load_schemas
from schemarel.urls import DEFAULT_URL

if TYPE_CHECKING:
    from jinja2 import Environment


@dataclass(frozen=True)
class Settings:
    schemas_dir: Path
    out_dir: Path
    templates_dir: Path | None = None
    message: str | None = None
    allow_destructive: bool = False
    rehash: bool = False  # record the history's files as they are (after a deliberate edit), like `atlas migrate hash`
    strict: bool = False  # refuse same-table column name collisions instead of renaming the later property


@dataclass
class Generation:
    """Everything `generated/` should hold, and what changed in the relational model."""

    database: Database
    history: History
    files: dict[str, bytes] = field(default_factory=dict)
    new_revision: Revision | None = None
    pending_change: bool = False  # the model changed but no revision was written (check mode)

    @property
    def recorded_database(self) -> dict[str, Any] | None:
        """The model the last generated revision leads to (None before the first)."""
        last = self.history.last_generated
        return last.database if last else None


def build(settings: Settings, write_revision: bool = True, history: History | None = None) -> Generation:
    """Render the whole output tree in memory; nothing is written here.

    `history` is the chain the output continues (default: the one in `out_dir`; `--rebase` gives the other
    branch's); its files are carried over as they are, every hand-written revision included.
    """
    sources = load_schemas(settings.schemas_dir)
    root = settings.out_dir.resolve().parent
    models = []
    for source in sources:
        model = normalize(source, settings.strict)
        models.append(_with_doc_path(model, _rel(source.path, root)))
    db = Database(tuple(models))
    files_of = {s.name: s.display_path for s in sources}
    _refuse_cross_schema_collisions(db, files_of)
    names = views.python_names(db, files_of)
    db = Database(
        tuple(replace(m, warnings=m.warnings + views.name_warnings(m, names, files_of[m.name])) for m in db.schemas)
    )

    if history is None:
        history = read_history(DiskSource(settings.out_dir), verify=not settings.rehash)
    gen = Generation(database=db, history=history, files=history.files())
    files = gen.files
    recorded = set(files)  # revisions are history: what this run renders is checked below
    env = environment(settings.templates_dir)
    out_name = _rel(settings.out_dir, root)
    schema_dir = _rel(settings.schemas_dir, root)
    origins = {f"models/{names.modules[m.name]}.py": files_of[m.name] for m in db.schemas}
    own_models = settings.templates_dir is not None and (settings.templates_dir / "models.py.j2").is_file()
    # the modules no revision decides are rendered, laid out and checked beside the migration and the docs
    # (in a forked child on Linux): of a big schema's generate, they are the larger half
    modules = beside.start(
        lambda: _modules(env, db, names, sources, out_name, schema_dir), settings.out_dir, origins, schema_dir,
        not own_models,
    )  # fmt: skip
    try:
        current = snapshot(db)  # once: a big schema's snapshot costs as much as its normalization
        if gen.recorded_database != current or _renames_only(db, history):
            if write_revision:
                gen.new_revision = _new_revision(settings, db, current, history, files)
                history.revisions.append(gen.new_revision)
            else:
                gen.pending_change = True
        revisions = history.revisions
        new_python = {path: files[path] for path in files if path.endswith(".py") and path not in recorded}
        # the new revision's module: laid out by ruff beside the docs, checked in this process after them
        revision_module = beside.start(
            lambda: new_python, settings.out_dir, origins, schema_dir, not own_models, fork=False
        )
        files["alembic.ini"] = _render(env, "alembic.ini.j2", out_dir=out_name)
        files["migrations/script.py.mako"] = _render(env, "script.py.mako.j2", out_dir=out_name)
        for source in sources:  # what the runtime normalizes and validates against (runtime/source.py)
            files[f"schemas/{source.path.name}"] = source.path.read_bytes()
        _render_docs(env, settings, db, sources, revisions, files, out_name, schema_dir)
    except BaseException:
        modules.cancel()
        raise
    files.update(beside.finish(revision_module, modules))
    files[SUM_FILE] = render_sum(revisions, files)
    return gen


def _modules(
    env: Environment, db: Database, names: views.PythonNames, sources: list[SourceSchema], out_name: str,
    schema_dir: str,
) -> dict[str, bytes]:  # fmt: skip
    """The Python modules of `generated/` that no revision decides: the package, the Alembic environment, the
    models and the typed documents."""
    files = {
        "__init__.py": _render(env, "package_init.py.j2", schema_dir=schema_dir),
        "migrations/env.py": _render(
            env, "env.py.j2", default_url=DEFAULT_URL, naming_convention=sorted(naming.NAMING_CONVENTION.items())
        ),
        "models/base.py": _render(
            env,
            "models_base.py.j2",
            naming_convention=sorted(naming.NAMING_CONVENTION.items()),
            external_tables=views.external_table_views(db),
        ),
    }
    modules = []
    for model in db.schemas:
        module = names.modules[model.name]
        classes = views.model_classes(model, db, names)
        modules.append({"name": module, "classes": [c.class_name for c in classes]})
        files[f"models/{module}.py"] = _render(env, "models.py.j2", **_model_context(model, classes))
    files["models/__init__.py"] = _render(
        env,
        "models_init.py.j2",
        schema_dir=schema_dir,
        modules=modules,
        all_names=sorted(c for m in modules for c in m["classes"]),
    )
    for source in sources:
        view = documents_view(db.schema(source.name), source.contents)
        files[f"documents/{naming.documents_module(source.name)}.py"] = _render(env, "documents.py.j2", view=view)
    files["documents/__init__.py"] = _render(env, "documents_init.py.j2", schema_dir=schema_dir)
    return files


def _render_docs(
    env: Environment,
    settings: Settings,
    db: Database,
    sources: list[SourceSchema],
    revisions: list[Revision],
    files: dict[str, bytes],
    out_name: str,
    schema_dir: str,
) -> None:
    files[SUM_FILE] = b""  # its place among the files; summed once the new revision is laid out
    for model in db.schemas:
        head = _last_revision_of(revisions, model.name)
        files[f"docs/{model.name}.md"] = _render(
            env,
            "schema_doc.md.j2",
            schema=model,
            source_link=posixpath.relpath(model.path, posixpath.join(out_name, "docs")),
            tables=views.table_docs(model, db),
            enums=views.enum_lines(model),
            head=head.id if head else "none",
            head_doc=posixpath.relpath(head.doc, "docs") if head else "",
            **docpages.schema_page(next(s for s in sources if s.name == model.name), model, db),
        )
    files["docs/index.md"] = _render(
        env,
        "docs_index.md.j2",
        schema_dir=schema_dir,
        schemas=[
            {"title": m.title, "path": m.path, "doc": f"{m.name}.md", "tables": [t.name for t in m.tables]}
            for m in db.schemas
        ],
        revisions=[
            {
                "id": r.id,
                "message": r.message,
                "doc": posixpath.relpath(r.doc, "docs") if r.generated else "",
                "script": r.script,
            }
            for r in revisions
        ],
        **docpages.database_page(db),
    )


def _new_revision(
    settings: Settings, db: Database, current: dict[str, Any], history: History, files: dict[str, bytes]
) -> Revision:
    previous = history.last_generated
    old_db = database_from_snapshot(previous.database) if previous and previous.database else None
    new_pointers = pointers(db)
    # a first revision is written from the IR; Alembic renders the others (imported only then)
    p = first_plan(db, new_pointers) if old_db is None else None
    if p is None:
        from schemarel.migrate.plan import plan

        p = plan(old_db, db, previous.pointers if previous else {}, new_pointers)
    if previous is not None:
        refuse_destructive(p.changes, settings.allow_destructive)
    rev_id = history.next_id()
    message = settings.message or ("initial schema: " + p.summary if previous is None else p.summary)
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:48].rstrip("_") or "revision"
    py_path = f"{VERSIONS}/{rev_id}_{slug}.py"
    rev = Revision(rev_id, history.head, message, py_path, slug, current, new_pointers)
    env = environment(settings.templates_dir)
    date = _today()
    root = settings.out_dir.resolve().parent
    changed = _changed_schemas(old_db, db)
    doc_path = rev.doc
    files[rev.snapshot] = encode_snapshot(rev, previous)
    files[py_path] = _render(
        env,
        "revision.py.j2",
        message=message,
        revision=rev.id,
        down_revision=rev.down_revision,
        date=date,
        sources=[m.path for m in changed],
        imports=p.imports,
        needs_pgcrypto=p.uses_uuid_default,
        external_tables=p.external_tables,
        created_enums=p.created_enums,
        upgrade=p.upgrade,
        downgrade=p.downgrade,
    )
    commit, dirty = _git_baseline([root / m.path for m in changed])
    # the doc shows what changed: every table of a first revision, later only the tables a revision creates
    tables = [t for m in changed for t in views.table_docs(m, db) if previous is None or t.name in p.created_tables]
    enums = [e for m in changed for e in m.enums if previous is None or e.name in p.created_enums]
    files[doc_path] = _render(
        env,
        "migration_doc.md.j2",
        title=", ".join(m.title for m in changed) or "Schema",
        revision=rev.id,
        down_revision=rev.down_revision,
        message=message,
        sources=[
            {
                "path": m.path,
                "link": posixpath.relpath(m.path, posixpath.join(_rel(settings.out_dir, root), MIGRATION_DOCS)),
            }
            for m in changed
        ],
        commit=commit,
        dirty=dirty,
        tables=tables,
        enums=list(views.enum_type_lines(enums)),
        out_dir=_rel(settings.out_dir, root),
        needs_pgcrypto=p.uses_uuid_default,
        created_tables=[f"`{t}`" for t in p.created_tables],
        dropped_tables=[f"`{t}`" for t in p.dropped_tables],
        changes=migration_doc.change_lines(p.changes) if previous else [],
        watch=migration_doc.watch_lines(p.changes) if previous else [],
        revert=migration_doc.revert_lines(p.changes) if previous else [],
        date=date,
        change=(
            f"Initial migration generated from {', '.join(f'`{m.title}`' for m in changed)} schema."
            if previous is None
            else f"{message[:1].upper()}{message[1:]}."
        ),
    )
    return rev


def _renames_only(db: Database, history: History) -> bool:
    """Whether the schemas rename a property whose column or table keeps its name (`x-sql.column`): the
    relational model is the same, but the rows' marks and spellings move (`migrate.match.kept_name_moves`)."""
    previous = history.last_generated
    if previous is None or previous.database is None:
        return False
    return kept_name_renames(database_from_snapshot(previous.database), db, previous.pointers, pointers(db))


def pointers(db: Database) -> dict[str, str]:
    """Where each table and column comes from (`file#pointer`), recorded with a revision's snapshot."""
    result = {}
    for model in db.schemas:
        for table in model.tables:
            result[table.name] = f"{model.path}{table.pointer}"
            for col in table.columns:
                result[f"{table.name}.{col.name}"] = f"{model.path}{col.pointer or table.pointer}"
    return result


def _last_revision_of(history: list[Revision], schema: str) -> Revision | None:
    """The newest revision that changed the tables of `schema`."""
    last, before = None, None
    for rev in history:
        if rev.database is None:
            continue
        now = next((s for s in rev.database["schemas"] if s["name"] == schema), None)
        if now != before:
            last = rev
        before = now
    return last


def _changed_schemas(old: Database | None, new: Database) -> list[SchemaModel]:
    if old is None:
        return list(new.schemas)
    before = {s.name: snapshot(s) for s in old.schemas}
    return [s for s in new.schemas if before.get(s.name) != snapshot(s)]


def _model_context(model: SchemaModel, classes: tuple[views.ClassView, ...]) -> dict[str, Any]:
    text = "\n".join(a.annotation + a.call for c in classes for a in c.columns)
    stdlib = []
    for module in ("datetime", "decimal", "uuid"):
        if f"{module}." in text:
            stdlib.append(f"import {module}")
    typing_names = [name for name in ("Any", "Literal") if f"{name}[" in text or f"[{name}" in text]
    if typing_names:
        stdlib.insert(0, f"from typing import {', '.join(typing_names)}")
    return {
        "schema": model,
        "classes": classes,
        "stdlib_imports": stdlib,
        "uses_relationship": any(c.relationships for c in classes),
        "uses_postgresql": "postgresql." in text,
        "uses_mysql": "mysql." in text,
        "sqlfuncs": [name for name in ("boolean_default", "uuid_default") if f"{name}(" in text],
    }


def _refuse_cross_schema_collisions(db: Database, files: Mapping[str, str]) -> None:
    owners: dict[str, str] = {}
    for model in db.schemas:
        for name in [t.name for t in model.tables] + [e.name for e in model.enums]:
            if name in owners and owners[name] != model.name:
                raise SchemaError(
                    files[model.name],
                    "#",
                    f"{name!r} is also produced by {files[owners[name]]}; "
                    'set "x-sql": {"table": "<another name>"} on one of them',
                )
            owners[name] = model.name


def _with_doc_path(model: SchemaModel, path: str) -> SchemaModel:
    return replace(model, path=path)


def _render(env: Environment, template: str, **context: Any) -> bytes:
    return render(env, template, **context).encode("utf-8")


def _rel(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path.resolve(), root)).as_posix()


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _today() -> str:
    """Today's date (UTC), or the reproducible-builds SOURCE_DATE_EPOCH when it is set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return dt.datetime.now(dt.timezone.utc).date().isoformat()
    try:  # the spec: a decimal count of seconds since 1970; a revision carries a date of years 1 to 9999
        if not re.fullmatch(r"-?[0-9]{1,12}", epoch):
            raise ValueError(epoch)
        return (_EPOCH + dt.timedelta(seconds=int(epoch))).date().isoformat()
    except (ValueError, OverflowError):
        message = f"SOURCE_DATE_EPOCH={epoch[:40]!r} is not a number of seconds since 1970 within years 1-9999"
        raise SchemarelError(message) from None


def _git_baseline(paths: list[Path]) -> tuple[str | None, bool]:
    """The last commit that touched the schemas, and whether they have uncommitted changes on top."""
    if not paths:
        return None, False
    cwd = paths[0].resolve().parent
    names = [str(p.resolve()) for p in paths]
    try:
        log = subprocess.run(
            ["git", "log", "-1", "--format=%H", "--", *names], cwd=cwd, capture_output=True, text=True, check=False
        )
        if log.returncode != 0 or not log.stdout.strip():
            return None, False
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", *names], cwd=cwd, capture_output=True, text=True, check=False
        )
    except OSError:
        return None, False
    return log.stdout.strip(), bool(status.stdout.strip())
