"""`schemarel generate` on datamodel-code-generator's `large_models` schema against datamodel-codegen (models
only), and `schemarel check` against a bare `python -c 'import sqlalchemy'`; whole processes, ratios in one run.

    python benchmarks/generate.py [--repeat 5] [--datamodel-codegen PATH]

The schema is `../shared/perf/large_models.schema.json` (MIT, copied from datamodel-code-generator's tests;
see its README there), copied into a scratch project for each run. datamodel-codegen is looked up in
`--datamodel-codegen`, `$DATAMODEL_CODEGEN`, then `PATH` (install it into a separate virtual environment:
`pip install datamodel-code-generator==0.89.0`); without it that row says so and is skipped.

Every process runs as an installed package runs (`common.ENV`: modules compiled once, this machine's
PYTHONDONTWRITEBYTECODE aside), after one untimed run of each command, so that no side is timed compiling
its modules.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ENV, REPO, Row, print_table

SCHEMA = REPO.parent / "shared" / "perf" / "large_models.schema.json"


def schemarel_command() -> list[str]:
    script = Path(sys.executable).parent / "schemarel"
    return [str(script)] if script.exists() else [sys.executable, "-m", "schemarel.cli.main"]


def timed(command: list[str], cwd: Path, before: tuple[Path, ...] = ()) -> float:
    """Wall seconds of one run of `command` in `cwd` (the `before` paths removed first, untimed)."""
    for path in before:
        shutil.rmtree(path, ignore_errors=True)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, env=ENV)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return seconds


def find_codegen(given: str | None) -> str | None:
    return given or os.environ.get("DATAMODEL_CODEGEN") or shutil.which("datamodel-codegen")


def generate_rows(repeat: int, codegen: str | None) -> list[Row]:
    """generate on large_models (whole process, a fresh generated/ each run) against datamodel-codegen."""
    if not SCHEMA.is_file():
        return [("generate on large_models", "skipped", f"{SCHEMA} not found (../shared/perf)")]
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "schemas").mkdir()
        shutil.copy(SCHEMA, root / "schemas" / "large_models.schema.json")
        ours_cmd = [*schemarel_command(), "generate"]
        theirs_cmd = [codegen, "--input", str(SCHEMA), "--input-file-type", "jsonschema", "--output",
                      str(root / "models.py")] if codegen else None  # fmt: skip
        ours: list[float] = []
        theirs: list[float] = []
        timed(ours_cmd, root, (root / "generated",))  # untimed: each side's modules compiled before timing
        if theirs_cmd:
            timed(theirs_cmd, root)
        for _ in range(repeat):  # alternated, so that both meet the same load
            ours.append(timed(ours_cmd, root, (root / "generated",)))
            if theirs_cmd:
                theirs.append(timed(theirs_cmd, root))
        models = (root / "generated" / "models" / "large_models.py").read_text()
        tables = len(re.findall(r"^\s+__tablename__ = ", models, re.MULTILINE))
    ours_s = statistics.median(ours)
    label = f"schemarel generate, large_models (500 definitions): {tables} tables"
    if not theirs:
        return [(label, f"{ours_s:.2f} s", "datamodel-codegen not found: pass --datamodel-codegen")]
    theirs_s = statistics.median(theirs)
    return [
        ("datamodel-codegen 0.89.0 on large_models, models only", f"{theirs_s:.2f} s", "1.00×"),
        (label, f"{ours_s:.2f} s", f"{ours_s / theirs_s:.2f}× its time (goal ≤ 0.25×)"),
    ]


def check_rows(repeat: int) -> list[Row]:
    """`schemarel check` of this repository against a bare `import sqlalchemy` (whole processes)."""
    bare: list[float] = []
    check: list[float] = []
    timed([*schemarel_command(), "check"], REPO)  # untimed, as above
    for _ in range(repeat):
        bare.append(timed([sys.executable, "-c", "import sqlalchemy"], REPO))
        check.append(timed([*schemarel_command(), "check"], REPO))
    bare_s, check_s = statistics.median(bare), statistics.median(check)
    return [
        ("python -c 'import sqlalchemy'", f"{bare_s * 1e3:.0f} ms", "1.00×"),
        ("schemarel check (this repository)", f"{check_s * 1e3:.0f} ms", f"{check_s / bare_s:.2f}× (goal ≤ 1.2×)"),
    ]


def table_rows(args: argparse.Namespace) -> list[Row]:
    """The rows of `benchmarks/table.py`: generate against datamodel-codegen, check against `import sqlalchemy`."""
    return generate_rows(args.repeat, find_codegen(args.codegen)) + check_rows(args.repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--datamodel-codegen", dest="codegen", default=None)
    args = parser.parse_args()
    print_table(table_rows(args))


if __name__ == "__main__":
    main()
