"""What a migration doc says about a revision's changes: one line per change, what to watch for, what reverting does."""

from __future__ import annotations

from collections.abc import Sequence

from schemarel.migrate.diff import Change
from schemarel.text import md_code


def change_lines(changes: Sequence[Change]) -> list[str]:
    """Markdown lines grouped as the doc lists them: added, altered, renamed, moved, dropped."""
    order = ("add", "alter", "rename", "move", "drop")
    lines = []
    for action in order:
        for c in changes:
            if c.action == action:
                lines.append(_line(c) + (f" **Destructive**: {c.destructive}." if c.destructive else ""))
    return lines


def _line(c: Change) -> str:
    name = md_code(c.name)
    if c.action == "rename" and c.what == "column":
        table = c.name.rsplit(".", 1)[0]
        return f"Renamed column {md_code(f'{table}.{c.before}')} → {md_code(c.name)}."
    if c.action == "rename":
        where = f" of {name}" if c.what not in ("table", "enum type", "schema") else ""
        return f"Renamed {c.what}{where}: {md_code(c.before)} → {md_code(c.after)}."
    if c.action == "move":
        return f"Moved column {md_code(c.before)} → {md_code(c.after)}; its values are copied."
    if (c.action, c.what) == ("alter", "primary key"):
        return (
            f"Switched the primary key of {name}: {md_code(c.before)} → {md_code(c.after)}; every row keeps its "
            "data and the tables referring to it follow the new key (the upgrade refuses NULL or repeated values)."
        )
    if (c.action, c.what) == ("alter", "collation"):
        return f"On MariaDB/MySQL, {name} now compares by {md_code(c.after)} (it compared by {c.before})."
    if c.action == "alter":
        return f"Altered {c.what} of {name}: {_value(c.before)} → {_value(c.after)}."
    verb = {"add": "Added", "drop": "Dropped"}[c.action]
    if c.what == "enum value":
        return f"{verb} value {md_code(c.after or c.before)} {'to' if c.action == 'add' else 'from'} {name}."
    detail = c.after or c.before
    if c.what in ("table", "column"):
        return f"{verb} {c.what} {name}" + (f" ({detail})." if detail else ".")
    return f"{verb} {c.what} on {name}: {md_code(detail)}."


def _value(text: str) -> str:
    if not text:
        return "none"
    return text if text.startswith("`") or text == "—" else md_code(text)


def watch_lines(changes: Sequence[Change]) -> list[str]:
    """Operational risks of the upgrade, each once."""
    kinds = {(c.action, c.what) for c in changes}
    notes = []
    if ("alter", "type") in kinds:
        notes.append(
            "**Type changes rewrite the table**: PostgreSQL holds an ACCESS EXCLUSIVE lock while it casts every "
            "row, and SQLite rebuilds the table; plan a window for large tables. Values the new type would not "
            "keep as written (too long, out of range, not convertible) make it refuse before changing anything."
        )
    if ("alter", "collation") in kinds:
        notes.append(
            "**MariaDB and MySQL rebuild each table whose columns change collation** (a copy of the table); "
            "the foreign keys between such columns are dropped until both ends have the new one (MariaDB "
            "refuses the change otherwise). PostgreSQL and SQLite are left as they are: they compare strings "
            "exactly already."
        )
    if ("add", "enum value") in kinds:
        notes.append(
            "**`ALTER TYPE … ADD VALUE` runs outside the migration's transaction** (an autocommit block), because "
            "a value added inside a transaction cannot be used before it commits; if a later step fails, the "
            "value stays, and rerunning is safe (`IF NOT EXISTS`)."
        )
    if ("drop", "enum value") in kinds or ("rename", "enum value") in kinds:
        notes.append(
            "**The enum type is rebuilt**: PostgreSQL creates the new type and casts every row "
            "(`USING col::text::new_type`, renamed values mapped) under an exclusive lock; rows holding a removed "
            "value make the upgrade fail, so update them first."
        )
    if ("alter", "nullability") in kinds:
        notes.append(
            "**NOT NULL scans the table**: NULLs are first set to the column's default; without one, rows "
            "holding NULL make the upgrade fail."
        )
    if ("add", "check constraint") in kinds:
        notes.append(
            "**New CHECK constraints scan the table**; stored values one refuses make the upgrade refuse before "
            "it changes anything, naming the column and the values."
        )
    if {("add", "unique constraint"), ("add", "index")} & kinds:
        notes.append(
            "**New indexes and unique constraints block writes while they build**; rows repeating a value make "
            "the upgrade refuse a unique constraint before it changes anything, naming the values. For very "
            "large tables, create the index concurrently by hand first."
        )
    renamed = [c for c in changes if (c.action, c.what) == ("rename", "schema")]
    if renamed:
        names = ", ".join(f"{md_code(c.before)} → {md_code(c.after)}" for c in renamed)
        notes.append(
            f"**A schema file was renamed** ({names}): no table changes, but `Store` and the data commands "
            "(`--schema`) now name its documents by the new file stem: deploy the application together with it."
        )
    if any(c.action == "rename" and c.what == "property" for c in changes):
        notes.append(
            "**A renamed property keeps its column**, and what its rows keep under its JSON pointer (a `null`, an "
            "empty array, a value's spelling) moves to the new name: one UPDATE per bookkeeping column."
        )
    if any(c.action == "rename" and c.what not in ("schema", "property") for c in changes):
        notes.append(
            "**Renames are quick metadata changes on PostgreSQL** (SQLite rebuilds the table), but code using the "
            "old names breaks: deploy the application together with the upgrade."
        )
    if any(c.action == "move" for c in changes):
        notes.append(
            "**Values are copied between tables** within the migration; reverting copies them back, and an "
            "object whose fields were all empty comes back absent."
        )
    return notes


def revert_lines(changes: Sequence[Change]) -> list[str]:
    """What a downgrade loses or may fail on, from the reverse of each change (the guard's objects)."""
    undone = [c.reverse() for c in changes]
    lost = [md_code(r.name) for r in undone if r.action == "drop" and r.what in ("table", "column")]
    recreated = [md_code(r.name) for r in undone if r.action == "add" and r.what in ("table", "column")]
    values = [
        f"{md_code(r.before)} of {md_code(r.name)}" for r in undone if (r.action, r.what) == ("drop", "enum value")
    ]
    lines = []
    if lost:
        lines.append(f"Reverting drops {', '.join(lost)}: the values stored there since the upgrade are lost.")
    if recreated:
        lines.append(
            f"Reverting recreates {', '.join(recreated)} without their data: what the upgrade dropped is gone."
        )
    if values:
        lines.append(f"Reverting removes the enum values {', '.join(values)}: rows holding them make it fail.")
    unique = [md_code(r.after) for r in undone if (r.action, r.what) == ("add", "unique constraint") and r.check]
    if unique:
        lines.append(
            f"Reverting adds {', '.join(unique)} back: rows repeating a value since the upgrade make it refuse."
        )
    folded = [md_code(r.name) for r in undone if r.what == "collation" and r.check]
    if folded:
        lines.append(
            f"Reverting gives the keys {', '.join(folded)} the server's collation back on MariaDB/MySQL: rows "
            "whose values differ only in case, accents or trailing spaces make it refuse before changing anything."
        )
    reported = ("type", "nullability", "primary key")
    lines += [f"Reverting {r.destructive}." for r in undone if r.destructive and r.what in reported]
    return lines or ["Reverting undoes every change above and keeps the data."]
