"""Bulk writes one batch ahead (runtime/overlap.py): the same rows, ids, failures and rejects, in the same order,
as writing each batch before preparing the next."""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from runtime_helpers import counts, customer, customers_with_one_owner_per, empty_customers
from schemarel.errors import ConstraintViolation, DocumentInvalid
from schemarel.runtime import ndjson, overlap, writes
from schemarel.runtime.ndjson import Loader, Reject
from schemarel.runtime.overlap import Ahead
from schemarel.runtime.store import Store

DUPLICATE = [{"type": "work", "number": "+10000000"}]  # a number two customers may not share (a unique constraint)


def test_items_run_in_order_and_an_earlier_failure_wins() -> None:
    ran: list[tuple[int, str]] = []

    def item(n: int, fail: bool = False) -> int:
        ran.append((n, threading.current_thread().name))
        if fail:
            raise ValueError(f"item {n}")
        return n

    for enabled in (False, True):
        ran.clear()
        with Ahead[int](enabled) as ahead:
            done = [*ahead.start(lambda: item(1)), *ahead.start(lambda: item(2)), *ahead.finish()]
        assert done == [1, 2] and [n for n, _ in ran] == [1, 2]
        assert all(name.startswith("schemarel-write") == enabled for _, name in ran)
        with pytest.raises(ValueError, match="item 3"), Ahead[int](enabled) as ahead:
            ahead.start(lambda: item(3, fail=True))
            raise KeyError("the caller's later failure")  # the earlier item's failure is the one raised
        with pytest.raises(ValueError, match="item 4"), Ahead[int](enabled) as ahead:
            ahead.start(lambda: item(4, fail=True))
            ahead.start(lambda: item(5))
        assert 5 not in [n for n, _ in ran]  # never started after a failure


def test_the_switch_interval_is_short_while_a_worker_runs_and_restored_after_the_last() -> None:
    before = sys.getswitchinterval()
    with Ahead[int](False):
        assert sys.getswitchinterval() == before  # no worker, nothing to hand over
    first = Ahead[int](True).__enter__()
    second = Ahead[int](True).__enter__()  # another thread's load at the same time
    short = pytest.approx(overlap.SWITCH_INTERVAL)  # kept in microseconds
    assert sys.getswitchinterval() == short
    first.__exit__(None, None, None)
    assert sys.getswitchinterval() == short  # the other worker still runs
    second.__exit__(KeyError, KeyError("the caller's failure"), None)
    assert sys.getswitchinterval() == before


@pytest.fixture
def customers(postgres_url: str) -> Store:
    return customers_with_one_owner_per(postgres_url, DUPLICATE[0]["number"])


@pytest.mark.parametrize("ahead", [False, True])
def test_create_many_keeps_the_batches_before_a_failure(
    customers: Store, monkeypatch: pytest.MonkeyPatch, ahead: bool
) -> None:
    monkeypatch.setattr(writes, "can_overlap", lambda engine: ahead)
    ids = customers.create_many([customer(i) for i in range(7)], batch_size=2)
    assert [customers.get(i)["firstName"] for i in ids] == [f"Ada{i}" for i in range(7)]
    empty_customers(customers)
    # batch 2 is refused by the database while batch 3 (an invalid document) is prepared: batch 2's refusal is
    # the error, as it is when batch 3 is prepared only after batch 2 was written
    documents = [customer(0, phoneNumbers=DUPLICATE), customer(1), customer(2, phoneNumbers=DUPLICATE), customer(3),
                 customer(4, emails=["broken"]), customer(5)]  # fmt: skip
    with pytest.raises(ConstraintViolation):
        customers.create_many(documents, batch_size=2)
    assert counts(customers)["customer_profiles"] == 2
    empty_customers(customers)
    documents[2] = customer(2)
    with pytest.raises(DocumentInvalid) as caught:
        customers.create_many(documents, batch_size=2)
    assert caught.value.index == 4
    assert sorted(d["firstName"] for d in customers) == ["Ada0", "Ada1", "Ada2", "Ada3"]


def _lines() -> list[bytes]:
    """Good lines, and lines refused before the database (JSON, schema) and by it (a shared phone number)."""
    out: list[Any] = []
    for i in range(14):
        kind = i % 5
        if kind == 1:
            out.append(customer(i, phoneNumbers=DUPLICATE))
        elif kind == 2:
            out.append(b'{"firstName": ')
        elif kind == 3 and i % 2:
            out.append(customer(i, emails=["broken"]))
        else:
            out.append(customer(i, phoneNumbers=DUPLICATE) if i == 0 else customer(i))
    return [line if isinstance(line, bytes) else json.dumps(line).encode() for line in out]


@pytest.mark.parametrize("all_or_nothing", [False, True])
def test_a_load_reports_the_same_rejects_in_the_same_order_with_or_without_the_worker(
    customers: Store, monkeypatch: pytest.MonkeyPatch, all_or_nothing: bool
) -> None:
    outcomes = []
    for ahead in (False, True):
        monkeypatch.setattr(ndjson, "can_overlap", lambda engine, ahead=ahead: ahead)
        for batch_size in (1, 2, 3, 5):
            empty_customers(customers)
            rejected: list[Reject] = []
            result = Loader(customers, rejected.append, batch_size, all_or_nothing, keep_ids=True).run(_lines())
            names = [customers.get(i)["firstName"] for i in result.ids]
            outcomes.append((ahead, batch_size, result.loaded, result.rejected, names, rejected))
    without, with_worker = outcomes[:4], outcomes[4:]
    assert [o[1:] for o in without] == [o[1:] for o in with_worker]
    refused_by_database = [r.line for o in outcomes for r in o[5] if "one_owner_per_number" in " ".join(r.reasons)]
    assert refused_by_database and all(o[3] > 0 for o in outcomes)
    if not all_or_nothing:
        for _, batch_size, _, _, _, rejected in with_worker:
            assert [r.line for r in rejected] == _order(batch_size)


def _order(batch_size: int) -> list[int]:
    """The lines of `_lines()` rejected, in the order of a load that writes each batch before reading on: a line
    refused before the database as it is read, one refused by it (the number's second owner on) when its
    batch is written."""
    reported: list[int] = []
    pending: list[int] = []
    owners: list[int] = []

    def write() -> None:
        for n in pending:
            if _shares(n):
                (reported if owners else owners).append(n)
        pending.clear()

    for number, line in enumerate(_lines(), 1):
        try:
            document = json.loads(line)
        except ValueError:
            reported.append(number)
            continue
        if document["emails"] == ["broken"]:
            reported.append(number)
            continue
        pending.append(number)
        if len(pending) == batch_size:
            write()
    write()
    return reported


def _shares(number: int) -> bool:
    return DUPLICATE[0]["number"] in _lines()[number - 1].decode()


def test_the_worker_runs_only_on_postgresql_with_psycopg() -> None:
    assert overlap.can_overlap(sa.create_engine("postgresql+psycopg://u@h/d"))
    assert not overlap.can_overlap(sa.create_engine("postgresql+psycopg_async://u@h/d"))
    assert not overlap.can_overlap(sa.create_engine("sqlite://"))
