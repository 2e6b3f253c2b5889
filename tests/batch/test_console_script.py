"""``citycheck batch`` on a local cluster of two workers, started as a user starts it: the
installed console script and ``python -m citycheck``.

Each local worker is forked from the fork server and then re-imports the main module of the
command (the console script, which imports the entry point's module); that import must neither
start another fork server (the console script used to fail: "Nanny failed to start") nor import the
whole command line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyrosm
import pytest

from conftest import shared_data

ROOT = Path(__file__).resolve().parents[2]
#: pip's console-script template (``pip/_vendor/distlib/scripts.py``) for an entry point.
SCRIPT = """#!{python}
import sys
from {module} import {function}
if __name__ == '__main__':
    sys.argv[0] = sys.argv[0].removesuffix('.exe')
    sys.exit({function}())
"""


def _console_script() -> Path:
    beside = Path(sys.executable).parent / "citycheck"
    found = beside if beside.exists() else shutil.which("citycheck")
    if found is None:
        pytest.skip("no citycheck console script installed")
    return Path(found)


def _manifest(folder: Path) -> Path:
    """Two small real study areas."""
    sample = Path(pyrosm.__file__).parent / "data" / "test.osm.pbf"
    bupt = shared_data("osm", "beijing-haidian-bupt.osm.pbf")
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "cities.toml"
    manifest.write_text(
        f'[[city]]\nid = "bupt"\npbf = "{bupt.as_posix()}"\n\n'
        f'[[city]]\nid = "kouvola"\npbf = "{sample.as_posix()}"\n',
        "utf-8",
    )
    return manifest


def _batch(program: list[str], tmp_path: Path, *extra: str) -> tuple[dict[str, str], Path]:
    """Run ``program batch`` on two workers; the status of each city and the output folder."""
    out = tmp_path / "out"
    env = {**os.environ}
    # the console script imports citycheck from the install; this checkout's sources and the
    # test jobs come first (the workers inherit the variable)
    paths = [str(ROOT / "src"), str(ROOT / "tests" / "batch"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    args = ["batch", str(_manifest(tmp_path / "areas")), "--out", str(out), "--workers", "2"]
    done = subprocess.run(
        [*program, *args, "--no-progress", "--draws", "50", *extra],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Nanny failed" not in done.stderr and "bootstrapping" not in done.stderr
    status = json.loads((out / "batch.json").read_text("utf-8"))
    return {c["id"]: c["status"] for c in status["cities"]}, out


@pytest.mark.parametrize("how", ["console script", "python -m citycheck"])
def test_batch_on_two_workers(tmp_path, how):
    if how == "console script":
        program = [str(_console_script())]
    else:
        program = [sys.executable, "-m", "citycheck"]
    statuses, out = _batch(program, tmp_path)
    assert statuses == {"bupt": "done", "kouvola": "done"}
    assert (out / "comparison" / "comparison.csv").exists()


def test_workers_of_the_entry_point_do_not_import_the_command_line(tmp_path):
    # the console script pip writes for citycheck.__main__:main (the entry point to install)
    script = tmp_path / "bin" / "citycheck"
    script.parent.mkdir()
    script.write_text(SCRIPT.format(python=sys.executable, module="citycheck.__main__",
                                    function="main"), "utf-8")  # fmt: skip
    script.chmod(0o755)
    statuses, out = _batch([str(script)], tmp_path, "--job", "batch_jobs:modules_job")
    assert statuses == {"bupt": "done", "kouvola": "done"}
    for city in statuses:
        (record,) = (out / city).rglob("modules.json")
        assert json.loads(record.read_text("utf-8")) == {"citycheck.cli": False, "typer": False}
