"""Nothing is read, diffed, copied or published through a link: `check`, `generate` and `docs --site`.

A commit may replace any file or folder of `generated/` by a link to a secret (`/proc/self/environ`,
`~/.ssh/id_rsa`); hypothesis picks which, and what the link points at (a file, or a folder mirroring the
names schemarel expects there), and the secret must appear in no output of any format. The site copies the
docs' Markdown and the schemas they document, and nothing a link in them points at.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest
from conftest import REPO, copy_project, run_schemarel
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sandbox import state
from schemarel.render.ownership import Owner
from schemarel.render.site import SOURCES, SiteSources, build_site

GENERATED = sorted(
    p.relative_to(REPO / "generated").as_posix()
    for p in (REPO / "generated").rglob("*")
    if "__pycache__" not in p.parts
)
FORMATS = ("text", "github", "json")


@settings(max_examples=10, deadline=None)
@given(
    victim=st.sampled_from(["", *GENERATED]),
    pointee=st.sampled_from(["secret file", "mirroring folder", "environ"]),
)
def test_check_and_generate_never_read_through_a_link(
    victim: str, pointee: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    base = tmp_path_factory.mktemp("links")
    project = copy_project(base)
    canary = f"CANARY-{uuid.uuid4().hex}"
    path = project / "generated" / victim if victim else project / "generated"
    if pointee == "environ":
        target = Path("/proc/self/environ")
    elif pointee == "secret file" or not path.is_dir():
        target = base / "id_rsa"
        target.write_text(f"{canary}\n")
    else:  # a folder holding the very names schemarel expects, each with the secret in it
        target = base / "mirror"
        for inner in path.rglob("*"):
            copy = target / inner.relative_to(path)
            if inner.is_dir():
                copy.mkdir(parents=True, exist_ok=True)
            else:
                copy.parent.mkdir(parents=True, exist_ok=True)
                copy.write_text(f"{canary}\n{inner.read_text()}")
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    path.symlink_to(target, target_is_directory=target.is_dir())
    outside_before = state(base / "mirror") if (base / "mirror").exists() else {}
    env = {"SCHEMAREL_CANARY": canary}

    for fmt in FORMATS:
        result = run_schemarel(project, "check", "--format", fmt, env=env)
        shown = result.stdout + result.stderr
        assert canary not in shown, f"check --format {fmt} printed the link's target"
        assert "Traceback" not in shown, shown
        if not victim:  # generated/ itself: a link to a folder is not read (1); to a file, click refuses it (2)
            assert result.returncode in (1, 2), shown
            continue
        assert result.returncode == 1 and ("symbolic link" in shown or "symlink" in shown), shown
        if fmt == "json":
            report = json.loads(result.stdout)
            linked = [f for f in report.get("files", []) if f["kind"] == "symlink"]
            assert linked or "symbolic link" in report["error"]["message"]

    generated = run_schemarel(project, "generate", env=env)
    assert canary not in generated.stdout + generated.stderr and "Traceback" not in generated.stderr
    if target.name == "id_rsa":
        assert target.read_text() == f"{canary}\n"  # never written through
    assert (state(base / "mirror") if (base / "mirror").exists() else {}) == outside_before
    if generated.returncode == 0:  # the link was replaced by schemarel's own regular file
        assert not any(p.is_symlink() for p in [path, *(project / "generated").rglob("*")])
        assert canary not in json.dumps({k: v.decode("latin-1") for k, v in _files(project / "generated").items()})
    else:  # history behind a link (exit 1), or generated/ or its marker a link (not replaced, exit 2)
        assert (
            generated.returncode in (1, 2)
            and "symbolic link" in generated.stderr
            or (generated.returncode == 2 and "it has no .schemarel-output" in generated.stderr)
        ), generated.stderr


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_tampered_revision_slug_is_never_followed_out_of_generated(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    (tmp_path / "x.py").write_text("SECRET = 'CANARY-slug'\n")
    snapshot = project / "generated/migrations/snapshots/0001.json"
    data = json.loads(snapshot.read_text())
    data["slug"] = "../../../../x"
    snapshot.write_text(json.dumps(data))
    for args in (["check"], ["check", "--format", "json"], ["generate"]):
        result = run_schemarel(project, *args)
        assert result.returncode != 0 and "CANARY" not in result.stdout + result.stderr
        assert "Traceback" not in result.stderr


# ---- the docs site: only the Markdown of the docs and the schema files they document ----

LINKS = [  # relative to generated/docs/index.md
    "../../schemas/customer.schema.json",  # documented: copied
    "../../schemas/profile.schema.json",
    "../../id_rsa",  # the issue's: a file of the project
    "../../../outside.txt",  # beside the project
    "../../schemas/notes.txt",  # beside the schemas, not one
    "../../schemas/linked.schema.json",  # a schema-named link to the secret
    "../../schemas/../id_rsa",
    "../../generated/../id_rsa",
    "migrations/../../../id_rsa",
    "../__init__.py",  # generated, but not docs
    "/etc/hostname",
]


def _site_project(base: Path, links: list[str], canary: str) -> Path:
    project = base / "project"
    (project / "generated/docs").mkdir(parents=True)
    shutil.copytree(REPO / "schemas", project / "schemas")
    for secret in (
        project / "id_rsa",
        base / "outside.txt",
        project / "schemas/notes.txt",
        project / "generated/__init__.py",
    ):
        secret.write_text(f"{canary}\n")
    (project / "schemas/linked.schema.json").symlink_to(project / "id_rsa")
    body = "".join(f"- [link {n}]({link})\n" for n, link in enumerate(links))
    (project / "generated/docs/index.md").write_text(f"# Docs\n\n{body}")
    return project


@settings(max_examples=10, deadline=None)
@given(links=st.lists(st.sampled_from(LINKS), min_size=1, max_size=4, unique=True))
@example(links=LINKS[:2])  # a site that builds, with both schemas copied
@example(links=["../../id_rsa"])  # the issue's
def test_the_site_copies_only_the_docs_and_their_schemas(
    links: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    base = tmp_path_factory.mktemp("site")
    canary = f"CANARY-{uuid.uuid4().hex}"
    project = _site_project(base, links, canary)
    sources = SiteSources(project / "generated/docs", project / "schemas", project)
    site = project / "public"
    try:
        build_site(sources, site, Owner("site"), lambda line: None)
    except Exception as exc:  # a link to anything else is left as it is: MkDocs --strict reports it
        assert canary not in str(exc)
        assert not site.exists()
        assert any(link not in LINKS[:2] for link in links)
        return
    assert all(link in LINKS[:2] for link in links)
    published = _files(site)
    assert not any(canary.encode() in data for data in published.values())
    copied = sorted(p for p in published if p.startswith(f"{SOURCES}/"))
    assert copied == sorted(f"{SOURCES}/schemas/{Path(link).name}" for link in links)
    for path in copied:
        assert published[path] == (project / "schemas" / Path(path).name).read_bytes()


def test_a_linked_docs_page_is_not_published(tmp_path: Path) -> None:
    canary = f"CANARY-{uuid.uuid4().hex}"
    project = _site_project(tmp_path, [], canary)
    (project / "generated/docs/keys.md").symlink_to(project / "id_rsa")
    before = state(tmp_path)
    result = run_schemarel(project, "docs", "--site", "public")
    assert result.returncode == 1 and canary not in result.stdout + result.stderr
    assert "generated/docs/keys.md: a symbolic link" in result.stderr
    assert state(tmp_path) == before


def test_the_site_of_a_schema_linking_to_a_project_file(mermaid_cli: str, tmp_path: Path) -> None:
    """The issue's case end to end: a description link `[x](../../id_rsa)` publishes nothing of the file."""
    project = tmp_path / "project"
    shutil.copytree(REPO / "schemas", project / "schemas")
    schema = project / "schemas/customer.schema.json"
    data = json.loads(schema.read_text())
    data["description"] = "Keys: [x](../../id_rsa)"
    schema.write_text(json.dumps(data))
    canary = f"CANARY-{uuid.uuid4().hex}"
    (project / "id_rsa").write_text(f"{canary}\n")
    assert run_schemarel(project, "generate", env={"SOURCE_DATE_EPOCH": "0"}).returncode == 0
    result = run_schemarel(project, "docs", "--site", "public")
    assert canary not in result.stdout + result.stderr
    if (project / "public").exists():
        assert not any(canary.encode() in d for d in _files(project / "public").values())
        for path, data in _files(project / "public" / SOURCES).items():
            assert data == (project / path).read_bytes() and path.startswith("schemas/")
    else:
        assert result.returncode == 1 and "id_rsa" in result.stderr
