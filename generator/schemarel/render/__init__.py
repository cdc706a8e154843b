"""Output: Jinja, template contexts, ER diagrams, example documents and rows, the docs site, ruff layout, atomic writes.

May import: schemarel.runtime and everything below it; never migrate, project or cli.
"""
