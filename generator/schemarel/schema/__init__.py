"""Reading schema files: JSON parsing with located errors, metaschema and `x-sql` validation, `$ref` resolution,
and where `default`s are filled in.

May import: schemarel.sql, and the core modules (errors, ir, naming, text, support).
"""
