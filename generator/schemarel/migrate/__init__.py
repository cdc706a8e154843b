"""Schema evolution: the IR diff, the destructive-change guard, Alembic operations and the migration doc.

May import: schemarel.runtime and everything below it; never render, project or cli.
"""
