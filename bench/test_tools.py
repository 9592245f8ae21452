"""The result-file tools, timed on the committed baseline: `paritybench compare` (target < 2 s,
interpreter start included), `paritybench plot` (target < 60 s for all pictures; full profile only) and the
`paritybench report` page with a baseline (target < 10 s, a page under 3 MB).

Each timed call is the whole command in a fresh interpreter, as a user runs it; extra_info
kind "tool". The baseline is the committed one that results/BASELINE names (``report.docs.baseline_path``).
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
    """Not in the quick profile (bench/conftest.py deselects at collection); `plot` in the full
    profile only: it trains the pictures' runs anew (the convergence grid alone 75 float64
    trainings, ~17 of its ~20 s), which kept the default run over its 6 minutes (#29)."""
    if test == "test_plot":
        return profile == "full"
    return profile != "quick"


@pytest.fixture(scope="module")
def baseline() -> Path:
    from paritybench.report.docs import baseline_path
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


def test_report(benchmark, baseline, tmp_path_factory):
    """`paritybench report RUN BASELINE --out page.html` on the committed baseline against itself (a
    default-profile run with a baseline: every figure, every verdict): target < 10 s, page < 3 MB."""
    outs = iter(tmp_path_factory.mktemp("pages") / f"page{i}.html" for i in range(10))
    pages = []

    def once():
        pages.append(next(outs))
        _command("report", str(baseline), str(baseline), "--out", str(pages[-1]))
    benchmark.pedantic(once, rounds=1, iterations=1)
    size = pages[-1].stat().st_size
    benchmark.extra_info.update(kind="tool", tool="report", files="two", input=baseline.name,
                                target_seconds=10.0, page_bytes=size)
    assert benchmark.stats.stats.median < 10.0, "report over its 10 s target"
    assert size < 3e6, f"report page {size / 1e6:.1f} MB, over 3 MB"
