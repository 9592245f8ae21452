"""Write tests/data/run_synthetic.json: a small SYNTHETIC result file in the suite's schema.

The timings are made up (a cost model: seconds per step = overhead + n E cost, with seeded noise);
they test the compare/plot code, they are not measurements. Reproduce:
    .venv/bin/python tests/data/make_synthetic.py tests/data/run_synthetic-new.json
"""
from __future__ import annotations

import json
import sys

import numpy as np

# variant -> (per-step overhead s, seconds per sample-step)
COST = {("reference", "numpy"): (4e-6, 9e-9), ("torch", "eager"): (60e-6, 4e-9),
        ("torch", "compiled"): (25e-6, 2.2e-9), ("jax", "jit"): (40e-6, 2.5e-9),
        ("jax", "scan"): (3e-6, 2.4e-9)}
FLOOR = {"reference": 8e-9, "torch": 1.9e-9, "jax": 2.1e-9}
RECIPES = {"sgd-lr0.0004": ("sgd", 4e-4), "adam-lr0.01": ("adam", 1e-2)}
# (x_max, recipe) -> reference outcome, outcome per variant, horizon, chaotic
AGREEMENT = {(6, "sgd-lr0.0004"): ("solved", {}, None, False),
             (6, "adam-lr0.01"): ("solved", {}, None, False),
             (1000, "sgd-lr0.0004"): ("wandering", {("jax", "jit"): "stuck", ("jax", "scan"): "stuck"},
                                      9, True),
             (1000, "adam-lr0.01"): ("stuck", {}, 41, True)}


def stats(sec_per_call: float, rng) -> dict:
    spread = 0.02 + 0.03 * rng.rand()
    q1, q3 = sec_per_call * (1 - spread / 2), sec_per_call * (1 + spread / 2)
    rounds = 20
    return {"min": sec_per_call * (1 - spread), "max": sec_per_call * (1 + 3 * spread),
            "mean": sec_per_call * (1 + spread / 4), "stddev": sec_per_call * spread,
            "rounds": rounds, "median": sec_per_call, "iqr": q3 - q1, "q1": q1, "q3": q3,
            "iqr_outliers": 0, "stddev_outliers": 1, "outliers": "1;0", "ld15iqr": q1,
            "hd15iqr": q3, "ops": 1 / sec_per_call, "total": sec_per_call * rounds, "iterations": 1}


ROUNDS = 20


def rounds(center: float, rng, noise: float = 0.02) -> list[float]:
    """ROUNDS samples around ``center`` with lognormal noise (sd ``noise`` in log)."""
    return [float(center * np.exp(noise * rng.randn())) for _ in range(ROUNDS)]


PROCESSES = 4


def processes(info: dict, prng) -> dict:
    """The case's rounds as if timed in PROCESSES processes: process 0 = the file's rounds, the
    others shifted by a process-level lognormal offset (sd 0.03) with their own round noise."""
    offsets = [1.0] + [float(np.exp(0.03 * prng.randn())) for _ in range(PROCESSES - 1)]
    ratios = [info["paired_ratios"]] + [rounds(info["floor_ratio"] * f, prng) for f in offsets[1:]]
    secs = [info["round_seconds"]] + [rounds(info["seconds_per_step"] * f, prng) for f in offsets[1:]]
    meds = [float(np.median(r)) for r in ratios]
    rss = [int((4e6 + 24 * info["n"] * info["E"]) * np.exp(0.02 * prng.randn())) for _ in offsets]
    return {"memory": {"peak_rss_increase_bytes": rss[0]}, "process_peak_rss_increase_bytes": rss,
            "processes": PROCESSES, "process_paired_ratios": ratios, "process_round_seconds": secs,
            "floor_ratio_processes": meds, "floor_ratio_range": [min(meds), max(meds)],
            "floor_ratio": float(np.median(meds))}


def bench(fullname: str, extra: dict, st: dict) -> dict:
    name = fullname.split("::")[1]
    return {"group": None, "name": name, "fullname": fullname, "params": {"case": name[name.index("[") + 1:-1]},
            "param": name[name.index("[") + 1:-1], "extra_info": extra,
            "options": {"disable_gc": False, "timer": "perf_counter", "min_rounds": 5, "max_time": 1.0,
                        "min_time": 5e-06, "precision": None, "confidence": None, "warmup": False},
            "stats": st}


def make() -> dict:
    rng = np.random.RandomState(5)
    prng = np.random.RandomState(7)  # the replica processes' draws: rng's stream stays as before
    out = []
    sizes = [(1000, 1), (100000, 1), (1000000, 1), (1000, 1024)]
    for n, E in sizes:
        for dtype in ("float32", "float64") if n == 100000 else ("float32",):
            dt = "f32" if dtype == "float32" else "f64"
            scale = 1.0 if dtype == "float32" else 1.8
            floors = {}
            for b, c in FLOOR.items():
                sec = c * n * E * scale + 1e-6
                k = max(1, int(1e-3 / sec))
                floors[b] = sec
                out.append(bench(f"bench/test_throughput.py::test_floor[floor-{b}-cpu-{dt}-n{n}-E{E}]",
                                 {"kind": "floor", "backend": b, "device": "cpu", "dtype": dtype, "n": n,
                                  "E": E, "passes_per_call": k, "seconds_per_pass": sec,
                                  "round_seconds": rounds(sec, rng)},
                                 stats(sec * k, rng)))
            for opt in ("sgd", "adam") if (n, E, dtype) != (1000, 1024, "float32") else ("sgd",):
                if dtype == "float64" and opt == "adam":
                    continue
                for (b, v), (over, per) in COST.items():
                    sec = (over + per * n * E * scale) * (1.15 if opt == "adam" else 1.0)
                    k = max(1, int(1e-3 / sec))
                    fl = floors[b]
                    best = min(floors.values())
                    info = {"kind": "throughput", "backend": b, "variant": v, "device": "cpu", "dtype": dtype,
                            "n": n, "E": E, "optimizer": opt, "steps_per_call": k, "seconds_per_step": sec,
                            "steps_per_second": 1 / sec, "samples_per_second": n * E / sec,
                            "compile_seconds": {"compiled": 9.5, "jit": 0.12, "scan": 0.3}.get(v, 0.0),
                            "floor_seconds_per_step": fl, "floor_ratio": sec / fl, "floor_ratio_best": sec / best,
                            "threads": 2, "iqr_over_median": 0.03, "round_seconds": rounds(sec, rng),
                            "paired_ratios": rounds(sec / fl, rng), "paired_rounds": ROUNDS}
                    st = stats(sec * k, rng)
                    info.update(processes(info, prng))
                    out.append(bench(f"bench/test_throughput.py::test_step[{b}-{v}-cpu-{dt}-n{n}-{opt}-E{E}]",
                                     info, st))
    for dtype in ("float32", "float64"):
        dt = "f32" if dtype == "float32" else "f64"
        for (x_max, recipe), (ref, odd, h, chaotic) in AGREEMENT.items():
            opt, lr = RECIPES[recipe]
            for (b, v) in COST:
                if b == "reference":
                    continue
                outcome = ref if dtype == "float64" else odd.get((b, v), ref)
                sec = 300 * COST[(b, v)][0] + 300 * 1000 * COST[(b, v)][1]
                out.append(bench(
                    f"bench/test_agreement.py::test_agreement[{b}-{v}-cpu-{dt}-x{x_max}-{recipe}]",
                    {"kind": "agreement", "backend": b, "variant": v, "device": "cpu", "dtype": dtype,
                     "x_max": x_max, "recipe": recipe, "optimizer": opt, "lr": lr, "outcome": outcome,
                     "reference_outcome": ref, "chaotic": chaotic,
                     "horizon": None if h is None else (h if dtype == "float32" else 3 * h),
                     "final_w": 1.5707963 if ref == "solved" else 1.49,
                     "fractions": {"solved": 0.0 if x_max == 1000 else 1.0,
                                   "stuck": 0.5 if x_max == 1000 else 0.0,
                                   "wandering": 0.5 if x_max == 1000 else 0.0, "diverged": 0.0}},
                    stats(sec, rng)))
    return {"machine_info": {"node": "synthetic-fixture", "machine": "x86_64", "system": "Linux",
                             "python_version": "3.11.7", "cpu": {"brand_raw": "AMD EPYC", "count": 2},
                             "torch": "2.13.0", "jax": "0.10.2", "jaxlib": "0.10.2", "optax": "0.2.8",
                             "numpy": "2.2.0", "devices": ["cpu"], "threads": 2,
                             "numeric": {"cpu_model": "AMD EPYC", "isa": ["avx2", "avx512f"],
                                         "torch": {"version": "2.13.0", "cpu_capability": "AVX512"}}},
            "commit_info": {"id": "0000000000000000000000000000000000000000", "dirty": False,
                            "project": "paritybench", "branch": "main"},
            "paritybench": {"profile": "default", "processes": PROCESSES},
            "benchmarks": out, "datetime": "2026-01-01T00:00:00+00:00", "version": "5.3.1"}


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "tests/data/run_synthetic.json"
    with open(path, "x") as f:  # never overwrite
        json.dump(make(), f, indent=1)
    print(f"wrote {path}")
