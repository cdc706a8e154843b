"""The `schemarel` command line: `main` (the group), one module per command, shared options, reports, `--watch`.

May import: everything; nothing imports it.
"""
