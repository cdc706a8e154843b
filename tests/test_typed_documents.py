"""Typed documents: the generated TypedDicts and store protocols make mypy --strict catch a wrong key, enum
value, lookup field or filter path in application code; the generated modules are mypy- and ruff-clean; a
typed store opened from any directory uses the model of its generated package."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import sqlalchemy as sa
from api_helpers import GENERATED, REPO
from conftest import create_users_table, run_schemarel
from dbtools import migrate
from projects import write_project

CLEAN = """
    from __future__ import annotations

    import asyncio

    from schemarel import AsyncStore, Store

    from generated.documents import customer, profile

    ada: customer.CustomerProfile = {
        "firstName": "Ada",
        "lastName": "Lovelace",
        "emails": ["ada@example.org"],
        "phoneNumbers": [{"type": "mobile", "number": "+441234"}],
        "privacySettings": {"marketingEmailsEnabled": False, "twoFactorEnabled": True},
    }
    customers = customer.store("sqlite://", check=False)
    new_id = customers.create(ada)
    print(new_id.hex, customers.get(new_id)["lastName"])
    for doc_id, found in customers.find({"emails": {"endswith": "@example.org"}, "phoneNumbers.type": "mobile"},
                                        order_by=["-lastName", "firstName"]):
        print(doc_id, found["firstName"])
    for page in customers.pages({"lastName": "Lovelace"}, batch_size=100):
        first_id: str = page[0][0]  # a uuid key as its text
        print(first_id, page[0][1]["lastName"])
    for key, each in customers.items(batch_size=10):
        print(key.hex, each["emails"][0])
    profiles = profile.store("sqlite://", check=False)
    print(profiles.create({"userId": "u43", "timezone": "Asia/Tokyo"}))  # the Store fills currency's default
    mine: profile.Profile = profiles.get_by(userId="u42")
    print(mine["timezone"], profiles.patch(new_id, {"timezone": "Europe/Paris"})["currency"])
    # the runtime's classes satisfy the generated protocols
    typed: customer.CustomerProfileStore = Store("sqlite://", "customer")
    typed_async: customer.CustomerProfileAsyncStore = AsyncStore("sqlite+aiosqlite://", "customer")

    async def main(store: profile.ProfileAsyncStore) -> None:
        print((await store.get_by(userId="u1"))["currency"])
        async for _, item in store.find({"currency": {"in": ["EUR", "USD"]}}):
            print(item["userId"])
        async for items in store.pages({"timezone": "UTC"}):
            print(len(items), items[0][1]["currency"])
        async for profile_id, one in store.items(batch_size=10):
            print(profile_id.hex, one["userId"].upper())

    asyncio.run(main(profile.async_store("postgresql+psycopg://localhost/app", check=False)))
"""
# (what the application got wrong, the line as written instead of the clean one)
TYPOS = {
    "a misspelt key": ('"firstName": "Ada",', '"firstname": "Ada",'),
    "an enum value the schema does not have": ('"type": "mobile"', '"type": "fax"'),
    "a missing required key": ('"lastName": "Lovelace",', ""),
    "a lookup by a field that is not unique": ('get_by(userId="u42")', 'get_by(timezone="UTC")'),
    "a filter on a path the schema does not have": ('"phoneNumbers.type": "mobile"', '"phoneNumbers.kind": "mobile"'),
    "an ordering key that is not a root property": ('"-lastName"', '"-emails"'),
    "a key of a read document that does not exist": ('mine["timezone"]', 'mine["timeZone"]'),
    "a wrong value type": ('"twoFactorEnabled": True', '"twoFactorEnabled": "yes"'),
    "a key of a document of `pages` that does not exist": ('page[0][1]["lastName"]', 'page[0][1]["lastname"]'),
    "a uuid id of `pages` taken for an int": ("first_id: str", "first_id: int"),
    "a key of a document of `items` that does not exist": ('each["emails"]', 'each["email"]'),
    "a filter of async `pages` on a path the schema does not have": ('{"timezone": "UTC"}', '{"timeZone": "UTC"}'),
    "a key of a document of async `pages` that does not exist": ('[1]["currency"]', '[1]["curency"]'),
    "a method of a str called on a document of async `items`": ('one["userId"].upper()', 'one["userId"].hex'),
}


def _mypy(tmp_path: Path, files: list[Path], root: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MYPYPATH": str(root)}
    command = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / ".mypy_cache"), *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, cwd=root, env=env, check=False)


def _catches_each_typo(
    tmp_path: Path, clean: str, typos: dict[str, tuple[str, str]], root: Path = REPO, others: tuple[Path, ...] = ()
) -> None:
    """mypy --strict finds no error in `clean` (nor in `others`) and one at least in each copy of it with a typo."""
    files = {"clean": tmp_path / "app_clean.py"}
    files["clean"].write_text(clean, encoding="utf-8")
    for i, (what, (right, wrong)) in enumerate(typos.items()):
        assert clean.count(right) == 1, what
        files[what] = tmp_path / f"app_typo_{i}.py"
        files[what].write_text(clean.replace(right, wrong), encoding="utf-8")
    result = _mypy(tmp_path, [*others, *files.values()], root)
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert not [e for e in errors if not e.startswith(str(tmp_path / "app_typo_"))], result.stdout
    for what, path in files.items():
        if what != "clean":
            assert any(e.startswith(f"{path}:") for e in errors), f"mypy missed {what}:\n{result.stdout}"


def test_mypy_catches_each_typo_and_passes_the_clean_application(tmp_path: Path) -> None:
    _catches_each_typo(tmp_path, textwrap.dedent(CLEAN), TYPOS)


def test_the_generated_modules_are_mypy_strict_and_ruff_clean(tmp_path: Path) -> None:
    modules = sorted((GENERATED / "documents").glob("*.py"))
    assert [m.name for m in modules] == ["__init__.py", "customer.py", "profile.py"]
    result = _mypy(tmp_path, modules)
    assert result.returncode == 0, result.stdout
    ruff = [sys.executable, "-m", "ruff", "check", "--no-force-exclude", *map(str, modules)]
    checked = subprocess.run(ruff, capture_output=True, text=True, cwd=REPO, check=False)
    assert checked.returncode == 0, checked.stdout
    imports = [line.strip() for m in modules for line in m.read_text().splitlines() if "schemarel" in line
               and line.strip().startswith(("import ", "from "))]  # fmt: skip
    assert set(imports) <= {"from schemarel.support import open_store"}, imports


def test_a_typed_store_started_elsewhere_uses_its_generated_package(tmp_path: Path) -> None:
    """Run from a directory without schemas/ or pyproject.toml: the model comes from generated/ itself."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    create_users_table(url)
    migrate(GENERATED, url, "upgrade", "head")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO users (id, email) VALUES ('u42', 'u@example.org')")
    engine.dispose()
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from generated.documents import profile
        profiles = profile.store({url!r})
        new_id = profiles.create({{"userId": "u42"}})
        print(profiles.get_by(userId="u42"), profiles.patch(new_id, {{"currency": "EUR"}})["currency"])
        """
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=elsewhere, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[0] == "{'userId': 'u42', 'timezone': 'UTC', 'currency': 'USD'} EUR"


def test_without_a_pyproject_the_store_finds_generated_where_generate_wrote_it(tmp_path: Path) -> None:
    """A new user's folder holds schemas/ and nothing else: `generate`, `upgrade`, then `Store(url, name)` in that
    folder finds generated/ as the commands do (it asked for a pyproject.toml naming it)."""
    root = write_project(tmp_path / "fresh", {"note": {"title": "Note", "type": "object",
                                                        "properties": {"text": {"type": "string"}}}})  # fmt: skip
    for step in ("generate", "upgrade"):
        assert run_schemarel(root, step).returncode == 0
    script = "from schemarel import Store\nnotes = Store('sqlite:///schemarel.db', 'note')\n"
    script += "print(notes.get(notes.create({'text': 'hi'})))"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "{'text': 'hi'}\n"


def test_without_the_generated_package_the_message_says_how_to_pass_it(tmp_path: Path) -> None:
    script = "from schemarel import Store\nStore('sqlite://', 'profile')"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert "cannot find the generated package" in run.stderr and "source=generated" in run.stderr


def test_every_corpus_schema_gets_mypy_strict_and_ruff_clean_documents(tmp_path: Path) -> None:
    """Real-world schemas (../shared/corpus): names that are no identifiers, enums, unions, $refs, recursion."""
    from conftest import SHARED, require_shared
    from projects import generate, write_project

    corpus = sorted(require_shared(SHARED / "corpus").glob("*.schema.json"))
    modules = tmp_path / "modules"
    modules.mkdir()
    for path in corpus:
        root = write_project(tmp_path / path.stem, {path.name.removesuffix(".schema.json"): path.read_text()})
        if generate(root).exit_code != 0:  # a schema generate refuses (named by test_corpus) has no documents
            continue
        for module in (root / "generated" / "documents").glob("[!_]*.py"):
            (modules / f"{path.stem.replace('-', '_').replace('.', '_')}_{module.name}").write_text(module.read_text())
    files = sorted(modules.glob("*.py"))
    assert len(files) >= len(corpus) - 2
    result = _mypy(tmp_path, files)
    assert result.returncode == 0, result.stdout
    ruff = [sys.executable, "-m", "ruff", "check", "--no-force-exclude", "--config", str(REPO / "pyproject.toml")]
    checked = subprocess.run([*ruff, *map(str, files)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout


def test_filters_are_typed_as_the_runtime_answers_them(tmp_path: Path) -> None:
    """`startswith` on a date, date-time, time or uuid path type-checked, then raised QueryError at run time (the
    column's text need not be the document's): its filter compares, as on text, but has no pattern. A union of
    scalars was typed as its first column (`{"u": 10}` refused on `string | integer`): it takes each type. A
    number in a `numeric` column was typed `str`."""
    from projects import generate, write_project

    formats = ["date", "date-time", "time", "uuid"]
    properties = {f"p{i}": {"type": "string", "format": f} for i, f in enumerate(formats)}
    root = write_project(tmp_path / "project", {"doc": {"title": "Doc", "type": "object", "properties": {
        **properties, "text": {"type": "string"}, "u": {"type": ["string", "integer"]},
        "price": {"type": "number", "multipleOf": 0.01}}}})  # fmt: skip
    assert generate(root).exit_code == 0
    lines = ["from generated.documents import doc", "", 'docs = doc.store("sqlite://", check=False)']
    lines += [f'print(docs.count({{"p{i}": {{"gte": "x", "in": ["y"]}}, "text": {{"startswith": "a"}}}}))'
              for i in range(len(formats))]  # fmt: skip
    unions = ['{"price": {"gt": 1.5}}', '{"u": 10}', '{"u": {"gt": 3}}', '{"u": {"startswith": "a"}}', '{"u": "a"}']
    lines += [f"print(docs.count({where}))" for where in unions]
    clean = tmp_path / "app_clean.py"
    clean.write_text("\n".join(lines) + "\n")
    wrong = []
    misuses = [f'{{"p{i}": {{"contains": "1"}}}}' for i in range(len(formats))]
    misuses += ['{"u": 1.5}', '{"price": {"startswith": "1"}}']
    for i, misuse in enumerate(misuses):
        wrong.append(tmp_path / f"app_wrong_{i}.py")
        wrong[-1].write_text("\n".join([*lines, f"print(docs.count({misuse}))"]) + "\n")
    env = {**os.environ, "MYPYPATH": str(root)}
    command = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / ".mypy_cache")]
    result = subprocess.run([*command, *map(str, [clean, *wrong])], capture_output=True, text=True, cwd=root,
                            env=env, check=False)  # fmt: skip
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert not [e for e in errors if e.startswith(str(clean))], result.stdout
    for path in wrong:
        assert any(e.startswith(str(path)) for e in errors), result.stdout


# property names Python reads otherwise in a class body or a signature, numbers, a required key with a default
NAMES_SCHEMA = {
    "title": "Thing",
    "type": "object",
    "required": ["name", "count", "__secret", "ﬁeld"],
    "properties": {
        "name": {"type": "string", "x-sql": {"unique": True}},
        "count": {"type": "integer", "default": 0},
        "price": {"type": "number"},
        "money": {"type": "number", "x-sql": {"type": "numeric(10,2)"}},
        "__secret": {"type": "string", "x-sql": {"unique": True}},
        "ﬁeld": {"type": "string", "x-sql": {"unique": True}},
        "conn": {"type": "string", "x-sql": {"unique": True}},
        "self": {"type": "string", "x-sql": {"unique": True}},
        "class": {"type": "string"},
        "a-b": {"type": "integer"},
        "a_b": {"type": "boolean"},
        "either": {"type": ["string", "integer"]},
    },
}
NAMES_APP = """
    from __future__ import annotations

    import asyncio
    from decimal import Decimal

    from generated.documents import thing

    doc: thing.Thing = {
        "name": "n", "price": Decimal("1.50"), "money": 2, "__secret": "s", "ﬁeld": "f", "conn": "c", "self": "me",
        "class": "k", "a-b": 1, "a_b": True,
    }
    store = thing.store("sqlite://", check=False)
    new_id = store.create(doc)
    back = store.get(new_id)
    price: float | Decimal = back["price"]
    texts: list[str] = [back["__secret"], back["ﬁeld"], back["conn"], back["self"], back["class"]]
    print(price, texts, back["a-b"] + 1, not back["a_b"], back["count"] + 1)
    print(store.get_by(name="n")["money"])
    where: thing.ThingWhere = {"price": {"gt": Decimal("1")}, "money": {"lt": 3}, "__secret": "s", "ﬁeld": "f"}
    where["either"] = 10
    for _, found in store.find(where, order_by=["-price", "ﬁeld"]):
        print(found["money"])
    page = store.page({"money": Decimal("2.00")}, limit=5)
    print([d["name"] for _, d in page.items], page.next)
    print(store.patch(new_id, {"price": Decimal("2")})["price"])
    store.replace(new_id, {**doc, "price": 3.5})


    async def main(async_store: thing.ThingAsyncStore) -> None:
        one = await async_store.get_by(name="n")
        value: float | Decimal = one["money"]
        async for _, each in async_store.find({"count": {"gte": 0}}):
            print(value, each["__secret"])

    asyncio.run(main(thing.async_store("sqlite+aiosqlite://", check=False)))
"""
NAMES_TYPOS = {
    "a number read back taken for a float (it is a Decimal)": ("price: float | Decimal", "price: float"),
    "a key of the document Python would have mangled": ('"money": 2, "__secret"', '"money": 2, "_Thing__secret"'),
    "an NFKC-normalized key": ('back["ﬁeld"], back["conn"]', 'back["field"], back["conn"]'),
    "a string given to a numeric filter": ('"money": {"lt": 3}', '"money": {"lt": "3"}'),
    "a value no column of a union holds": ('where["either"] = 10', 'where["either"] = 1.5'),
}


def test_names_python_reads_otherwise_and_numbers_type_check_as_the_store_takes_and_gives_them(
    tmp_path: Path,
) -> None:
    """A consumer of every property through create, get, get_by, find, page, patch, replace and the AsyncStore
    passes mypy --strict: the keys are the schema's own (`ﬁeld` was read as `field`, `__secret` mangled, a
    `conn` or `self` get_by keyword a SyntaxError), a number is `float | Decimal` (it was `float`, so a Decimal
    the Store gives back was refused), a defaulted required key may be left out, numeric filters take numbers."""
    from projects import generate, write_project

    root = write_project(tmp_path / "p", {"thing": NAMES_SCHEMA})
    assert generate(root).exit_code == 0
    documents = root / "generated" / "documents" / "thing.py"
    _catches_each_typo(tmp_path, textwrap.dedent(NAMES_APP), NAMES_TYPOS, root, (documents,))
