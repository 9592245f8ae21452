"""A floor bounds its framework's steps: in every committed result, no step case (default or
tuned tier) runs below its own floor pass beyond noise (floor_ratio >= 0.9; issue #15). A step
that beats its floor means the floor is not the framework's cheapest pass over the data (on a GPU,
one dispatch per pass against a scan's one per 32 steps) and its ratios say nothing.

Cases timed in paired rounds only (``paired_ratios``: the floor timed in the same seconds as the
step). A file from before paired timing (results/README.md: bench-default-cpu2-20261124T223137)
holds ratios to a floor timed minutes apart, noisier than the 10% margin; its numpy float64 sgd
case reads 0.87."""
from __future__ import annotations

from pathlib import Path

import pytest

from paritybench.store import resultfile

ROOT = Path(__file__).resolve().parents[1]
RESULTS = sorted((ROOT / "results").glob("bench-*.json"))
NOISE = 0.9


@pytest.mark.parametrize("path", RESULTS, ids=[p.name for p in RESULTS])
def test_no_step_below_its_floor(path):
    run = resultfile.load(path, "run")
    steps = [c for c in run.cases.values() if c.kind in ("throughput", "tuned") and c.get("paired_ratios")]
    if not steps:
        pytest.skip(f"{path.name}: no case timed in paired rounds (a file from before paired timing)")
    below = [f"{c.name}: {c.get('floor_ratio'):.2f}" for c in steps
             if isinstance(c.get("floor_ratio"), (int, float)) and c.get("floor_ratio") < NOISE]
    assert steps and below == [], below


def test_the_baseline_is_among_the_checked():
    from paritybench.report import docs as report
    run = resultfile.load(report.baseline_path(), "baseline")
    assert sum(1 for c in run.cases.values() if c.kind in ("throughput", "tuned") and c.get("paired_ratios")) >= 50


@pytest.mark.parametrize("path", RESULTS, ids=[p.name for p in RESULTS])
def test_every_step_case_has_its_roofline(path):
    """A run that measured its copy bandwidth (``paritybench.bandwidth``, bench/bandwidth.py) gives
    every step case a roofline: bytes / bandwidth > 0, and the step's ratio to it."""
    import json
    raw = json.loads(path.read_text())
    bandwidth = (raw.get("paritybench") or {}).get("bandwidth")
    if not bandwidth:
        pytest.skip(f"{path.name}: no bandwidth measured (a file from before the roofline)")
    steps = [b["extra_info"] for b in raw["benchmarks"] if b["extra_info"].get("kind") in ("throughput", "tuned")]
    assert steps
    for e in steps:
        assert bandwidth[e["device"]]["bytes_per_second"] > 0
        assert e["roofline_seconds_per_step"] > 0
        assert e["roofline_ratio"] == pytest.approx(e["seconds_per_step"] / e["roofline_seconds_per_step"])
