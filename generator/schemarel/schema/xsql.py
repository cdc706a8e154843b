"""The `x-sql` annotation: its own JSON Schema, and the typed view of one annotation."""

from __future__ import annotations

from typing import Any

from schemarel.sql.types import SQL_TYPE_PATTERN

XSQL_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "x-sql",
    "description": "schemarel hints on the schema node they annotate.",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "table": {
            "type": "string",
            "pattern": "^[a-z_][a-z0-9_]*$",
            "description": "Table name for a root schema, optional object or array.",
        },
        "column": {
            "type": "string",
            "pattern": "^[a-z_][a-z0-9_]*$",
            "description": "Column name for a scalar property.",
        },
        "type": {
            "type": "string",
            "pattern": SQL_TYPE_PATTERN,
            "description": "The column's SQL type, instead of the one derived from type and format: uuid, text, "
            "varchar(n), boolean, smallint, integer, bigint, float, numeric(p,s), date, datetime, time or json.",
        },
        "primaryKey": {
            "description": "On a root schema: `uuid` (default), `identity` (a bigint sequence), or "
            '{"property": "<name>"}: a required scalar property of the document is the key.',
            "oneOf": [
                {"enum": ["uuid", "identity"]},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["property"],
                    "properties": {"property": {"type": "string"}},
                },
            ],
        },
        "storage": {
            "enum": ["table", "flatten", "json"],
            "description": "Where an object or array goes: its own table, the parent's columns, or one JSON column.",
        },
        "unique": {"type": "boolean", "description": "A unique constraint on this column."},
        "index": {"type": "boolean", "description": "An index on this column."},
        "references": {
            "type": "object",
            "description": "A foreign key to a table schemarel does not own (created and dropped elsewhere).",
            "additionalProperties": False,
            "required": ["table"],
            "properties": {
                "table": {"type": "string", "pattern": "^[a-z_][a-z0-9_]*$"},
                "column": {"type": "string", "pattern": "^[a-z_][a-z0-9_]*$", "default": "id"},
                "onDelete": {"enum": ["CASCADE", "RESTRICT", "SET NULL", "NO ACTION"], "default": "CASCADE"},
            },
        },
        "timestamps": {
            "type": "boolean",
            "description": "On a root schema: `created_at` and `updated_at` columns the database and runtime keep.",
        },
        "renamedFrom": {
            "type": "string",
            "minLength": 1,
            "description": "The previous property name (on a property) or title (on a root schema): the next "
            "revision renames the column or table, keeping its data, instead of dropping and adding it.",
        },
        "renamedValues": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "On a string enum: new value → previous value; stored rows are renamed with it.",
        },
    },
}
