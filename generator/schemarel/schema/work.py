"""The work budget of mapping one schema: a few kilobytes of `$ref`s and `allOf`s can expand into millions of
subschemas and columns; past these numbers the schema is refused, naming where, in seconds and bounded memory."""

from __future__ import annotations

from dataclasses import dataclass, field

from schemarel.errors import SchemaError

# The largest real schemas of the corpus spend a quarter of these at most (FHIR's Patient: 7,491 subschemas;
# package.json: 2,464 properties); past them, the work grows linearly up to the refusal, in seconds.
LIMITS = {
    "subschemas": 30_000,  # schema objects absorbed while following $ref, allOf and the branches of anyOf/oneOf
    "properties": 12_000,  # properties placed (as a column, a flattened object, a table or JSON), flattening included
}
_WHAT = {
    "subschemas": "subschemas through $ref, allOf, anyOf and oneOf",
    "properties": "properties (each place a $ref or a flattened object puts one counts)",
}


@dataclass
class Work:
    """Counts work done for one schema; `spend` refuses the schema past a limit."""

    spent: dict[str, int] = field(default_factory=dict)

    def spend(self, kind: str, file: str, ptr: str) -> None:
        count = self.spent.get(kind, 0) + 1
        self.spent[kind] = count
        if count > LIMITS[kind]:
            raise SchemaError(
                file,
                ptr,
                f"the schema expands to more than {LIMITS[kind]:,} {_WHAT[kind]}; this is where the limit was "
                "reached: simplify the schema, or store a subtree in one JSON column with "
                '"x-sql": {"storage": "json"}',
            )
