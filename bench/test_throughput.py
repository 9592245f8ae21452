"""Step throughput: every backend x variant x device x dtype x n x optimizer x E, a floor beside each;
and the steps of the models under impls/contract.py (``test_model_step``, kind "model-throughput").

How one case is timed (``measure``):
  1. prepare the Runner (data on the device, step built); ``advance(k)`` blocks until the device
     work is done (block_until_ready / cuda.synchronize inside the backends);
  2. three probe calls of PROBE_K steps: the first compiles, the others estimate the step time;
  3. K = the power of two making a call >= CALL_TARGET (2 ms); if K != PROBE_K, two more calls
     at K (a scan compiles again for a new K); compile_seconds = sum of (first call - steady call);
  4. paired rounds: the same framework's floor pass (sum(sin(w x) + cos(w x)), ``Backend.floor``;
     a tuned-tier case: its tier's sin + cos pass, ``Backend.op(.., "sincos", "tuned")``),
     prepared and warmed the same way, Kf passes per call) is timed before each round and once after
     the last (pytest-benchmark's ``setup`` hook, outside the case's timed call), so each round
     gives a ratio step / floor measured in the same second (``timing.paired_info``);
     ``benchmark.pedantic(advance, rounds, warmup_rounds=1)`` (rounds fixed before they start: the
     budget's ``timing.PYTEST_BUDGET_SHARE``; the replica processes stop sequentially, ``timing.settled``) keeps pytest-benchmark's own stats of
     the step. The framework's compile events are counted around it: any trace or compile inside
     the timed rounds fails the case.
Floors are also timed alone (test_floor): the fastest floor of any framework per shape gives
floor_ratio_best. PARITYBENCH_PLANT='CASE_ID=1.3' slows a case for real (``timing.planted``), to
test the gate.
"""
from __future__ import annotations

import importlib.util

import pytest

from bench import frameworks, matrix, runners, timing
from bench.memory import PeakRSS
from impls import models


def pytest_generate_tests(metafunc):
    s = metafunc.config.paritybench_settings  # validated in bench/conftest.py's pytest_configure
    if "case" in metafunc.fixturenames:
        cs = matrix.cases(s["profile"], s["devices"], s["backends"])
        metafunc.parametrize("case", cs, ids=[c.id for c in cs])
    if "model_case" in metafunc.fixturenames:
        ms = matrix.model_cases(s["profile"], s["devices"], s["backends"])
        metafunc.parametrize("model_case", ms, ids=[c.id for c in ms])
    if "floor_case" in metafunc.fixturenames:
        fs = matrix.floors(s["profile"], s["devices"], s["backends"])
        metafunc.parametrize("floor_case", fs, ids=[f.id for f in fs])


def require(backend: str, device: str) -> None:
    frameworks.skip_unless_runs(backend, device)


def require_model(c: matrix.ModelCase) -> None:
    """Skip, saying so, when the model's module for the case's backend is not in this checkout
    (a model whose backends are still being written); a module that fails to import fails."""
    module = models.get(c.model).backends.get(c.backend)
    if module is None or importlib.util.find_spec(module) is None:
        pytest.skip(f"{c.model}: no {c.backend} module ({module}) in this checkout")


def measure(benchmark, fn, backend: str, compiles: bool, budget: float, floor=None):
    """Time fn(k) (blocking) honestly; returns (K, seconds of each timed call, compile_seconds,
    paired) with paired = (Kf, floor call seconds, one more than the rounds) when ``floor`` is
    given (a blocking floor(kf) timed between the rounds), else None."""
    c0 = frameworks.compile_events(backend)
    k, call, compile_seconds = runners.warm(fn)
    kf, floor_call = runners.warm(floor)[:2] if floor is not None else (0, 0.0)
    graphs = frameworks.compile_events(backend) - c0
    if compiles and graphs == 0:
        _fail(benchmark, f"{backend}: no compile event during warm-up: the variant ran uncompiled")
    floor_calls = []

    def floor_round():  # runs before each round (warm-up included), outside the timed call
        floor_calls.append(runners.timed(floor, kf))

    before = frameworks.compile_events(backend)
    benchmark.pedantic(fn, args=(k,), rounds=timing.choose_rounds(call + floor_call, budget),
                       warmup_rounds=1, iterations=1, setup=floor_round if floor else None)
    if floor is not None:
        floor_round()  # the last round's other side
    after = frameworks.compile_events(backend)
    if after != before:
        _fail(benchmark, f"{backend}: {after - before} trace/compile events inside the timed region "
                         f"(a recompilation at K={k})")
    if benchmark.disabled or not benchmark.stats:
        return k, None, compile_seconds, None
    calls = list(benchmark.stats.stats.data)
    # floor_calls[0] preceded the warm-up round: drop it, keep one before each timed round + the last
    return k, calls, compile_seconds, ((kf, floor_calls[1:]) if floor is not None else None)


def _fail(benchmark, why: str) -> None:
    """Fail the case; its timings stay in the JSON marked kind='failed' with the reason."""
    benchmark.extra_info.update(kind="failed", failure=why)
    pytest.fail(why)


def _check_harness(benchmark, info: dict) -> None:
    if info["harness_fraction"] > timing.HARNESS_LIMIT:
        _fail(benchmark, f"harness is {info['harness_fraction']:.1%} of a call (limit "
                         f"{timing.HARNESS_LIMIT:.0%}): K={info.get('steps_per_call', info.get('passes_per_call'))}")


def _time_case(benchmark, fn, backend: str, compiles: bool, settings: dict, harness: float, info_of,
               floor=None):
    """measure() fn (paired with ``floor`` if given), then record info_of(K, calls, compile_seconds,
    threads, harness) plus the paired ratios, and check it."""
    k, calls, compile_s, paired = measure(benchmark, fn, backend, compiles,
                                          timing.CASE_BUDGET[settings["profile"]] * timing.PYTEST_BUDGET_SHARE, floor)
    if calls is None:
        return
    info = info_of(k, calls, compile_s, settings["threads"], harness)
    if paired is not None:
        info.update(timing.paired_info(calls, k, paired[1], paired[0]))
    benchmark.extra_info.update(info)
    _check_harness(benchmark, info)


def test_floor(benchmark, floor_case, bench_settings, harness_seconds):
    """The framework's cheapest fused pass over the case's data: k x sum(sin(w x) + cos(w x))."""
    f = floor_case
    require(f.backend, f.device)
    benchmark.group = f"floor {f.device} {f.dtype} n={f.n} E={f.E}"
    _time_case(benchmark, runners.build_floor(f), f.backend, f.backend != "reference", bench_settings, harness_seconds,
               lambda *a: timing.floor_info(f, *a))


def test_step(benchmark, case, bench_settings, harness_seconds):
    """K training steps of one backend/variant per timed call, history recorded as in training,
    in rounds paired with the framework's floor pass (the replica processes time it again after
    the last case: bench/conftest.py, bench/replicas.py)."""
    c = case
    _time_step(benchmark, c, bench_settings, harness_seconds,
               f"step {c.device} {c.dtype} n={c.n} {c.optimizer} E={c.E}",
               lambda *a: timing.step_info(c, *a))


def test_model_step(benchmark, model_case, bench_settings, harness_seconds):
    """K training steps of a model under impls/contract.py (``matrix.MODEL_CONFIGS``: sparse parity
    at the paper's size and a matmul-bound one) per timed call, in rounds paired with the framework
    module's own floor (its fused pass over the step's matmuls), timed as ``test_step``; the
    replica processes time it again. Its roofline: ``timing.add_model_rooflines``."""
    c = model_case
    require(c.backend, c.device)
    require_model(c)
    flops = runners.model_flops(c)
    _time_step(benchmark, c, bench_settings, harness_seconds,
               f"{c.model} {c.device} {c.dtype} {matrix.config_tag(c.config)} {c.optimizer}",
               lambda *a: timing.model_step_info(c, *a, flops=flops))


def _time_step(benchmark, c, settings: dict, harness: float, group: str, info_of) -> None:
    """A step case (seed or model): its floor built, then its runner and the paired rounds inside
    one memory window; a planted slowdown (--plant) applied and recorded."""
    require(c.backend, c.device)
    benchmark.group = group
    factor = settings.get("plant", {}).get(c.id)
    if factor:
        benchmark.extra_info["planted_slowdown"] = factor
    floor = runners.build_floor(c)
    with PeakRSS() as mem:  # prepare, compile and every timed step: the memory the case adds
        runner, step = runners.build_step(c, factor)
        _time_case(benchmark, step, c.backend, c.compiles, settings, harness, info_of, floor=floor)
    benchmark.extra_info["memory"] = runners.memory_info(mem.increase_bytes, runner)
