"""Data-parallel step time against P, per framework, with the communication share: docs/scale.md.

    .venv/bin/python -m bench.studies.scale_study [--out results/scale-study-<time>.json] [--steps 60]

For each framework (torch: torch.distributed gloo; jax: jax.distributed + gloo collectives), each n
in N and P in 1..min(2, CPUs) (``--processes`` more on bigger machines): one run of ``--steps`` SGD
steps of the seed's problem (float32) through ``impls.launch`` (P local processes, each pinned to
its own CPU). Recorded per run: seconds per step of each rank (the training loop only: after start-up,
rendezvous and compilation, which take a first step of their own, excluded), torch's seconds inside
``all_reduce`` per step, and the latency model's prediction (docs/scale.md):
    step(P) = (step(1) - c(1)) / P + c(P),   c(P) = the all-reduce of 2E numbers between P processes
with c(P) measured by torch (its all_reduce time). Then the sharded ensemble: E = 256 members at
n = 1e3 split over P processes (no communication until the final gather): its speedup.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

NS = (1_000, 100_000, 1_000_000)
ENSEMBLE_N, ENSEMBLE_E, ENSEMBLE_STEPS = 1_000, 256, 100  # the sharded-ensemble rows
# One CPU per rank: every CPU open to the ranks, rank r pinned to the r-th. XLA's flags alone do not
# make one thread: a lone JAX process kept 1.7 CPUs busy with them (bench/studies/probe_two_processes.py),
# so P = 1 would have had two CPUs and P = 2 one each.
THREADS_ENV = {"OMP_NUM_THREADS": "1", "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
               "PARITYBENCH_ALL_CPUS": "1", "PARITYBENCH_PIN_RANKS": "1"}


def one(backend: str, n: int, processes: int, steps: int, members: int = 1) -> dict:
    """One run: data parallel (members = 1) or a sharded ensemble of ``members`` (then seconds
    are each rank's whole training, compilation included, and comm its gather)."""
    from impls import launch
    variant = {"torch": "eager", "jax": "jit"}[backend]
    w0 = 1.5 if members == 1 else [float(v) for v in np.linspace(1.4, 1.7, members)]
    cfg = {"backend": backend, "variant": variant, "device": "cpu", "problem": {"n": n, "x_max": 1000, "seed": 0},
           "recipe": {"optimizer": "sgd", "lr": 4e-4, "w0": w0, "steps": steps, "dtype": "float32"},
           "warmup_steps": 1, "shard": "data" if members == 1 else "ensemble"}
    traj, info = launch.run(cfg, processes, timeout=600, env=THREADS_ENV)
    per = [s / steps for s in info["seconds"]]
    comm = [c / steps for c in info["comm_seconds"]]
    return {"backend": backend, "engine": info["engine"], "shard": cfg["shard"], "E": members, "n": n,
            "processes": processes, "steps": steps,
            "seconds_per_step": max(per), "rank_seconds_per_step": per,
            "comm_seconds_per_step": None if any(c != c for c in comm) else max(comm),
            "ranks_identical": info["ranks_identical"], "wall_seconds": info["wall_seconds"],
            "final_w": float(traj.w[-1, 0])}


def predicted(r: dict, base: dict | None) -> float | None:
    """The latency model's step(P) = (step(1) - c(1)) / P + c(P) for a data-parallel row, where
    the all-reduce time c is measured (torch); None otherwise."""
    if r.get("shard", "data") != "data" or base is None:
        return None
    c, c1 = r.get("comm_seconds_per_step"), base.get("comm_seconds_per_step")
    if c is None or c1 is None:
        return None
    return (base["seconds_per_step"] - c1) / r["processes"] + c


def main(argv=None) -> int:
    from bench.studies import study

    ap = study.parser(__doc__, "scale-study")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--processes", type=int, default=min(2, os.cpu_count() or 1))
    a = ap.parse_args(argv)
    out = study.out_path(a.out, "scale-study")
    rows = []
    for backend in ("torch", "jax"):
        for n in NS:
            for p in range(1, a.processes + 1):
                rows.append(one(backend, n, p, a.steps))
                print(rows[-1], flush=True)
        for p in range(1, a.processes + 1):  # the sharded ensemble: E members split over P
            rows.append(one(backend, ENSEMBLE_N, p, ENSEMBLE_STEPS, ENSEMBLE_E))
            print(rows[-1], flush=True)
    by = {(r["backend"], r["shard"], r["n"], r["processes"]): r for r in rows}
    for r in rows:  # the latency model: step(P) = (step(1) - c(1)) / P + c(P)
        base = by.get((r["backend"], r["shard"], r["n"], 1))
        r["predicted_seconds_per_step"] = predicted(r, base)
        r["speedup"] = base["seconds_per_step"] / r["seconds_per_step"] if base else None
    from bench import frameworks
    from impls import numenv
    doc = {"kind": "scale-study", "datetime": time.strftime("%Y-%m-%dT%H:%M:%S"), "cpus": os.cpu_count(),
           "threads_per_process": 1, "versions": frameworks.versions(),
           "cpu_model": numenv.machine_part().get("cpu_model"), "rows": rows}
    study.save(out, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
