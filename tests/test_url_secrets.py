"""Database URLs: no secret they carry (password, `?password=`, `sslpassword`, `passfile`, tokens, keys) is shown.

First `redact` and `scrub` against URLs built by hypothesis (any password, any mix of secret and ordinary
query parameters, percent-encoding included); then every database command as a real process, with and
without `--debug`, against servers that refuse, do not exist, or cannot be parsed, the URL given by option
or by environment variable.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import sqlalchemy as sa
from conftest import PG_ADMIN_URL, run_schemarel
from hypothesis import example, given, settings
from hypothesis import strategies as st
from runtime_helpers import SCHEMAS
from schemarel.urls import HIDDEN, redact, scrub

SECRET_PARAMS = [
    "password", "PASSWORD", "sslpassword", "passfile", "sslkey", "token", "access_token", "api_key", "apiKey",
    "secret", "client_secret", "sig", "auth", "credentials", "private_key", "session_token",
]  # fmt: skip
PLAIN_PARAMS = ["sslmode", "application_name", "connect_timeout", "charset", "options"]
# every secret holds `Zq`, which nothing else in these URLs does, so that finding it anywhere is a leak; secrets
# are 4 characters or more (shorter ones are hidden in the URL but not searched for in free text)
SECRETS = st.builds(
    lambda core, n: f"{core}Zq{n}", st.text(st.characters(codec="utf-8", exclude_characters="Zq\0"), max_size=8),
    st.integers(10, 10**6),
)  # fmt: skip
PLAIN = st.text("abcdefghijklmnop0123456789_-.", min_size=1, max_size=8)


@st.composite
def urls(
    draw: st.DrawFn, drivers: tuple[str, ...] = ("postgresql+psycopg", "mysql+pymysql", "sqlite")
) -> tuple[str, sa.URL]:
    query: dict[str, str] = {}
    for name in draw(st.lists(st.sampled_from(SECRET_PARAMS), unique=True, max_size=4)):
        query[name] = draw(SECRETS)
    for name in draw(st.lists(st.sampled_from(PLAIN_PARAMS), unique=True, max_size=2)):
        query[name] = draw(PLAIN)
    password = draw(st.none() | SECRETS)
    url = sa.engine.URL.create(
        draw(st.sampled_from(drivers)),
        username=draw(st.none() | PLAIN) if password is None else draw(PLAIN),
        password=password,
        host=draw(st.sampled_from(["127.0.0.1", "db.example.org", "localhost"])),
        port=draw(st.none() | st.integers(1, 65535)),
        database=draw(PLAIN),
        query=query,
    )
    return url.render_as_string(hide_password=False), url


@settings(max_examples=300)
@given(urls())
def test_redact_hides_every_secret_and_keeps_the_rest(given_url: tuple[str, sa.URL]) -> None:
    text, url = given_url
    shown = redact(text)
    assert "Zq" not in shown and "Zq" not in scrub(shown, text)
    back = sa.engine.make_url(shown)
    assert (back.drivername, back.host, back.port, back.database) == (url.drivername, url.host, url.port, url.database)
    assert back.password == (None if url.password is None else HIDDEN)
    for name, value in url.query.items():
        assert back.query[name] == (HIDDEN if name in SECRET_PARAMS else value)


FOUND = "postgresql+psycopg://0:+Zq10@127.0.0.1/0"  # `+` written raw, quoted back as `%2B` (hypothesis' find)
OVERLAPPING = "postgresql+psycopg://127.0.0.1/0?password=Zq10&PASSWORD=0Zq10"  # 0Zq10 within Zq10Zq10 (its find)


@settings(max_examples=300)
@given(urls(), st.sampled_from(["{url}", "at {url} failed", "{secret}", "bad {quoted}: {decoded}", "{secret}{secret}",
                                "bad {encoded}", "{quoted}"]))  # fmt: skip
@example((FOUND, sa.engine.make_url(FOUND)), "bad {quoted}: {decoded}")
@example((OVERLAPPING, sa.engine.make_url(OVERLAPPING)), "{secret}{secret}")
def test_scrub_hides_the_url_and_each_secret_however_it_is_quoted(given_url: tuple[str, sa.URL], message: str) -> None:
    text, url = given_url
    secrets = [url.password] if url.password else []
    secrets += [v for k, vs in url.query.items() if k in SECRET_PARAMS for v in ((vs,) if isinstance(vs, str) else vs)]
    secret = secrets[0] if secrets else "noZq-secret-here"
    quoted, encoded = quote_plus(secret), quote(secret, safe="")
    out = scrub(message.format(url=text, secret=secret, quoted=quoted, decoded=secret, encoded=encoded), text)
    if secrets or "{url}" in message:
        assert "Zq" not in out


COMMANDS = [
    ["upgrade"],
    ["downgrade", "base"],
    ["load", "--schema", "customer", "--schemas", str(SCHEMAS), "in.ndjson"],
    ["export", "--schema", "customer"],
    ["backfill", "--schema", "profile"],
]
PG = sa.engine.make_url(PG_ADMIN_URL)
SERVERS = {
    "refused": ("postgresql+psycopg", "127.0.0.1", 1, "app"),
    "no such database": ("postgresql+psycopg", PG.host, PG.port, "schemarel_no_such_database"),
    "mysql refused": ("mysql+pymysql", "127.0.0.1", 1, "app"),
}


@st.composite
def command_urls(draw: st.DrawFn) -> str:
    driver, host, port, database = SERVERS[draw(st.sampled_from(sorted(SERVERS)))]
    # PostgreSQL takes any libpq keyword from the query; PyMySQL only its own (`password` among them)
    names = ["password", "sslpassword", "passfile", "sslkey"] if driver.startswith("postgresql") else ["password"]
    query = {name: draw(SECRETS) for name in draw(st.sets(st.sampled_from(names)))}
    url = sa.engine.URL.create(driver, username="app", password=draw(SECRETS), host=host, port=port,
                               database=database, query=query)  # fmt: skip
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("secrets")
    (folder / "in.ndjson").write_text('{"firstName": "Ada"}\n')
    assert run_schemarel(folder, "generate", "--schemas", str(SCHEMAS), env={"SOURCE_DATE_EPOCH": "0"}).returncode == 0
    return folder


@settings(max_examples=4, deadline=None)
@given(url=command_urls(), debug=st.booleans(), by_env=st.booleans())
def test_no_command_prints_a_secret_of_its_database_url(workdir: Path, url: str, debug: bool, by_env: bool) -> None:
    for command in COMMANDS:
        args = [*command, *(["--debug"] if debug else [])]
        env = {"SCHEMAREL_DATABASE_URL": url} if by_env else {}
        result = run_schemarel(workdir, *args, *([] if by_env else ["--db", url]), env=env)
        shown = result.stdout + result.stderr
        assert "Zq" not in shown, f"{command[0]} showed a secret of its URL:\n{shown}"
        assert result.returncode == 1, shown
        assert ("Traceback" in shown) == debug, shown
        assert "error: " in result.stderr and "***" in result.stderr, shown


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://app:pwZq1@127.0.0.1:port/db?password=qZq2",  # a port SQLAlchemy cannot read
        "mysql+pymysql://app:pwZq1@127.0.0.1:1/db?sslpassword=qZq2",  # a keyword PyMySQL does not take
        "no url at all Zq3",
        "postgresql+psycopg://app:p@wZq4@127.0.0.1:1/db",  # an `@` left unescaped in the password
    ],
)
def test_unreadable_urls_show_no_secret_either(workdir: Path, url: str) -> None:
    for n, command in enumerate(COMMANDS):
        result = run_schemarel(workdir, *command, "--db", url, *(["--debug"] if n % 2 else []))
        shown = result.stdout + result.stderr
        assert "Zq" not in shown, f"{command[0]}: {shown}"
        assert result.returncode in (1, 2), shown  # refused by the database (1), or as a bad option (2)


def test_scrubbing_keeps_messages_without_a_url_as_they_are() -> None:
    assert scrub("plain message", None) == "plain message"
    assert scrub("password authentication failed", "sqlite:///x.db") == "password authentication failed"
    short = "postgresql://u:pw@h/db?password=abc"
    assert scrub(f"at {short}: pw abc", short) == "at postgresql://u:***@h/db?password=***: pw abc"
