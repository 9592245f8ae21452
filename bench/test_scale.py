"""Scale-out cases (kind "scale", docs/scale.md): data-parallel steps and sharded-ensemble sweeps
against P, each framework on its own engine through ``impls.launch`` (bench/studies/scale_study.py ``one``).

Full profile only: a case starts P processes (seconds of start-up each). Per case: P = 1 .. 2
(more with ``--processes-scale``'s default, min(2, CPUs)), one thread per rank, every CPU open to
the ranks. Recorded: seconds per step of the slowest rank (after one warm-up step), each rank's,
torch's time inside all_reduce (the communication share), the engine, P, and whether every rank
holds the same w. The benchmark's own timing is the whole launch (start-up included).
"""
from __future__ import annotations

import os

import pytest

from bench import frameworks
from bench.studies import scale_study

CASES = [pytest.param(b, shard, n, E, p, id=f"{b}-{shard}-n{n}-E{E}-P{p}")
         for b in ("torch", "jax")
         for shard, n, E in (("data", 1_000_000, 1), ("ensemble", scale_study.ENSEMBLE_N, scale_study.ENSEMBLE_E))
         for p in range(1, min(2, os.cpu_count() or 1) + 1)]
STEPS = {"data": 60, "ensemble": scale_study.ENSEMBLE_STEPS}


def in_profile(profile: str, test: str, params: dict) -> bool:
    """Only the full profile runs the scale-out cases (each starts P processes)."""
    return profile == "full"


@pytest.mark.parametrize("backend, shard, n, E, processes", CASES)
def test_scale(benchmark, backend, shard, n, E, processes):
    frameworks.skip_unless_runs(backend, "cpu")
    benchmark.group = f"scale {shard} n={n} E={E}"
    rows = []
    benchmark.pedantic(lambda: rows.append(scale_study.one(backend, n, processes, STEPS[shard], E)),
                       rounds=1, iterations=1)
    r = rows[-1]
    benchmark.extra_info.update(kind="scale", device="cpu", dtype="float32", **r)
    assert r["ranks_identical"], r
