"""Database URLs as schemarel shows them: the password and every secret-bearing query parameter hidden.

`render_as_string(hide_password=True)` hides only the password of the user part, while drivers also take
secrets from the query (`?password=`, `sslpassword`, `passfile`, tokens, keys) and error messages quote them.
`redact` hides them in the URL; `scrub` hides the URL and each secret value in any text (a message, a
traceback) that may quote them, as written, percent-decoded or percent-encoded again.
"""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus, unquote, unquote_plus

DEFAULT_URL = "sqlite:///schemarel.db"  # the database of upgrade, load, export and backfill without --db
HIDDEN = "***"
# a query parameter whose name says it holds a secret (or where one is: passfile, sslkey)
SECRET_NAME = re.compile(r"pass|pwd|secret|token|key|sig|auth|cred|private|session|cookie|bearer", re.I)
# shorter values are not searched for in free text: they would garble it and hide nothing worth hiding
MIN_SCRUBBED = 4
# SQLAlchemy's own URL grammar (sqlalchemy.engine.url._parse_url), so the parts found are the parts it uses
_URL = re.compile(
    r"""
    (?P<name>[\w+]+)://
    (?:(?P<username>[^:/]*)(?::(?P<password>[^@]*))?@)?
    (?:(?:\[(?P<ipv6host>[^/?]+)\]|(?P<ipv4host>[^/:?]+))?(?::(?P<port>[^/?]*))?)?
    (?:/(?P<database>[^?]*))?
    (?:\?(?P<query>.*))?
    """,
    re.X | re.S,
)


def redact(url: str) -> str:
    """`url` with its password and the values of its secret-bearing query parameters replaced by ***."""
    match = _URL.match(url)
    if match is None:
        return "<database URL>"  # not a URL SQLAlchemy can read: nothing of it can be shown safely
    pieces: list[tuple[int, int, str]] = []
    if match.group("password") is not None:
        pieces.append((*match.span("password"), HIDDEN))
    host = match.group("ipv4host") or ""
    if "@" in host:  # an unescaped `@` in the password: SQLAlchemy takes the rest of it for the host
        start = match.start("ipv4host")
        pieces.append((start, start + host.rindex("@"), HIDDEN))
    if match.group("query"):
        start = match.start("query")
        out = []
        for param in match.group("query").split("&"):
            name, eq, _ = param.partition("=")
            out.append(f"{name}={HIDDEN}" if eq and SECRET_NAME.search(unquote_plus(name)) else param)
        pieces.append((start, match.end("query"), "&".join(out)))
    for start, end, text in sorted(pieces, reverse=True):
        url = url[:start] + text + url[end:]
    return url


def secrets(url: str) -> list[str]:
    """Each secret `url` carries, as written and decoded, longest first (so that no part is left showing)."""
    match = _URL.match(url)
    if match is None:
        return [url] if len(url) >= MIN_SCRUBBED else []
    values = [match.group("password") or ""]
    host = match.group("ipv4host") or ""
    if "@" in host:
        values += [host[: host.rindex("@")], f"{values[0]}@{host[: host.rindex('@')]}"]
    for param in (match.group("query") or "").split("&"):
        name, eq, value = param.partition("=")
        if eq and SECRET_NAME.search(unquote_plus(name)):
            values.append(value)
    found = set()
    for value in values:
        decoded = {value, unquote(value), unquote_plus(value)}
        # and encoded again, as a driver or a message may quote the password it was given (`+` as `%2B`)
        encoded = {enc(form, safe=safe) for form in decoded for enc in (quote, quote_plus) for safe in ("", "/")}
        for form in decoded | encoded:
            for shown in (form, form.replace("%", "%%"), repr(form)[1:-1]):
                if len(shown) >= MIN_SCRUBBED:
                    found.add(shown)
    return sorted(found, key=lambda s: (-len(s), s))


def scrub(text: str, url: str | None) -> str:
    """`text` with `url` redacted and every secret of it hidden wherever it appears."""
    if not url:
        return text
    text = text.replace(url, redact(url))
    # every occurrence of every secret marked first, then each run of marked characters hidden at once:
    # replacing one secret after another let a secret that overlaps another (`0Zq10` and `Zq10` in
    # `Zq10Zq10`) cut it and leave the rest showing
    hidden = bytearray(len(text))
    for secret in secrets(url):
        start = text.find(secret)
        while start >= 0:
            hidden[start : start + len(secret)] = b"\x01" * len(secret)
            start = text.find(secret, start + 1)
    if not any(hidden):
        return text
    pieces = []
    for i, ch in enumerate(text):
        if not hidden[i]:
            pieces.append(ch)
        elif i == 0 or not hidden[i - 1]:
            pieces.append(HIDDEN)
    return "".join(pieces)
