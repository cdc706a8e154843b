"""The `schemarel` command line: options, exit codes, reports for humans and machines, `inspect` and `--watch`.

May import: everything; nothing imports it.
"""
