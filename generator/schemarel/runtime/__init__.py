"""The runtime: store, read and validate documents in their tables; bulk writers, backfill, NDJSON, database errors.

May import: schemarel.normalize and everything below it; never render, migrate, project or cli.
"""
