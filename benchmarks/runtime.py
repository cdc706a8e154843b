"""Runtime benchmarks on PostgreSQL: bulk loads, backfill and single creates, as ratios measured in one run.

    python benchmarks/runtime.py [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                                 [--documents 20000] [--users 200000] [--repeat 3]

Creates a database of its own and drops it at the end. Each figure is the median of `--repeat` runs; the
naive loops (one commit per document or user) are timed on a subset and extrapolated linearly, as printed.
"""

from __future__ import annotations

import argparse
from typing import Any

import sqlalchemy as sa
from common import (
    CUSTOMER_TABLES,
    DEFAULT_SERVER,
    GENERATED,
    Row,
    conninfo,
    copy_rows,
    customer_database,
    interleaved,
    latencies,
    median_time,
    noop,
    print_table,
    scratch_database,
    truncate,
)
from runtime_helpers import customer  # noqa: E402 - the tests' CustomerProfile: an address, 2 emails, 2 phones
from schemarel.runtime.backfill import backfill  # noqa: E402
from schemarel.runtime.store import Store  # noqa: E402
from sqlalchemy.orm import Session

from generated.models import (  # noqa: E402 - the repository's generated models, as an application uses them
    CustomerProfile,
    CustomerProfileAddress,
    CustomerProfileEmail,
    CustomerProfilePhoneNumber,
    Profile,
)


def orm_object(d: dict[str, Any]) -> CustomerProfile:
    """What an application would write by hand with the generated models."""
    p = d["privacySettings"]
    a = d.get("address")
    return CustomerProfile(
        first_name=d["firstName"],
        middle_name=d.get("middleName"),
        last_name=d["lastName"],
        marketing_emails_enabled=p["marketingEmailsEnabled"],
        two_factor_enabled=p["twoFactorEnabled"],
        address=CustomerProfileAddress(
            line1=a["line1"],
            line2=a.get("line2"),
            city=a["city"],
            state=a["state"],
            postal_code=a["postalCode"],
            country=a["country"],
        )
        if a
        else None,  # fmt: skip
        emails=[CustomerProfileEmail(email=e) for e in d["emails"]],
        phone_numbers=[CustomerProfilePhoneNumber(type=n["type"], number=n["number"]) for n in d["phoneNumbers"]],
    )


def orm_loop(engine: sa.Engine, documents: list[dict[str, Any]]) -> None:
    with Session(engine) as session:
        for d in documents:
            session.add(orm_object(d))
            session.commit()


def seed_backfill_loop(engine: sa.Engine, limit: int) -> int:
    """The seed's script: find users without a profile, then insert and commit one profile per user."""
    users = sa.table("users", sa.column("id"))
    profiles = Profile.__table__
    with Session(engine) as session:
        missing = session.execute(
            sa.select(users.c.id).where(~sa.exists().where(profiles.c.user_id == users.c.id)).order_by(users.c.id)
        ).scalars()
        todo = list(missing)[:limit]
        for user_id in todo:
            session.add(Profile(user_id=user_id, timezone="UTC", currency="USD"))
            session.commit()
    return len(todo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with scratch_database(args.server) as url:
        print_table(run(url, args))


def run(url: sa.URL, args: argparse.Namespace) -> list[Row]:
    engine, customers = customer_database(url)
    profiles = Store(engine, "profile", source=GENERATED)
    reset_customers = truncate(engine, *CUSTOMER_TABLES)
    n = args.documents
    documents = [customer(i) for i in range(n)]
    subset = documents[: max(n // 20, 200)]
    rows: list[Row] = []

    t = interleaved(
        {
            "copy": lambda: copy_rows(conninfo(url), documents),
            "many": lambda: customers.create_many(documents, batch_size=1000),
        },
        args.repeat,
        reset_customers,
    )
    copy_s, many_s = t["copy"], t["many"]
    naive_s = median_time(lambda: orm_loop(engine, subset), args.repeat, reset_customers) * n / len(subset)
    copy_rate, many_rate, naive_rate = n / copy_s, n / many_s, n / naive_s
    rows += [
        (f"psycopg COPY, {n:,} documents (rows built by hand, no validation)", f"{copy_rate:,.0f} docs/s", "1.00×"),
        ("Store.create_many, batches of 1,000 (validated, COPY)", f"{many_rate:,.0f} docs/s",
         f"{many_rate / copy_rate:.2f}× COPY (goal ≥ 0.40×)"),
        (f"ORM, one commit per document (timed on {len(subset):,}, extrapolated)", f"{naive_rate:,.0f} docs/s",
         f"create_many = {many_rate / naive_rate:.0f}× it (goal ≥ 25×)"),
    ]  # fmt: skip

    validator = customers.validator
    check_n = min(n, 5_000)
    reference_s = median_time(lambda: [validator.reference.is_valid(d) for d in documents[:check_n]], args.repeat, noop)
    fast_s = median_time(lambda: [validator.fast.is_valid(d) for d in documents[:check_n]], args.repeat, noop)
    rows += [
        ("validation only, jsonschema (FormatChecker): words the errors", f"{check_n / reference_s:,.0f} docs/s",
         f"{reference_s / fast_s:.0f}× slower than jsonschema-rs"),
        ("validation only, jsonschema-rs (validate_formats): the verdict", f"{check_n / fast_s:,.0f} docs/s", ""),
    ]  # fmt: skip

    reset_customers()
    creates = min(1000, n)
    store_ms = latencies(lambda i: customers.create(documents[i]), creates) * 1000
    reset_customers()
    with Session(engine) as session:

        def orm_create(i: int) -> None:
            session.add(orm_object(documents[i]))
            session.commit()

        orm_ms = latencies(orm_create, creates) * 1000
    rows += [
        (f"one create, ORM add + commit (median of {creates:,})", f"{orm_ms:.2f} ms", "1.00×"),
        (f"one Store.create (validated; median of {creates:,})", f"{store_ms:.2f} ms",
         f"{store_ms / orm_ms:.2f}× the ORM (goal ≤ 0.33×)"),
    ]  # fmt: skip

    users = args.users
    with engine.begin() as conn:
        ids = f"SELECT 'user' || lpad(g::text, 9, '0') FROM generate_series(1, {users}) g"
        conn.exec_driver_sql(f"INSERT INTO users {ids}")
        conn.exec_driver_sql("ANALYZE users")
    reset_profiles = truncate(engine, "profiles")

    def trap_reset() -> None:
        reset_profiles()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE profiles")  # statistics of an empty table: the planner trap

    fill_s = median_time(lambda: backfill(profiles, batch_size=10_000), args.repeat, trap_reset)
    loop_n = min(2_000, users)
    loop_s = median_time(lambda: seed_backfill_loop(engine, loop_n), 1, reset_profiles) * users / loop_n
    fill_rate, loop_rate = users / fill_s, users / loop_s
    rows += [
        (f"seed's backfill loop, a commit per user (timed on {loop_n:,}, extrapolated)", f"{loop_rate:,.0f} users/s",
         "1.00×"),
        (f"backfill(), {users:,} users, keyset batches of 10,000", f"{fill_rate:,.0f} users/s",
         f"{fill_rate / loop_rate:.0f}× the loop (goal ≥ 100×)"),
    ]  # fmt: skip
    engine.dispose()
    return rows


table_rows = run  # what benchmarks/table.py runs


if __name__ == "__main__":
    main()
