"""What one throughput case runs, and how its calls are timed: shared by the pytest process
(bench/test_throughput.py) and the replica processes (bench/replicas.py), so every process of a
case builds and times it the same way.

  build_floor(case)    floor(kf): kf floor passes over the case's data, blocking
  build_op(op)         fn(k): k passes of one building block (impls.spec.OPS), blocking
  build_step(case)     (runner, step): step(k) runs k training steps, blocking
  (a ``matrix.ModelCase``: a model under impls/contract.py, its module's ``prepare`` and ``floor``)
  memory_info(...)     extra_info['memory']: peak RSS added, and what the framework reports
  warm(fn)             (K, seconds of a steady call of K, compile_seconds): compile and calibrate
  paired_rounds(...)   floor, warm-up step, (floor, step) x rounds, floor: the paired-round order;
                       with a target, the rounds stop once the median ratio's CI is that tight
"""
from __future__ import annotations

import dataclasses
import functools
import importlib
import time

import numpy as np

import impls
from bench import frameworks, matrix, timing
from impls import Problem, Recipe
from impls.contract import Train


@functools.lru_cache(maxsize=2)
def data_of(n: int) -> impls.Data:
    """The seed's data drawn at size n: integers in [0, 1000), seed 0."""
    return impls.generate(Problem(n=n, x_max=matrix.X_MAX, seed=matrix.SEED))


def w0_of(E: int):
    """1.5, the seed's start, or E starts spread over [1.4, 1.7]."""
    return 1.5 if E == 1 else tuple(np.linspace(1.4, 1.7, E))


def build_floor(c: matrix.Case | matrix.Floor | matrix.Op):
    """floor(kf): kf floor passes over the data of case, floor or op ``c``, blocking; compile caches
    emptied first (``frameworks.fresh``). The floor of a tuned-tier case or op is its tier's sin + cos
    pass (op "sincos" of the tier); a step case builds it before the step, outside its memory window.
    A model case's floor is its framework module's ``floor(config, dtype, device)``."""
    frameworks.fresh(c.backend)
    if isinstance(c, matrix.ModelCase):
        _, cfg, module = model_of(c)
        return module.floor(cfg, c.dtype, c.device)
    w = np.asarray(w0_of(c.E), dtype=np.float64)
    return impls.get(c.backend).op(data_of(c.n), w, c.dtype, c.device, "sincos", getattr(c, "tier", "default"))


def build_op(o: matrix.Op):
    """fn(k): k fused passes of op case ``o`` (its framework, tier and op) over the data, blocking;
    built after ``build_floor(o)``, which emptied the compile caches."""
    return impls.get(o.backend).op(data_of(o.n), np.asarray(w0_of(o.E), dtype=np.float64), o.dtype,
                                   o.device, o.op, o.tier)


def build_step(c: matrix.Case, plant: float | None = None):
    """(runner, step) of case ``c``: step(k) = runner.advance(k), made ``plant`` times slower for
    real when given (``timing.planted``). A model case: its framework module's ``prepare`` of the
    model's recipe (``Model.optim`` with the case's optimizer), seed ``matrix.SEED``, from the
    model's canonical initial parameters."""
    if isinstance(c, matrix.ModelCase):
        model, cfg, module = model_of(c)
        train = Train(optim=dataclasses.replace(model.optim, optimizer=c.optimizer), seed=matrix.SEED,
                      steps=MODEL_STEPS, dtype=c.dtype)
        runner = module.prepare(cfg, train, c.variant, c.device)
        return runner, (timing.planted(runner.advance, plant) if plant else runner.advance)
    recipe = Recipe(optimizer=c.optimizer, lr=matrix.LR, w0=w0_of(c.E), steps=1, dtype=c.dtype)
    runner = impls.get(c.backend).prepare(data_of(c.n), recipe, c.variant, c.device)
    step = runner.advance
    return runner, (timing.planted(step, plant) if plant else step)


MODEL_STEPS = 1  # a model case's Train.steps: its runner advances as far as the timing asks


def model_of(c: matrix.ModelCase):
    """(Model, validated config, framework module) of a model case; the module's framework is
    imported here."""
    from impls import models
    model = models.get(c.model)
    return model, model.config(**dict(c.config)), models.get_backend(model, c.backend)


def model_flops(c: matrix.ModelCase) -> float | None:
    """The model's FLOPs per step at the case's config (its spec module's ``flops``), None if it
    gives none."""
    model, cfg, _ = model_of(c)
    flops = getattr(importlib.import_module(model.config.__module__), "flops", None)
    return float(flops(cfg)) if flops else None


def memory_info(peak_rss_increase: int | None, runner) -> dict:
    """extra_info['memory'] of a case: the peak RSS it added (bench/memory.py; CPU memory of every
    backend, a lower bound) and what the framework reports (``Runner.memory``)."""
    return {"peak_rss_increase_bytes": peak_rss_increase, **(runner.memory() if hasattr(runner, "memory") else {})}


def timed(fn, k: int) -> float:
    """Seconds of one blocking call fn(k)."""
    t0 = time.perf_counter()
    fn(k)
    return time.perf_counter() - t0


def warm(fn, k: int | None = None) -> tuple[int, float, float]:
    """Compile and calibrate fn: (K, seconds of one steady call of K, compile_seconds). With ``k``
    (a replica: the pytest process already chose K for this case) two calls of k: the compiling
    one and a steady one."""
    if k is not None:
        first, call = timed(fn, k), timed(fn, k)
        return k, call, max(0.0, first - call)
    first, *steady = (timed(fn, timing.PROBE_K) for _ in range(3))
    call = min(steady)
    compile_seconds = max(0.0, first - call)
    k = timing.choose_k(call / timing.PROBE_K)
    if k != timing.PROBE_K:
        first_k, call = timed(fn, k), timed(fn, k)
        compile_seconds += max(0.0, first_k - call)
    return k, call, compile_seconds


def paired_rounds(step, k: int, floor, kf: int, rounds: int,
                  target: float | None = None) -> tuple[list[float], list[float]]:
    """(step call seconds, floor call seconds) of at most ``rounds`` paired rounds, in the order the
    pytest process times them with pytest-benchmark: floor, warm-up step (not kept), then floor +
    step per round, and one floor after the last; the floor list has one entry more than the step
    list. With ``target``, sequential stopping: the rounds end as soon as ``timing.settled`` holds
    for the ratios so far (each round's closing floor is the next one's opening floor)."""
    timed(floor, kf)
    timed(step, k)
    calls, floors = [], [timed(floor, kf)]
    while len(calls) < rounds:
        calls.append(timed(step, k))
        floors.append(timed(floor, kf))
        if target is not None and timing.settled(timing.paired_ratios(calls, k, floors, kf), target):
            break
    return calls, floors
