"""Output: the Jinja environment, template contexts, ER diagrams, example documents, the docs site, atomic writes.

May import: schemarel.runtime and everything below it; never migrate, project or cli.
"""
