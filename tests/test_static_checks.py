"""The linter, the formatter and the type checker are clean on the repository.

Each tool runs as a subprocess from the repository root with the interpreter running the tests
(ruff and mypy come with the ``dev`` extras), exactly as a developer would run it; a failure
shows the tool's own report.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHECKS = {
    "ruff check": ["ruff", "check", "src", "tests", "bench"],
    "ruff format": ["ruff", "format", "--check", "src", "tests", "bench"],
    "mypy": ["mypy", "src/citycheck"],
}


def run_tool(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``python -m <tool> ...`` in the repository root and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CHECKS))
def test_tool_reports_no_problem(name: str) -> None:
    args = CHECKS[name]
    done = run_tool(args)
    code = done.returncode
    assert code == 0, f"`{' '.join(args)}` exited with {code}:\n{done.stdout}\n{done.stderr}"
