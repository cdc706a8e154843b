"""CustomerProfile documents as rows of their four tables, built by hand: what the COPY limits write.

Free of SQLAlchemy, so that `lean_load.py` can build its rows with it and still start as fast as psycopg lets it.
"""

from __future__ import annotations

from typing import Any

from schemarel.runtime.keys import new_key

COLUMNS = [
    "customer_profiles (id, first_name, middle_name, last_name, marketing_emails_enabled, two_factor_enabled)",
    "customer_profile_addresses (customer_profile_id, line1, line2, city, state, postal_code, country)",
    "customer_profile_emails (customer_profile_id, email)",
    "customer_profile_phone_numbers (customer_profile_id, type, number)",
]


def customer_rows(documents: list[dict[str, Any]]) -> list[list[tuple[Any, ...]]]:
    """The rows of CustomerProfile documents, built by hand, per table of `COLUMNS`; the keys are the store's
    kind (`runtime.keys.new_key`, time-ordered), so both sides of a comparison write and read identical rows."""
    roots: list[tuple[Any, ...]] = []
    addresses: list[tuple[Any, ...]] = []
    emails: list[tuple[Any, ...]] = []
    phones: list[tuple[Any, ...]] = []
    for d in documents:
        key = new_key()
        p = d["privacySettings"]
        roots.append((key, d["firstName"], d.get("middleName"), d["lastName"], p["marketingEmailsEnabled"],
                      p["twoFactorEnabled"]))  # fmt: skip
        if "address" in d:
            a = d["address"]
            addresses.append((key, a["line1"], a.get("line2"), a["city"], a["state"], a["postalCode"], a["country"]))
        emails += [(key, e) for e in d["emails"]]
        phones += [(key, n["type"], n["number"]) for n in d["phoneNumbers"]]
    return [roots, addresses, emails, phones]
