"""What one throughput case runs, and how its calls are timed: shared by the pytest process
(bench/test_throughput.py) and the replica processes (bench/replicas.py), so every process of a
case builds and times it the same way.

  build(case, plant)   (step, floor): step(k) runs k training steps, floor(kf) kf floor passes,
                       each blocking until the device is done
  warm(fn)             (K, seconds of a steady call of K, compile_seconds): compile and calibrate
  paired_rounds(...)   floor, warm-up step, (floor, step) x rounds, floor: the paired-round order
"""
from __future__ import annotations

import functools
import time

import numpy as np

import impls
from bench import frameworks, timing
from impls import Problem, Recipe


@functools.lru_cache(maxsize=2)
def data_of(n: int) -> impls.Data:
    """The seed's data drawn at size n: integers in [0, 1000), seed 0."""
    return impls.generate(Problem(n=n, x_max=timing.X_MAX, seed=timing.SEED))


def w0_of(E: int):
    """1.5, the seed's start, or E starts spread over [1.4, 1.7]."""
    return 1.5 if E == 1 else tuple(np.linspace(1.4, 1.7, E))


def build(c: timing.Case, plant: float | None = None):
    """(step, floor) of case ``c``, compile caches emptied first (``frameworks.fresh``); step is
    made ``plant`` times slower for real when given (``timing.planted``)."""
    frameworks.fresh(c.backend)
    recipe = Recipe(optimizer=c.optimizer, lr=timing.LR, w0=w0_of(c.E), steps=1, dtype=c.dtype)
    backend = impls.get(c.backend)
    runner = backend.prepare(data_of(c.n), recipe, c.variant, c.device)
    floor = backend.floor(data_of(c.n), np.asarray(w0_of(c.E), dtype=np.float64), c.dtype, c.device)
    step = runner.advance
    return (timing.planted(step, plant) if plant else step), floor


def timed(fn, k: int) -> float:
    """Seconds of one blocking call fn(k)."""
    t0 = time.perf_counter()
    fn(k)
    return time.perf_counter() - t0


def warm(fn) -> tuple[int, float, float]:
    """Compile and calibrate fn: (K, seconds of one steady call of K, compile_seconds)."""
    first, *steady = (timed(fn, timing.PROBE_K) for _ in range(3))
    call = min(steady)
    compile_seconds = max(0.0, first - call)
    k = timing.choose_k(call / timing.PROBE_K)
    if k != timing.PROBE_K:
        first_k, call = timed(fn, k), timed(fn, k)
        compile_seconds += max(0.0, first_k - call)
    return k, call, compile_seconds


def paired_rounds(step, k: int, floor, kf: int, rounds: int) -> tuple[list[float], list[float]]:
    """(step call seconds, floor call seconds) of ``rounds`` paired rounds, in the order the pytest
    process times them with pytest-benchmark: floor, warm-up step (not kept), then floor + step per
    round, and one floor after the last; the floor list has one entry more than the step list."""
    timed(floor, kf)
    timed(step, k)
    calls, floors = [], []
    for _ in range(rounds):
        floors.append(timed(floor, kf))
        calls.append(timed(step, k))
    floors.append(timed(floor, kf))
    return calls, floors
