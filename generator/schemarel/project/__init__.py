"""A project on disk: its `[tool.schemarel]` settings and the pipeline from `schemas/` to every file of `generated/`.

May import: every stage below it (render, migrate, runtime, normalize, schema, sql); never cli.
"""
