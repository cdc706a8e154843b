"""A change's reverse is what the opposite diff finds: the guard, the doc's revert section and downgrades agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projects import model
from schemarel.ir import Database, database_from_snapshot, snapshot
from schemarel.migrate import doc
from schemarel.migrate.diff import Change, diff
from schemarel.migrate.guard import data_checks, downgrade_changes, downgrade_risks

NAMES = ("alpha", "beta", "gamma", "delta")
KINDS: list[dict[str, Any]] = [
    {"type": "string"},
    {"type": "string", "maxLength": 10},
    {"type": "string", "maxLength": 40},
    {"type": "integer", "minimum": 0, "maximum": 100},
    {"type": "integer"},
    {"type": "boolean"},
    {"type": "array", "items": {"type": "string"}},
    {"type": "object", "properties": {"x": {"type": "string"}}},
    {"type": "string", "maxLength": 40, "x-sql": {"unique": True}},
    {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
]


@st.composite
def schemas(draw: st.DrawFn) -> dict[str, Any]:
    """A small root schema over a shared pool of property names: two draws differ like two versions do."""
    properties: dict[str, Any] = {"id": {"type": "string"}}
    required = ["id"]
    for name in draw(st.lists(st.sampled_from(NAMES), unique=True)):
        drawn = draw(st.sampled_from([*KINDS, "enum"]))
        kind = (
            drawn
            if isinstance(drawn, dict)  # else "enum"
            else {"type": "string", "enum": draw(st.lists(st.sampled_from("abcde"), min_size=1, unique=True))}
        )
        properties[name] = dict(kind)
        if kind.get("type") not in ("array", "object") and draw(st.booleans()):
            required.append(name)
            if draw(st.booleans()):
                properties[name]["default"] = kind.get("enum", ["d"])[0] if "enum" in kind else _default(kind)
    return {"title": "Thing", "type": "object", "properties": properties, "required": required}


def _default(kind: dict[str, Any]) -> Any:
    return {"string": "d", "integer": 1, "boolean": False}[kind["type"]]


def key(c: Change) -> tuple[str, str, str, str, str]:
    return (c.action, c.what, c.name, c.before, c.after)


def relational(tmp_path: Path, schema: dict[str, Any]) -> Database:
    return database_from_snapshot(snapshot(Database((model(tmp_path, schema, "thing"),))))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=schemas(), after=schemas())
def test_reverse_of_each_change_is_the_opposite_diff(tmp_path: Path, before: dict[str, Any], after: Any) -> None:
    old, new = relational(tmp_path / "a", before), relational(tmp_path / "b", after)
    forward, backward = diff(old, new, {}, {}).changes, diff(new, old, {}, {}).changes
    assert sorted(key(c.reverse()) for c in forward) == sorted(key(c) for c in backward)
    opposite = {key(c): c for c in backward}
    for change in forward:
        undone = change.reverse()
        assert undone.reverse() == change
        if change.what != "nullability":  # a downgrade restores NOT NULL without the upgrade's backfill
            assert bool(undone.destructive) == bool(opposite[key(undone)].destructive), change
            assert undone.check == opposite[key(undone)].check, change  # the rows each way checks first
        for c in (change, undone):  # what the guard refuses to write is what the revision refuses to run
            # but a unique constraint or CHECK over rows it refuses: refused before anything changes, it loses nothing
            refusing = bool(c.check) and c.check[0] not in ("drops", "unique", "violates")
            assert not refusing or c.destructive, c
    risks = downgrade_risks(forward)
    up_checks, down_checks = data_checks(forward), data_checks(downgrade_changes(forward))
    assert {c[:3] for c in up_checks} == {c.check[:3] for c in forward if c.check}
    assert {c[:3] for c in down_checks} == {r.check[:3] for r in backward if r.check} | {
        c.undo_check[:3] for c in forward if c.what == "nullability" and c.undo_check
    }
    assert [r.destructive for r in risks] == [c.undo_destructive for c in reversed(forward) if c.undo_destructive]
    lines = " ".join(doc.revert_lines(forward))
    for c in forward:
        if c.action == "add" and c.what in ("table", "column"):
            assert f"`{c.name}`" in lines  # the doc says what reverting drops, from the same changes
        if (c.action, c.what) == ("drop", "unique constraint") and c.undo_check:
            assert c.before.split()[0] in lines  # and which unique constraint reverting may refuse


def assert_ops_carry_every_change(old: Database, new: Database) -> None:
    """Every change the diff finds is carried by exactly one op of the revision, and by no other."""
    from schemarel.migrate.carry import Carrier, carried
    from schemarel.migrate.phases import Builder
    from schemarel.sql.metadata import build_metadata

    d = diff(old, new, {}, {})
    carrier = Carrier(d)
    upgrade = Builder(d, build_metadata(d.old), build_metadata(new), carrier).build()
    assert carrier.leftovers == []
    assert sorted(map(key, carried(upgrade))) == sorted(map(key, d.changes))
    assert len(carried(upgrade)) == len(d.changes)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=schemas(), after=schemas())
def test_ops_carry_the_changes_doc_and_guard_read(tmp_path: Path, before: dict[str, Any], after: Any) -> None:
    assert_ops_carry_every_change(relational(tmp_path / "a", before), relational(tmp_path / "b", after))


def test_ops_carry_the_changes_of_the_evolution_scenario(tmp_path: Path) -> None:
    """Renames, moves (flatten and back), enum value renames: the six versions of tests/evolution, both ways."""
    import json

    fixtures = Path(__file__).parent / "evolution"
    order = json.loads((fixtures / "order.schema.json").read_text())
    versions = []
    for n in range(1, 7):
        schema = json.loads((fixtures / f"v{n}.customer.schema.json").read_text())
        versions.append(relational_many(tmp_path / f"v{n}", {"customer": schema, "order": order}))
    for old, new in zip(versions, versions[1:], strict=False):
        assert_ops_carry_every_change(old, new)
        assert_ops_carry_every_change(new, old)


def relational_many(root: Path, schemas_by_name: dict[str, Any]) -> Database:
    from projects import write_project
    from schemarel.normalize.normalizer import normalize
    from schemarel.schema.loader import load_schemas

    write_project(root, schemas_by_name)
    return database_from_snapshot(snapshot(Database(tuple(normalize(s) for s in load_schemas(root / "schemas")))))
