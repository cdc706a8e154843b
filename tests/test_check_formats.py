"""`schemarel check --format github|json`: one annotation per stale file or missing revision, a JSON report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from schemarel.cli.reports import _annotation, first_changed_line


def _add_property(project: Path) -> None:
    path = project / "schemas/profile.schema.json"
    schema = json.loads(path.read_text())
    schema["properties"]["nickname"] = {"type": "string", "description": "Shown name."}
    path.write_text(json.dumps(schema, indent=2))


def test_current_tree_reports_nothing(project: Path, cli: Any) -> None:
    github = cli(project, "check", "--format", "github")
    assert github.exit_code == 0 and "::error" not in github.stdout
    report = json.loads(cli(project, "check", "--format", "json").stdout)
    assert report == {"status": "current", "out_dir": "generated", "missing_revision": [], "files": []}


def test_github_annotations_name_each_stale_file_and_the_unrevised_schema(project: Path, cli: Any) -> None:
    _add_property(project)
    (project / "generated/models/customer.py").unlink()
    (project / "generated/models/stray.py").write_text("# not generated\n")
    result = cli(project, "check", "--format", "github")
    assert result.exit_code == 1
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
    files = [line.split("file=")[1].split(",")[0] for line in annotations]
    assert files == [
        "schemas/profile.schema.json",
        "generated/docs/index.md",
        "generated/docs/profile.md",
        "generated/documents/profile.py",
        "generated/models/customer.py",
        "generated/models/profile.py",
        "generated/models/stray.py",
        "generated/schemas/profile.schema.json",
    ]
    assert "title=missing migration revision::" in annotations[0]
    docs = (project / "generated/docs/profile.md").read_text().splitlines()
    line = int(annotations[2].split("line=")[1].split("::")[0].split(",")[0])
    assert docs[line - 1].strip() == "timestamptz created_at"  # the new column goes right before it
    assert "::group::" in result.stdout and "+        text nickname" in result.stdout


def test_json_report(project: Path, cli: Any) -> None:
    _add_property(project)
    result = cli(project, "check", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["status"] == "stale"
    assert report["missing_revision"] == ["schemas/profile.schema.json"]
    by_path = {f["path"]: f for f in report["files"]}
    assert set(by_path) == {
        "generated/docs/index.md",
        "generated/docs/profile.md",
        "generated/documents/profile.py",
        "generated/models/profile.py",
        "generated/schemas/profile.schema.json",
    }
    assert by_path["generated/models/profile.py"]["kind"] == "changed"
    assert "+    nickname: Mapped[str | None]" in by_path["generated/models/profile.py"]["diff"]


def test_schema_errors_keep_the_format_and_exit_2(project: Path, cli: Any) -> None:
    (project / "schemas/broken.schema.json").write_text('{"type": "object",')
    github = cli(project, "check", "--format", "github")
    assert github.exit_code == 2
    assert github.stdout.startswith("::error file=schemas/broken.schema.json,title=schemarel::")
    report = json.loads(cli(project, "check", "--format", "json").stdout)
    assert report["status"] == "error" and report["error"]["file"] == "schemas/broken.schema.json"


def test_annotation_escaping_keeps_one_line() -> None:
    text = _annotation("error", {"file": "a,b:c.md", "title": "t"}, "50% done\nnext line")
    assert text == "::error file=a%2Cb%3Ac.md,title=t::50%25 done%0Anext line"


def test_first_changed_line_skips_context() -> None:
    diff = "--- a\n+++ b\n@@ -10,7 +10,8 @@\n x\n y\n z\n-old\n+new\n"
    assert first_changed_line(diff) == 13
