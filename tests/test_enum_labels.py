"""Enum labels MariaDB's ENUM would fold or strip (`e`/`é`, `a`/`Ａ`, `x `) are stored exactly: as text with a CHECK."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from projects import write_project
from runtime_helpers import open_store
from schemarel.sql.types import native_enum_ok

# labels of which some pairs are one label to a case-, accent- or width-insensitive collation, or lose a space
POOL = ["e", "é", "E", "ｅ", "a ", "b", "ﬁ", "fi", "ß", "x y", " lead", "Ω", "ω"]
LABELS = st.lists(st.sampled_from(POOL), min_size=2, max_size=5, unique=True)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(labels=LABELS)
@example(labels=["e", "é"])  # MariaDB: "Column 'kind' has duplicated value 'e' in ENUM" at CREATE TABLE
@example(labels=["a ", "b"])  # MariaDB reads 'a ' back as 'a'
def test_every_label_reads_back_as_written_on_mariadb(mysql_url: str, tmp_path_factory: Any, labels: list[str]) -> None:
    root = write_project(tmp_path_factory.mktemp("p"), {"thing": {
        "title": "Thing", "type": "object", "properties": {"kind": {"enum": labels}}, "required": ["kind"],
    }})  # fmt: skip
    store = open_store(mysql_url, "thing", root / "schemas")
    try:
        ids = store.create_many([{"kind": label} for label in labels])
        assert [store.get(i) for i in ids] == [{"kind": label} for label in labels]
        for label in labels:
            assert [doc for _, doc in store.find({"kind": label})] == [{"kind": label}]
    finally:
        with store.engine.begin() as conn:
            store.metadata.drop_all(conn)
        store.close()


def test_labels_a_collation_tells_apart_stay_a_native_enum() -> None:
    """The check refuses only what MariaDB would fold or strip: distinct plain labels keep their enum type."""
    assert native_enum_ok(["active", "paused", "é", "closed"])
    for folded in (["e", "é"], ["e", "E"], ["e", "ｅ"], ["ﬁ", "fi"], ["a ", "b"]):
        assert not native_enum_ok(folded), folded
    assert all(native_enum_ok([a, b]) for a, b in itertools.combinations(["b", "x y", " lead", "Ω"], 2))
