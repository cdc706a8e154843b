"""A stored value the reader cannot turn into a document's (a row another program wrote: SQLite keeps 'abc' in a
BIGINT column and any text in a JSON one) is refused naming the table, the column, the row's key and the value.

Reads said only `ValueError: invalid literal for int() with base 10: 'abc'`, which names neither where the value
is nor that it is stored data, not the command's input, that is wrong.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
from conftest import run_schemarel
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from projects import generate, write_project
from schemarel import Store, StoreError

SCHEMA = {
    "title": "Event",
    "type": "object",
    "properties": {
        "n": {"type": "integer"},
        "meta": {"type": "object"},
        "counts": {"type": "array", "items": {"type": "integer"}},
    },
}
# a column, and text no value of its kind is spelled as
CASES = st.one_of(
    st.tuples(st.just(("events", "n")), st.text(min_size=1).filter(lambda t: not t.strip().lstrip("+-").isdigit())),
    st.tuples(st.just(("events", "meta")), st.sampled_from(["{bad", "", "[1,", "NaN x", "{'a': 1}"])),
    st.tuples(st.just(("event_counts", "count")), st.sampled_from(["x", "1.5.2", "--1"])),
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_project(tmp_path_factory.mktemp("unreadable_rows"), {"event": SCHEMA})
    assert generate(root).exit_code == 0
    assert run_schemarel(root, "upgrade").returncode == 0
    with Store(f"sqlite:///{root / 'schemarel.db'}", "event", source=root / "generated") as store:
        store.create({"n": 1, "meta": {"a": 1}, "counts": [1, 2]})
    return root


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=CASES)
@example(case=(("events", "n"), "abc"))
@example(case=(("events", "meta"), "{bad"))
def test_an_unreadable_stored_value_is_named(project: Path, case: tuple[tuple[str, str], str]) -> None:
    (table, column), text = case
    db = project / f"{uuid.uuid4().hex}.db"
    db.write_bytes((project / "schemarel.db").read_bytes())
    conn = sqlite3.connect(db)
    try:
        conn.execute(f'UPDATE "{table}" SET "{column}" = ?', (text,))
        conn.commit()
    finally:
        conn.close()
    said = f"{table}.{column} of the row whose id is "
    with Store(f"sqlite:///{db}", "event", source=project / "generated") as store:
        with pytest.raises(StoreError) as raised:
            list(store.items())
        assert said in str(raised.value) and f"holds {text!r}, which is no " in str(raised.value)
    result = run_schemarel(project, "export", "--schema", "event", "--db", f"sqlite:///{db}")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert said in result.stderr
