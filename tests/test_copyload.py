"""`schemarel load` on PostgreSQL by COPY without SQLAlchemy (runtime/copyload.py) leaves what the Store's way
leaves: the same documents stored, the same lines rejected with the same reasons and line numbers, the same
output and exit code, whatever the lines and batch sizes; the database's refusals (a rule only it knows) hand the
load over to `ndjson.Loader` at the batch that failed, and a load that needs nothing else never imports
SQLAlchemy."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from runtime_helpers import GENERATED, customer, customers_with_one_owner_per, empty_customers
from schemarel.cli import data
from schemarel.runtime import copyload, source
from schemarel.runtime.store import Store

SHARED = "+10000000"  # a phone number two customers may not share: a unique index the schema does not know
Cli = Callable[..., Result]


@pytest.fixture
def customers(postgres_url: str) -> Store:
    return customers_with_one_owner_per(postgres_url, SHARED, migrated=True)


def _line(i: int, kind: str) -> str:
    if kind == "bom":  # a byte order mark before the first line (read as nothing)
        return "\ufeff" + json.dumps(customer(i)) if i == 0 else json.dumps(customer(i))
    if kind == "shared":  # the database refuses the second one (and a batch holding both)
        return json.dumps(customer(i, phoneNumbers=[{"type": "work", "number": SHARED}]))
    if kind == "invalid":  # the schema refuses it
        return json.dumps(customer(i, emails=["broken"]))
    if kind == "nul":  # PostgreSQL's text holds no NUL: refused before the database
        return json.dumps(customer(i, lastName="a\u0000b"))
    if kind == "twice":  # a key given twice
        return json.dumps(customer(i)).replace('"lastName"', '"lastName": "x", "lastName"', 1)
    if kind == "broken":
        return json.dumps(customer(i))[:-2]
    if kind == "blank":
        return "  "
    return json.dumps(customer(i))


class _Bar:
    """A progress bar that counts what it is given (the CLI shows one only on a terminal)."""

    def __init__(self) -> None:
        self.pos = 0

    def update(self, size: int) -> None:
        self.pos += size


def _outcome(cli: Cli, root: Path, url: str, batch_size: int) -> tuple[Any, ...]:
    """What a load leaves: exit code, output (its timing left out), the reject file, the documents stored; and
    its progress bar went from 0 to the size of the file, once."""
    rejects = root / "in.ndjson.rejects.ndjson"
    rejects.unlink(missing_ok=True)
    bar = _Bar()
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(data, "_progress", lambda length, label: contextlib.nullcontext(bar))
        result = cli(root, "load", "--schema", "customer", "--out", str(GENERATED), "--db", url,
                     "--batch-size", str(batch_size), "in.ndjson")  # fmt: skip
    assert bar.pos == (root / "in.ndjson").stat().st_size
    output = re.sub(r"in [0-9.]+ s \([0-9,]+ documents/s\)", "", result.output)
    store = Store(url, "customer", source=GENERATED)
    try:
        stored = sorted((json.dumps(d, sort_keys=True) for d in store), key=str)
    finally:
        store.close()
    return result.exit_code, output, rejects.read_text() if rejects.exists() else None, stored


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kinds=st.lists(
        st.sampled_from(["plain"] * 6 + ["shared"] * 2 + ["invalid", "nul", "twice", "broken", "blank", "bom"]),
        min_size=1,
        max_size=14,
    ),
    batch_size=st.integers(1, 4),
)
def test_a_load_by_copy_leaves_what_the_stores_way_leaves(
    customers: Store, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kinds: list[str], batch_size: int
) -> None:
    url = customers.engine.url.render_as_string(hide_password=False)
    (tmp_path / "in.ndjson").write_text("".join(_line(i, kind) + "\n" for i, kind in enumerate(kinds)))
    runs: list[Any] = []
    run = copyload.CopyLoader.run

    def spying(self: copyload.CopyLoader, lines: Any) -> Any:
        rest = run(self, lines)
        runs.append(rest is not None)
        return rest

    empty_customers(customers)
    with monkeypatch.context() as patched:
        patched.setattr(copyload.CopyLoader, "run", spying)
        by_copy = _outcome(cli, tmp_path, url, batch_size)
    assert len(runs) == 1, "the load went by COPY"
    event("handed over to the Loader" if runs[0] else "loaded by COPY alone")
    empty_customers(customers)
    with monkeypatch.context() as patched:
        patched.setattr(copyload, "copy_loader", lambda *args, **kwargs: None)
        by_store = _outcome(cli, tmp_path, url, batch_size)
    assert by_copy == by_store


def test_a_second_owner_hands_over_at_its_batch(
    customers: Store, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches before the refused one stay, committed by COPY; its lines and the later ones go the Store's way,
    which loads on with the model COPY read (generated/ is read once)."""
    url = customers.engine.url.render_as_string(hide_password=False)
    kinds = ["plain", "shared", "plain", "plain", "shared", "plain", "plain"]
    (tmp_path / "in.ndjson").write_text("".join(_line(i, kind) + "\n" for i, kind in enumerate(kinds)))
    read = source.from_generated
    reads: list[Path] = []

    def reading(out_dir: Path) -> source.Model:
        reads.append(out_dir)
        return read(out_dir)

    monkeypatch.setattr(source, "from_generated", reading)
    code, output, rejects, stored = _outcome(cli, tmp_path, url, 2)
    assert len(reads) == 2  # the load's, and `_outcome`'s Store reading what was stored
    assert code == 1 and "loaded 6 customer documents" in output
    assert [json.loads(line)["line"] for line in rejects.splitlines()] == [5]
    assert "one_owner_per_number" in rejects
    assert len(stored) == 6


def test_a_load_by_copy_never_imports_sqlalchemy(customers: Store, tmp_path: Path) -> None:
    url = customers.engine.url.render_as_string(hide_password=False)
    (tmp_path / "in.ndjson").write_text("".join(json.dumps(customer(i)) + "\n" for i in range(3)) + "{oops\n")
    command = [sys.executable, "-X", "importtime", "-m", "schemarel", "load", "in.ndjson", "--schema", "customer",
               "--out", str(GENERATED), "--db", url]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "loaded 3 customer documents" in done.stdout
    assert "in.ndjson:4: invalid JSON" in done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "import time:" in line}
    assert "psycopg" in imported and "sqlalchemy" not in imported
    assert len(list(Store(url, "customer", source=GENERATED))) == 3


@pytest.mark.parametrize("how", ["an older revision", "all or nothing"])
def test_what_copy_cannot_promise_goes_the_stores_way(
    customers: Store, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    url = customers.engine.url.render_as_string(hide_password=False)
    (tmp_path / "in.ndjson").write_text(json.dumps(customer(1)) + "\n")
    monkeypatch.setattr(copyload.CopyLoader, "run", lambda *args: pytest.fail("loaded by COPY"))
    args = ["load", "--schema", "customer", "--out", str(GENERATED), "--db", url, "in.ndjson"]
    if how == "all or nothing":
        result = cli(tmp_path, *args, "--all-or-nothing")
        assert result.exit_code == 0 and "loaded 1 customer document" in result.output
    else:
        with customers.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0004'")
        result = cli(tmp_path, *args)
        assert result.exit_code == 1 and "the database is at 0004" in result.output


def test_a_bulk_load_by_copy_leaves_statistics_of_every_table(
    customers: Store, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the Store's bulk writes do (runtime/stats.py): the key columns of each table analyzed, half the tables
    on each of the load's two connections."""
    url = customers.engine.url.render_as_string(hide_password=False)
    monkeypatch.setattr(copyload, "ANALYZE_AFTER", 5)  # the real threshold is 10,000 documents
    (tmp_path / "in.ndjson").write_text("".join(json.dumps(customer(i)) + "\n" for i in range(5)))
    empty_customers(customers)
    code, output, _, stored = _outcome(cli, tmp_path, url, 2)
    assert code == 0 and len(stored) == 5
    with customers.engine.connect() as conn:
        counted: dict[str, float] = dict(conn.exec_driver_sql(
            "SELECT relname, reltuples FROM pg_class WHERE relname LIKE 'customer_profile%%' AND relkind = 'r'"
        ).all())  # fmt: skip
        analyzed = set(
            conn.exec_driver_sql("SELECT tablename, attname FROM pg_stats WHERE tablename LIKE 'customer%%'")
        )
    assert counted == {
        "customer_profiles": 5,
        "customer_profile_addresses": 5,
        "customer_profile_emails": 10,
        "customer_profile_phone_numbers": 10,
    }
    assert analyzed == {
        ("customer_profiles", "id"),
        ("customer_profile_addresses", "customer_profile_id"),
        *((f"customer_profile_{t}", c) for t in ("emails", "phone_numbers") for c in ("id", "customer_profile_id")),
    }


class _Listener:
    """A TCP port that accepts connections and closes them at once, counting them: a server that refuses."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("how", ["closes at once", "nothing listens", "no such database", "port abc", "port 99999"])
def test_a_refused_connection_is_said_once_as_the_stores_way_says_it(
    postgres_url: str, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """The COPY path does not try a refused connection again the Store's way (a host that does not answer
    would be waited for twice): same message and exit code, one attempt."""
    listener = _Listener()
    server = postgres_url.rsplit("/", 1)[0]
    url = {
        "closes at once": f"postgresql+psycopg://postgres@127.0.0.1:{listener.port}/db",
        "nothing listens": f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/db",
        "no such database": f"{server}/schemarel_no_such_database",
        "port abc": "postgresql+psycopg://postgres@127.0.0.1:abc/db",
        "port 99999": "postgresql+psycopg://postgres@127.0.0.1:99999/db",
    }[how]
    (tmp_path / "in.ndjson").write_text(json.dumps(customer(1)) + "\n")
    args = ["load", "--schema", "customer", "--out", str(GENERATED), "--db", url, "in.ndjson"]
    by_copy = cli(tmp_path, *args)
    tries = listener.accepted
    with monkeypatch.context() as patched:
        patched.setattr(copyload, "copy_loader", lambda *args, **kwargs: None)
        by_store = cli(tmp_path, *args)
    assert (by_copy.exit_code, by_copy.output) == (by_store.exit_code, by_store.output)
    assert by_copy.exit_code in (1, 2) and "Traceback" not in by_copy.output
    assert tries == listener.accepted - tries  # the COPY path tried as often as the Store's way alone
    listener.socket.close()
