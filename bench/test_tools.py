"""The result-file tools, timed on the committed baseline: `paritybench compare` (target < 2 s,
interpreter start included) and `paritybench plot` (target < 60 s for all pictures).

Each timed call is the whole command in a fresh interpreter, as a user runs it; extra_info
kind "tool". The baseline is the newest committed ``results/bench-*.json`` (``report.baseline_path``).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _command(*args: str) -> None:
    r = subprocess.run([sys.executable, "-m", "paritybench.cli", *args], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def in_profile(profile: str, test: str, params: dict) -> bool:
    """Not in the quick profile (bench/conftest.py deselects at collection)."""
    return profile != "quick"


@pytest.fixture(scope="module")
def baseline() -> Path:
    from paritybench.report import baseline_path
    try:
        return baseline_path(ROOT)
    except ValueError:
        pytest.skip("no committed results/bench-*.json to run the tools on")


@pytest.mark.parametrize("files", ["one", "two"])
def test_compare(benchmark, baseline, files):
    args = ["compare", str(baseline)] + ([str(baseline)] if files == "two" else [])
    benchmark.pedantic(_command, args=args, rounds=5, warmup_rounds=1, iterations=1)
    benchmark.extra_info.update(kind="tool", tool="compare", files=files, input=baseline.name,
                                target_seconds=2.0)
    assert benchmark.stats.stats.median < 2.0, "compare over its 2 s target"


def test_plot(benchmark, baseline, tmp_path_factory):
    outs = iter(tmp_path_factory.mktemp("plots") / f"run{i}" for i in range(10))
    benchmark.pedantic(lambda: _command("plot", str(baseline), "--out", str(next(outs))),
                       rounds=1, iterations=1)
    benchmark.extra_info.update(kind="tool", tool="plot", input=baseline.name, target_seconds=60.0)
    assert benchmark.stats.stats.median < 60.0, "plot over its 60 s target"
