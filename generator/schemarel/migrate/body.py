"""A revision's upgrade or downgrade body as Python: Alembic renders the ops (`planned.guarded` puts
`protect_data` first).

Alembic spells its own ops; the render hook spells what it cannot spell portably (our uuid and boolean
defaults, JSON/JSONB, CHECK rules), and every `schemarel.support` name the body calls is imported.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import render as alembic_render
from alembic.autogenerate import render_python_code
from alembic.operations import ops

from schemarel.migrate.planned import finish
from schemarel.sql.checks import constraint_source
from schemarel.support import boolean_default, uuid_default

_ALEMBIC_MARKERS = re.compile(r"^\s*# ### .* ###\n?", re.MULTILINE)


def _render_item(imports: set[str]) -> Any:
    """Alembic render hook for what it cannot spell portably: our uuid default, JSON/JSONB, booleans."""

    def render(type_: str, obj: Any, autogen_context: Any) -> str | bool:
        if type_ == "server_default" and isinstance(obj, sa.DefaultClause):
            if isinstance(obj.arg, uuid_default):
                imports.add("from schemarel.support import uuid_default")
                return "uuid_default()"
            if isinstance(obj.arg, sa.sql.elements.BindParameter):
                return f"sa.literal({obj.arg.value!r}, sa.Text())"
            if isinstance(obj.arg, boolean_default):
                imports.add("from schemarel.support import boolean_default")
                return f"boolean_default({obj.arg.value})"
            if isinstance(obj.arg, sa.sql.elements.True_ | sa.sql.elements.False_):
                return "sa.true()" if isinstance(obj.arg, sa.sql.elements.True_) else "sa.false()"
            if isinstance(obj.arg, sa.sql.functions.now):
                return "sa.func.now()"
        if type_ == "check" and "schemarel_check" in obj.info:
            return constraint_source(obj.info["schemarel_check"], f"op.f({obj.name!r})")
        if type_ == "type" and isinstance(obj, sa.JSON):
            imports.add("from sqlalchemy.dialects import postgresql")
            return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
        return False

    return render


# Alembic spells a table of more than 255 columns and constraints as `*[...]` (Python 3.6's limit on a call's
# arguments), which mypy reads as `*list[object]` and refuses; Python 3.7 and later have no such limit.
alembic_render.MAX_PYTHON_ARGS = sys.maxsize


def render(operations: list[ops.MigrateOperation], imports: set[str]) -> str:
    if not operations:
        return "    pass\n"
    code = render_python_code(ops.UpgradeOps(ops=operations), render_item=_render_item(imports), render_as_batch=True)
    return finish(_ALEMBIC_MARKERS.sub("", code), imports)
