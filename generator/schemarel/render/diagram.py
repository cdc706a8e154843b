"""Entity-relationship diagrams: which entities, keys and cardinalities a Mermaid `erDiagram` shows.

Cardinalities come from the constraints, not from how a table was derived: a foreign key whose columns are
unique (the primary key or a unique constraint) is 1:1, any other is 1:N; it is identifying (a solid line)
when its columns are part of the primary key, non-identifying (dashed) otherwise; the referenced side is
"exactly one" for a NOT NULL key and "zero or one" for a nullable one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from schemarel.ir import Database, EnumType, ForeignKey, Table
from schemarel.sql.spelling import display_type

# Mermaid's attribute types are single words (letters, digits, `_`, `-`, `()` and `[]`): PostgreSQL's
# one-word aliases for its multi-word types, and `_` for whatever else would split a type.
_NOT_IN_TYPE = re.compile(r"[^A-Za-z0-9_()\[\]-]+")
_ONE_WORD = {
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "time with time zone": "timetz",
    "time without time zone": "time",
    "double precision": "float8",
    "character varying": "varchar",
}


@dataclass(frozen=True)
class Attribute:
    type: str  # one Mermaid word already (`_type`)
    name: str
    keys: str  # "PK", "FK", "UK" joined by ", ", or ""
    comment: str


@dataclass(frozen=True)
class Entity:
    name: str
    attributes: tuple[Attribute, ...]


@dataclass(frozen=True)
class Relationship:
    referenced: str
    token: str  # Mermaid cardinality and identification, such as `||--o{`
    referencing: str
    label: str  # schema text (a property name): the template quotes it with `mermaid_label`


# each end of a line: what it means, and how Mermaid draws it
_ENDS = {"||": ("exactly one", "two bars"), "|o": ("zero or one", "a bar and a circle"),
         "o|": ("zero or one", "a circle and a bar"), "o{": ("zero or more", "a circle and a crow's foot")}  # fmt: skip
_SOLID = "a solid line is identifying (the foreign key is part of the primary key)"
_DASHED = "a dashed line is not identifying (the foreign key is not part of the primary key)"


@dataclass(frozen=True)
class ERDiagram:
    entities: tuple[Entity, ...]
    relationships: tuple[Relationship, ...]

    @property
    def legend(self) -> str:
        """What the lines and cardinalities this diagram shows mean (only those it shows)."""
        tokens = sorted({r.token for r in self.relationships})
        if not tokens:
            return ""
        solid, dashed = any(t[2:4] == "--" for t in tokens), any(t[2:4] == ".." for t in tokens)
        lines = [f"{_SOLID}; a dashed one is not"] if solid and dashed else [_SOLID] if solid else [_DASHED]
        reads = [
            f"{_ENDS[t[:2]][1]} to {_ENDS[t[4:]][1]} (`{t}`): {_ENDS[t[:2]][0]} to {_ENDS[t[4:]][0]}"
            f" ({'1:1' if t[4:] == 'o|' else '1:N'})"
            for t in tokens
        ]
        text = "; ".join(lines)
        return f"{text[0].upper()}{text[1:]}. Ends drawn as {'; '.join(reads)}."


def er_diagram(db: Database, tables: Iterable[Table] | None = None) -> ERDiagram:
    """The diagram of `tables` (default: the whole database); tables they reference appear as key-only stubs."""
    shown = tuple(tables if tables is not None else db.tables)
    enums = {e.name: e for e in db.enums}
    names = {t.name for t in shown}
    entities = [_entity(t, enums) for t in shown]
    relationships = []
    stubs: dict[str, dict[str, str]] = {}  # table → key column → type, for referenced tables not shown
    owned = {t.name: t for t in db.tables}
    for table in shown:
        for fk in table.foreign_keys:
            relationships.append(_relationship(table, fk))
            if fk.ref_table in names:
                continue
            for ref_col, col in zip(fk.ref_columns, fk.columns, strict=True):
                # an external table's key has the type of the column pointing at it
                key = owned[fk.ref_table].column(ref_col) if fk.ref_table in owned else table.column(col)
                stubs.setdefault(fk.ref_table, {})[ref_col] = _type(display_type(key, enums))
    for name in sorted(stubs):
        where = "defined in another schema" if name in owned else "owned by another system"
        attrs = tuple(Attribute(t, c, "PK", where) for c, t in sorted(stubs[name].items()))
        entities.append(Entity(name, attrs))
    return ERDiagram(tuple(entities), tuple(relationships))


def _entity(table: Table, enums: Mapping[str, EnumType]) -> Entity:
    fk_cols = {c for fk in table.foreign_keys for c in fk.columns}
    unique_cols = {u.columns[0] for u in table.uniques if len(u.columns) == 1}
    attrs = []
    for col in table.columns:
        keys = [
            key
            for key, member in (
                ("PK", col.name in table.primary_key.columns),
                ("FK", col.name in fk_cols),
                ("UK", col.name in unique_cols),
            )
            if member
        ]
        attrs.append(Attribute(_type(display_type(col, enums)), col.name, ", ".join(keys), ""))
    return Entity(table.name, tuple(attrs))


def _relationship(table: Table, fk: ForeignKey) -> Relationship:
    nullable = any(table.column(c).nullable for c in fk.columns)
    unique = set(fk.columns) == set(table.primary_key.columns) or any(
        set(fk.columns) == set(u.columns) for u in table.uniques
    )
    identifying = set(fk.columns) <= set(table.primary_key.columns)
    token = ("|o" if nullable else "||") + ("--" if identifying else "..") + ("o|" if unique else "o{")
    label = table.json_property if fk.ref_table == table.parent and table.json_property else ", ".join(fk.columns)
    return Relationship(fk.ref_table, token, table.name, label)


def _type(name: str) -> str:
    return _NOT_IN_TYPE.sub("_", _ONE_WORD.get(name, name)).strip("_") or "value"
