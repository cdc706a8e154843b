"""Normalization: a loaded JSON Schema becomes the relational IR (tables, columns, keys, enums, warnings).

May import: schemarel.schema, schemarel.sql and the core modules.
"""
