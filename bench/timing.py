"""How a case is timed and what its rounds give: K steps per call, the number of rounds, paired
ratios to the floor and when they have settled, quartiles, each case's extra_info, and the floor
ratios and rooflines the run's JSON gets. The case matrix: bench/matrix.py; the summary: bench/summary.py.

No framework is imported here (tests/test_bench_plumbing.py exercises all of it in milliseconds).

Vocabulary
  K      steps (or floor passes) per timed call, a power of two chosen so one call lasts
         >= CALL_TARGET seconds; the harness (timer + call, ~1 us) is then < 5% of every figure
"""
from __future__ import annotations

import math
import time
from statistics import median

from bench.matrix import ITEMSIZE, MODEL_KIND, STEP_KINDS, Case, Floor, ModelCase, Op, config_tag
from paritybench.store.resultfile import process_info  # noqa: F401 - the replicas' fields, shared with `paritybench ab`
from paritybench.gate.stats import median_ci


CALL_TARGET = 2e-3   # seconds per timed call (>= ~1 ms asked; 2 ms leaves room for noise)
K_MAX = 1 << 14      # steps per call at most
PROBE_K = 4          # steps of the first (compiling) calls, which also estimate the step time
HARNESS_LIMIT = 0.05  # harness time / call time above this fails the case
ROUNDS_MIN, ROUNDS_MAX = 10, 60  # >= 10 paired rounds: a 95% CI of the median ratio ([x_(2), x_(9)]) and the gate's rank test
CASE_BUDGET = {"quick": 0.3, "default": 0.5, "full": 1.0}  # seconds of timed calls per case and process at most (rounds x (call + floor call))
# Sequential stopping (replica processes, ``runners.paired_rounds``): a process stops taking rounds
# once the 95% CI of its median paired ratio is at most CI_TARGET of the median wide (after
# ROUNDS_MIN rounds; within CASE_BUDGET and ROUNDS_MAX). A steady case stops at 10 rounds, a noisy
# one takes more. 5%: a tenth of the between-process spread the gate must tolerate (docs/compare.md).
CI_TARGET = 0.05
# The pytest process's rounds are fixed before they start (pytest-benchmark's pedantic): its budget.
PYTEST_BUDGET_SHARE = 0.3  # 0.5 before 2026-12-05 (#23): docs/compare.md, the gate study on these defaults


def choose_k(seconds_per_step: float, target: float = CALL_TARGET, k_max: int = K_MAX) -> int:
    """Smallest power of two K with K * seconds_per_step >= target (1 <= K <= k_max)."""
    if not seconds_per_step > 0 or not math.isfinite(seconds_per_step):
        return k_max
    need = target / seconds_per_step
    k = 1
    while k < need and k < k_max:
        k *= 2
    return k


def choose_rounds(seconds_per_call: float, budget: float,
                  lo: int = ROUNDS_MIN, hi: int = ROUNDS_MAX) -> int:
    """Rounds of timed calls that fit ``budget`` seconds, clamped to [lo, hi]."""
    if not seconds_per_call > 0:
        return hi
    return max(lo, min(hi, int(budget / seconds_per_call)))


def settled(ratios: list[float], target: float = CI_TARGET, lo: int = ROUNDS_MIN) -> bool:
    """Whether a process may stop taking rounds: >= ``lo`` paired ratios and the 95% CI of their
    median (``stats.median_ci``) at most ``target`` x the median wide."""
    if len(ratios) < lo:
        return False
    ci_lo, ci_hi = median_ci(ratios)
    return (ci_hi - ci_lo) <= target * median(ratios)


def paired_ratios(case_calls: list[float], k: int, floor_calls: list[float], kf: int) -> list[float]:
    """Per round i, (case_i / k) / (mean(floor_i, floor_i+1) / kf): the step time over the floor
    pass time measured on both sides of it, so that a load change that ramps over the round
    cancels to first order. ``floor_calls`` has one more entry than ``case_calls``."""
    if len(floor_calls) != len(case_calls) + 1:
        raise ValueError(f"floor_calls: got {len(floor_calls)} for {len(case_calls)} rounds; "
                         "allowed: one floor call before each round and one after the last")
    return [(c / k) / ((floor_calls[i] + floor_calls[i + 1]) / 2 / kf)
            for i, c in enumerate(case_calls)]


def paired_info(case_calls: list[float], k: int, floor_calls: list[float], kf: int) -> dict:
    """extra_info fields of paired timing: the per-round ratios, their median and its 95% CI."""
    ratios = paired_ratios(case_calls, k, floor_calls, kf)
    lo, hi = median_ci(ratios)
    return {"floor_ratio": median(ratios), "floor_ratio_ci95": [lo, hi],
            "floor_seconds_per_step": median(floor_calls) / kf, "floor_passes_per_call": kf,
            "paired_ratios": ratios, "paired_rounds": len(ratios)}


def parse_plant(text: str | None) -> dict[str, float]:
    """PARITYBENCH_PLANT 'CASE_ID=FACTOR[,...]' -> {case id: factor}: a real, measured slowdown
    of those cases (``planted``), for testing the gate. FACTOR in (1, 10]."""
    out = {}
    for item in filter(None, (text or "").split(",")):
        cid, _, f = item.partition("=")
        try:
            factor = float(f)
        except ValueError:
            factor = float("nan")
        if not cid.strip() or not 1 < factor <= 10:
            raise ValueError(f"plant: got {item!r}; allowed: CASE_ID=FACTOR with FACTOR > 1 and <= 10, "
                             "comma-separated")
        out[cid.strip()] = factor
    return out


def planted(fn, factor: float):
    """fn, made ``factor`` times slower for real: after each call, spin (busy, like the work) for
    (factor - 1) x the call's own duration. Timed by the same harness as every case."""
    def slow(k):
        t0 = time.perf_counter()
        out = fn(k)
        end = t0 + factor * (time.perf_counter() - t0)
        while time.perf_counter() < end:
            pass
        return out
    return slow


def quartiles(data) -> tuple[float, float, float]:
    """(q1, median, q3) by the median-of-halves rule (pytest-benchmark's own)."""
    xs = sorted(data)
    if not xs:
        raise ValueError("data: got an empty list; allowed: at least one timing")
    m = median(xs)
    half = len(xs) // 2
    lo, hi = xs[:half], xs[half + (len(xs) % 2):]
    return (median(lo) if lo else m), m, (median(hi) if hi else m)


def iqr_over_median(data) -> float:
    """Run-to-run spread of the timed calls: (q3 - q1) / median."""
    q1, m, q3 = quartiles(data)
    return (q3 - q1) / m if m > 0 else float("nan")


def step_info(case: Case, k: int, call_seconds: list[float], compile_seconds: float,
              threads: int, harness_seconds: float) -> dict:
    """extra_info of a throughput case from its timed calls (seconds per call of k steps)."""
    _, m, _ = quartiles(call_seconds)
    sps = m / k
    return {
        "kind": case.kind, "tier": case.tier,
        "backend": case.backend, "variant": case.variant,
        "device": case.device, "dtype": case.dtype, "n": case.n, "E": case.E,
        "optimizer": case.optimizer, "steps_per_call": k, "seconds_per_step": sps,
        "steps_per_second": 1 / sps, "samples_per_second": case.n * case.E / sps,
        "compile_seconds": compile_seconds, "floor_seconds_per_step": None,
        "floor_ratio": None, "floor_ratio_best": None, "threads": threads,
        "iqr_over_median": iqr_over_median(call_seconds),
        "harness_fraction": harness_seconds / m, "round_seconds": [c / k for c in call_seconds],
    }


def floor_info(fl: Floor, k: int, call_seconds: list[float], compile_seconds: float,
               threads: int, harness_seconds: float) -> dict:
    """extra_info of a floor from its timed calls (seconds per call of k passes)."""
    _, m, _ = quartiles(call_seconds)
    return {
        "kind": "floor", "backend": fl.backend, "device": fl.device, "dtype": fl.dtype,
        "n": fl.n, "E": fl.E, "passes_per_call": k, "seconds_per_pass": m / k,
        "compile_seconds": compile_seconds, "threads": threads,
        "iqr_over_median": iqr_over_median(call_seconds), "harness_fraction": harness_seconds / m,
        "round_seconds": [c / k for c in call_seconds],
    }


def op_info(o: Op, k: int, call_seconds: list[float], compile_seconds: float,
            threads: int, harness_seconds: float) -> dict:
    """extra_info of an op case from its timed calls (seconds per call of k passes)."""
    _, m, _ = quartiles(call_seconds)
    return {
        "kind": "op", "backend": o.backend, "tier": o.tier, "op": o.op, "device": o.device,
        "dtype": o.dtype, "n": o.n, "E": o.E, "passes_per_call": k, "seconds_per_pass": m / k,
        "ns_per_element": m / k / (o.n * o.E) * 1e9, "compile_seconds": compile_seconds,
        "threads": threads, "iqr_over_median": iqr_over_median(call_seconds),
        "harness_fraction": harness_seconds / m, "round_seconds": [c / k for c in call_seconds],
    }


def _floor_key(info: dict) -> tuple:
    return info["device"], info["dtype"], info["n"], info["E"]


def add_floor_ratios(infos: list[dict]) -> list[dict]:
    """Fill floor_seconds_per_step, floor_ratio, floor_ratio_best, machine_floor_ratio of every
    throughput and tuned info in place.

    floor_ratio      = seconds_per_step / seconds_per_pass of the same framework's floor case; a case
                       timed in paired rounds (``paired_info``) keeps its own median paired ratio
    floor_ratio_best = seconds_per_step / the fastest floor of any framework, same device and shape
    machine_floor_ratio = seconds_per_step / the cheapest sin + cos pass of any framework and tier
                       (floors and "sincos" op cases), same device and shape: the machine's floor
    None where the floor was not run (filtered out or skipped). Model steps: ``add_model_rooflines``.
    Other kinds pass through untouched.
    """
    own, best, machine = {}, {}, {}
    for i in infos:
        if i.get("kind") == "floor" or (i.get("kind") == "op" and i.get("op") == "sincos"):
            k = _floor_key(i)
            machine[k] = min(machine.get(k, math.inf), i["seconds_per_pass"])
        if i.get("kind") == "floor":
            k = _floor_key(i)
            own[(i["backend"],) + k] = i["seconds_per_pass"]
            best[k] = min(best.get(k, math.inf), i["seconds_per_pass"])
    for i in infos:
        if i.get("kind") not in STEP_KINDS:
            continue
        b, m = best.get(_floor_key(i)), machine.get(_floor_key(i))
        i["floor_ratio_best"] = i["seconds_per_step"] / b if b else None
        i["machine_floor_ratio"] = i["seconds_per_step"] / m if m else None
        if i.get("paired_ratios"):
            continue  # measured in the same rounds as the case: kept
        f = own.get((i["backend"],) + _floor_key(i))
        i["floor_seconds_per_step"] = f
        i["floor_ratio"] = i["seconds_per_step"] / f if f else None
    return add_model_rooflines(infos)  # a model's steps: their paired floors give their rooflines


def step_bytes(dtype: str, n: int, E: int) -> int:
    """Bytes a step must move at least: x and y (n each, ``dtype``) read once. The weights, the
    optimizer state and the history (E values each) are left out: at most 0.1% here but at
    E = 1024, n = 1e3, where the sin and cos of n x E products, not memory, decide."""
    return 2 * n * ITEMSIZE[dtype]


def add_rooflines(infos: list[dict], bandwidth: dict) -> list[dict]:
    """Fill roofline_bytes_per_step, roofline_seconds_per_step (bytes / the device's copy bandwidth
    measured in the run, ``bandwidth[device]["bytes_per_second"]``) and roofline_ratio (seconds per
    step / roofline seconds) of every step info in place; None where the device has no measurement."""
    for i in infos:
        if i.get("kind") not in STEP_KINDS:
            continue
        bps = (bandwidth.get(i["device"]) or {}).get("bytes_per_second")
        nbytes = step_bytes(i["dtype"], i["n"], i["E"])
        i["roofline_bytes_per_step"] = nbytes
        i["roofline_seconds_per_step"] = nbytes / bps if bps else None
        i["roofline_ratio"] = i["seconds_per_step"] / i["roofline_seconds_per_step"] if bps else None
    return infos


def model_step_info(case: ModelCase, k: int, call_seconds: list[float], compile_seconds: float,
                    threads: int, harness_seconds: float, flops: float | None = None) -> dict:
    """extra_info of a model case from its timed calls (seconds per call of k steps); ``flops``:
    the model's FLOPs per step (its ``spec.flops``), None if the model gives none."""
    _, m, _ = quartiles(call_seconds)
    sps = m / k
    config = dict(case.config)
    return {
        "kind": MODEL_KIND, "model": case.model, "tier": case.tier,
        "backend": case.backend, "variant": case.variant, "device": case.device, "dtype": case.dtype,
        "config": config, "config_id": config_tag(case.config), "optimizer": case.optimizer,
        "steps_per_call": k, "seconds_per_step": sps, "steps_per_second": 1 / sps,
        "samples_per_second": config.get("batch", 1) / sps,
        "flops_per_step": flops, "flops_per_second": flops / sps if flops else None,
        "compile_seconds": compile_seconds, "floor_seconds_per_step": None, "floor_ratio": None,
        "threads": threads, "iqr_over_median": iqr_over_median(call_seconds),
        "harness_fraction": harness_seconds / m, "round_seconds": [c / k for c in call_seconds],
    }


ROOFLINE_BASIS = ("flops_per_step (the model's spec.flops) / the fastest framework's floor rate on "
                  "this device and config (its fused pass over the step's matmuls, flops_per_step / "
                  "floor_seconds_per_step): a measured matmul rate, not a peak figure")


def add_model_rooflines(infos: list[dict]) -> list[dict]:
    """Fill, in place, every model-throughput info that has flops_per_step and its paired floor:
      floor_flops_per_second   flops_per_step / its own floor's seconds per pass (that framework's rate)
      matmul_flops_per_second  the fastest such rate of any framework, same model, device, dtype, config
      roofline_seconds_per_step = flops_per_step / matmul_flops_per_second; roofline_ratio = the
      step / it (>= 1 unless a step beats every floor); floor_ratio_best = the step / the fastest floor
    None where a figure is missing. Other kinds pass through untouched."""
    rate: dict[tuple, float] = {}
    key = lambda i: (i.get("model"), i.get("device"), i.get("dtype"), i.get("config_id"))  # noqa: E731
    mine = [i for i in infos if i.get("kind") == MODEL_KIND]
    for i in mine:
        f, fl = i.get("flops_per_step"), i.get("floor_seconds_per_step")
        i["floor_flops_per_second"] = f / fl if f and fl else None
        if i["floor_flops_per_second"]:
            rate[key(i)] = max(rate.get(key(i), 0.0), i["floor_flops_per_second"])
    for i in mine:
        r, f = rate.get(key(i)), i.get("flops_per_step")
        i["matmul_flops_per_second"] = r
        i["roofline_seconds_per_step"] = f / r if r and f else None
        i["roofline_ratio"] = i["seconds_per_step"] / i["roofline_seconds_per_step"] if r and f else None
        i["floor_ratio_best"] = i["roofline_ratio"]  # the same figure: the fastest floor's time is the roofline's
        i["roofline_basis"] = ROOFLINE_BASIS
    return infos
