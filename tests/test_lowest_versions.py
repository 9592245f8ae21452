"""The bench plumbing at the lowest versions declared in pyproject.toml (issue #15): pytest 8.3.5
with pytest-benchmark 5.2.3, which hands --benchmark-json over as a file argparse already opened
(a GPU host's stock packages). Both are installed into a temporary target directory put ahead of
the venv's (pip --no-deps --target); the run must write the JSON, new, and it must load."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from paritybench.store import resultfile

ROOT = Path(__file__).resolve().parents[1]
LOWEST = ("pytest==8.3.5", "pytest-benchmark==5.2.3")


@pytest.fixture(scope="module")
def lowest(tmp_path_factory):
    target = tmp_path_factory.mktemp("lowest")
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                        *LOWEST], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        pytest.skip(f"pip could not install {' '.join(LOWEST)} here: {r.stderr.strip().splitlines()[-1:]}")
    return target


def test_pyproject_declares_these_lowest_versions():
    text = (ROOT / "pyproject.toml").read_text()
    assert '"pytest>=8.3.5"' in text and '"pytest-benchmark>=5.2.3"' in text


def test_bench_writes_its_json_with_pytest_benchmark_5_2(lowest, tmp_path):
    out = tmp_path / "run.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(lowest), str(ROOT)]))
    r = subprocess.run([sys.executable, "-m", "pytest", "bench", "--benchmark-only", "-p", "no:cacheprovider",
                        "--profile", "quick", "--device", "cpu", "--backend", "reference",
                        "-k", "test_step or test_floor", "--benchmark-json", str(out)],
                       cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    versions = subprocess.run([sys.executable, "-c", "import pytest, pytest_benchmark; "
                               "print(pytest.__version__, pytest_benchmark.__version__)"],
                              capture_output=True, text=True, env=env).stdout.split()
    assert versions == ["8.3.5", "5.2.3"]
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    run = resultfile.load(out, "run")
    assert run.version == "5.2.3" and len(run.of_kind("throughput")) == 2 and len(run.of_kind("floor")) == 2
