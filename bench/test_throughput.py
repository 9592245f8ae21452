"""Step throughput: every backend x variant x device x dtype x n x optimizer x E, a floor beside each.

How one case is timed (``measure``):
  1. prepare the Runner (data on the device, step built); ``advance(k)`` blocks until the device
     work is done (block_until_ready / cuda.synchronize inside the backends);
  2. three probe calls of PROBE_K steps: the first compiles, the others estimate the step time;
  3. K = the power of two making a call >= CALL_TARGET (2 ms); if K != PROBE_K, two more calls
     at K (a scan compiles again for a new K); compile_seconds = sum of (first call - steady call);
  4. ``benchmark.pedantic(advance, (K,), rounds, warmup_rounds=1)``; the framework's compile events
     are counted around it: any trace or compile inside the timed region fails the case.
Floors (sum(sin(w x) + cos(w x)), ``Backend.floor``) are timed the same way, before the cases.
"""
from __future__ import annotations

import functools
import time

import numpy as np
import pytest

import impls
from bench import frameworks, timing
from impls import Problem, Recipe


def pytest_generate_tests(metafunc):
    s = metafunc.config.paritybench_settings  # validated in bench/conftest.py's pytest_configure
    if "case" in metafunc.fixturenames:
        cs = timing.cases(s["profile"], s["devices"], s["backends"])
        metafunc.parametrize("case", cs, ids=[c.id for c in cs])
    if "floor_case" in metafunc.fixturenames:
        fs = timing.floors(s["profile"], s["devices"], s["backends"])
        metafunc.parametrize("floor_case", fs, ids=[f.id for f in fs])


@functools.lru_cache(maxsize=2)
def data_of(n: int) -> impls.Data:
    """The seed's data drawn at size n: integers in [0, 1000), seed 0."""
    return impls.generate(Problem(n=n, x_max=timing.X_MAX, seed=timing.SEED))


def w0_of(E: int):
    """1.5, the seed's start, or E starts spread over [1.4, 1.7]."""
    return 1.5 if E == 1 else tuple(np.linspace(1.4, 1.7, E))


def require(backend: str, device: str) -> None:
    frameworks.skip_unless_runs(backend, device)


def _timed(fn, k: int) -> float:
    t0 = time.perf_counter()
    fn(k)
    return time.perf_counter() - t0


def measure(benchmark, fn, backend: str, compiles: bool, budget: float):
    """Time fn(k) (blocking) honestly; returns (K, seconds of each timed call, compile_seconds)."""
    c0 = frameworks.compile_events(backend)
    first, *steady = (_timed(fn, timing.PROBE_K) for _ in range(3))
    call = min(steady)
    compile_seconds = max(0.0, first - call)
    k = timing.choose_k(call / timing.PROBE_K)
    if k != timing.PROBE_K:
        first_k, call = _timed(fn, k), _timed(fn, k)
        compile_seconds += max(0.0, first_k - call)
    graphs = frameworks.compile_events(backend) - c0
    if compiles and graphs == 0:
        _fail(benchmark, f"{backend}: no compile event during warm-up: the variant ran uncompiled")
    before = frameworks.compile_events(backend)
    benchmark.pedantic(fn, args=(k,), rounds=timing.choose_rounds(call, budget),
                       warmup_rounds=1, iterations=1)
    after = frameworks.compile_events(backend)
    if after != before:
        _fail(benchmark, f"{backend}: {after - before} trace/compile events inside the timed region "
                         f"(a recompilation at K={k})")
    if benchmark.disabled or not benchmark.stats:
        return k, None, compile_seconds
    return k, list(benchmark.stats.stats.data), compile_seconds


def _fail(benchmark, why: str) -> None:
    """Fail the case; its timings stay in the JSON marked kind='failed' with the reason."""
    benchmark.extra_info.update(kind="failed", failure=why)
    pytest.fail(why)


def _check_harness(benchmark, info: dict) -> None:
    if info["harness_fraction"] > timing.HARNESS_LIMIT:
        _fail(benchmark, f"harness is {info['harness_fraction']:.1%} of a call (limit "
                         f"{timing.HARNESS_LIMIT:.0%}): K={info.get('steps_per_call', info.get('passes_per_call'))}")


def _time_case(benchmark, fn, backend: str, compiles: bool, settings: dict, harness: float, info_of):
    """measure() fn, then record info_of(K, calls, compile_seconds, threads, harness) and check it."""
    k, calls, compile_s = measure(benchmark, fn, backend, compiles, timing.CASE_BUDGET[settings["profile"]])
    if calls is None:
        return
    info = info_of(k, calls, compile_s, settings["threads"], harness)
    benchmark.extra_info.update(info)
    _check_harness(benchmark, info)


def test_floor(benchmark, floor_case, bench_settings, harness_seconds):
    """The framework's cheapest fused pass over the case's data: k x sum(sin(w x) + cos(w x))."""
    f = floor_case
    require(f.backend, f.device)
    frameworks.fresh(f.backend)
    benchmark.group = f"floor {f.device} {f.dtype} n={f.n} E={f.E}"
    backend = impls.get(f.backend)
    run = backend.floor(data_of(f.n), np.asarray(w0_of(f.E), dtype=np.float64), f.dtype, f.device)
    _time_case(benchmark, run, f.backend, f.backend != "reference", bench_settings, harness_seconds,
               lambda *a: timing.floor_info(f, *a))


def test_step(benchmark, case, bench_settings, harness_seconds):
    """K training steps of one backend/variant per timed call, history recorded as in training."""
    c = case
    require(c.backend, c.device)
    frameworks.fresh(c.backend)
    benchmark.group = f"step {c.device} {c.dtype} n={c.n} {c.optimizer} E={c.E}"
    recipe = Recipe(optimizer=c.optimizer, lr=timing.LR, w0=w0_of(c.E), steps=1, dtype=c.dtype)
    runner = impls.get(c.backend).prepare(data_of(c.n), recipe, c.variant, c.device)
    compiles = c.variant in ("compiled", "jit", "scan")
    _time_case(benchmark, runner.advance, c.backend, compiles, bench_settings, harness_seconds,
               lambda *a: timing.step_info(c, *a))
