"""Methods, timed: the curriculum's time to solution, and the convergence map in trainings/second.

time_to_solution  one full ``methods.train("curriculum", ...)`` from w0 = 1.5 (prepare and
                  first-call compile of every stage included: that is what solving costs), after
                  one warm-up call (on-disk compile caches warm). x_max 1e6 in float32 (the full
                  profile: 1e3 and 1e4 too, and float64), every backend/variant. extra_info kind "method": outcome, steps, stages; the
                  outcome must be "solved" (asserted after timing, so a failure is recorded).
sweep             (full profile only) one map cell = E = PARITYBENCH_SWEEP_E (default 1024, full profile 4096) trainings of 100 steps at
                  n = 1000 in the backend's batched form (one ensemble: torch broadcasting,
                  jax.vmap); the timed call is ``advance(100)`` on a prepared runner (compile
                  outside, a scan's for its length 100 too), beside the backend's ``floor`` (100 fused passes of sin+cos over the
                  same n x E, timed over 10 passes): extra_info trainings_per_second and
                  floor_ratio; in the full profile then the map cells (x_max 1e3, 1e6 x
                  plain/scaled/curriculum) with their fraction solved over MAP_E (4096) starting weights.
"""
from __future__ import annotations

import os
import statistics
import time

import numpy as np
import pytest

from bench import frameworks

import impls
from impls import Problem, Recipe, methods, registry
from impls.outcome import classify

RUNS = (("reference", "numpy"), ("torch", "eager"), ("torch", "compiled"), ("jax", "jit"), ("jax", "scan"))
# Trainings per sweep call: at the default's 1024, n x E = 1e6 elements a step (throughput-bound, as
# at 4096) in a quarter of the time.
SWEEP_E = {"quick": 1024, "default": 1024, "full": 4096}
ROUNDS = {"quick": 2, "default": 2, "full": 5}  # timed calls per case: each lasts 0.1 to 8 s
MAP_E = {"full": 4096}  # starting weights per map cell; the map runs in the full profile only (no figure reads it)


def sweep_e(profile: str) -> int:
    """E of the sweep: PARITYBENCH_SWEEP_E if set, else the profile's ``SWEEP_E``."""
    return int(os.environ.get("PARITYBENCH_SWEEP_E") or SWEEP_E[profile])


def _profile(request) -> str:
    try:
        return request.getfixturevalue("profile")
    except pytest.FixtureLookupError:
        return "default"


def _skip_unless(request, backend, device):
    try:
        chosen = request.getfixturevalue("bench_settings")
    except pytest.FixtureLookupError:
        chosen = {}
    frameworks.skip_unless_runs(backend, device, chosen)


def in_profile(profile: str, test: str, params: dict) -> bool:
    """Whether the case belongs to ``profile``: the default times x_max = 1e6 in float32 alone
    (float64's cold compile cost a fresh clone's default run ~12 s, over its 6 minutes; the full
    profile times both dtypes; bench/conftest.py deselects the others at collection)."""
    if profile == "quick":
        return False  # the quick profile answers the throughput question alone
    if test == "test_sweep":  # full only: the default matrix times every backend at n = 1e3, E = 1024
        return profile == "full"  # already (~21 s of compiles a default run could not pay for)
    return profile == "full" or test != "test_time_to_solution" or (params["x_max"] == 10**6
                                                                      and params["dtype"] == "float32")


@pytest.mark.parametrize("x_max", [1000, 10**4, 10**6])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("backend,variant", RUNS)
@pytest.mark.parametrize("device", ["cpu", "gpu"])
def test_time_to_solution(benchmark, request, device, backend, variant, dtype, x_max):
    _skip_unless(request, backend, device)
    dev = device if backend != "reference" else "cpu"
    data = impls.generate(Problem(n=1000, x_max=x_max))
    recipe = Recipe(lr=1.0, w0=1.5, dtype=dtype)
    t0 = time.perf_counter()
    methods.train("curriculum", backend, data, recipe, variant, dev, x_max=x_max)  # warm-up
    cold = time.perf_counter() - t0
    traj = benchmark.pedantic(methods.train, args=("curriculum", backend, data, recipe, variant, dev),
                              kwargs={"x_max": x_max}, rounds=ROUNDS[_profile(request)], iterations=1)
    out = classify(traj, data)
    benchmark.extra_info.update({
        "kind": "method", "method": "curriculum", "backend": backend, "variant": variant, "device": device,
        "dtype": dtype, "x_max": x_max, "n": 1000, "w0": 1.5, "outcome": out[0], "steps": traj.steps,
        "stages": [s["x_max"] for s in traj.meta["stages"]], "final_w": float(traj.w[-1, 0]),
        "step_seconds": traj.seconds, "first_call_seconds": cold,
        "timed": "methods.train curriculum: every stage's prepare + compile + steps"})
    assert out == ["solved"], f"{backend}-{variant} {dtype} x_max={x_max}: {out[0]}"


def _median_seconds(fn, rounds=3):
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


@pytest.mark.parametrize("dtype", ["float32"])
@pytest.mark.parametrize("backend,variant", RUNS)
@pytest.mark.parametrize("device", ["cpu", "gpu"])
def test_sweep(benchmark, request, device, backend, variant, dtype):
    _skip_unless(request, backend, device)
    dev = device if backend != "reference" else "cpu"
    steps, E = 100, sweep_e(_profile(request))
    data = impls.generate(Problem(n=1000, x_max=1000))
    w0 = tuple(np.linspace(1.0, 2.1, E))
    recipe = Recipe(lr=4e-4, w0=w0, steps=steps, dtype=dtype)
    mod = registry.get(backend)
    warm = mod.prepare(data, recipe, variant, dev)
    warm.advance(2)  # compile outside the timed call
    if getattr(warm, "fused", False):  # a scan compiles per length: for advance(steps) too (it was
        warm.advance(steps)            # inside the first timed call: 6% of jax-scan's first round)

    def setup():  # a fresh runner per round, its first (compiling) step taken outside the timed call
        runner = mod.prepare(data, recipe, variant, dev)
        runner.advance(1)
        return (runner,), {}

    benchmark.pedantic(lambda r: r.advance(steps), setup=setup, rounds=ROUNDS[_profile(request)], iterations=1)
    seconds = benchmark.stats.stats.median
    floor = mod.floor(data, np.asarray(w0), dtype, dev)
    floor(1)  # compile
    floor_seconds = _median_seconds(lambda: floor(10)) * steps / 10  # per pass x steps
    info = {"kind": "method", "method": "sweep", "backend": backend, "variant": variant, "device": device,
            "dtype": dtype, "n": 1000, "ensemble": E, "steps": steps,
            "trainings_per_second": E / seconds, "sample_steps_per_second": E * 1000 * steps / seconds,
            "floor_seconds": floor_seconds, "floor_ratio": seconds / floor_seconds}
    if variant in ("eager", "scan", "numpy") and _profile(request) in MAP_E:  # the map itself, once per backend
        t0 = time.perf_counter()
        cells = [c for m, lr in (("plain", 4e-4), ("scaled", 1.0), ("curriculum", 1.0))
                 for c in methods.convergence_map(backend, [1000, 10**6], [lr], [m], variant,
                                                  MAP_E[_profile(request)], steps, 1000, dtype, device=dev)]
        info["map"] = cells
        info["map_seconds"] = time.perf_counter() - t0
    benchmark.extra_info.update(info)
