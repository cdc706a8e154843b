"""Schema evolution: from two relational models to the ops, guards and doc of one revision.

`match` pairs the tables, columns and constraints of two models; `diff` turns them into Changes that carry
their own description, destructiveness and data checks, each way (`Change.reverse()`); `phases` builds the
upgrade's ops (each paired with its reverse) with `ops`, Alembic ops of our own, and `carry` puts the
Changes on them; `body` renders them as a revision's Python; `guard` reads the Changes for consent at
generate time and for `protect_data` at run time; `doc` writes the migration doc from the same Changes;
`plan` puts one revision together as a `planned.Plan`; `first` writes the Plan of a first revision (tables
created from nothing) straight from the IR, as Alembic would, without importing it. The code revisions run
lives in schemarel.support.

May import: schemarel.runtime and everything below it; never render, project or cli.
"""
