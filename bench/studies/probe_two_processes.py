"""Why did JAX gain nothing from a second data-parallel process here? A control (docs/scale.md).

    .venv/bin/python -m bench.studies.probe_two_processes [--n 500000] [--trials 2]

Times a one-process JAX step (``--variant``, default jit; no collective at all) on n rows, one
thread, 20 steps after two warm-up calls of 20, in three settings:
  alone        one process
  side by side two plain processes at once (no jax.distributed)
  distributed  two processes at once, each after jax.distributed.initialize (gloo), the same
               local step
If "side by side" is as slow as "distributed", two JAX processes compete for this machine's CPUs,
and jax.distributed is not the cost. Prints ms per step and the CPUs each process kept busy
(CPU seconds / wall seconds; XLA's flags for one thread still left a lone process at 1.7 here);
every process binds 127.0.0.1.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}
CHILD = """
import os, resource, sys, time
rank, world = int(os.environ["RANK"]), int(os.environ["WORLD"])
if world > 1:
    from impls import jax_distributed as jd
    jd.initialize(60, "cpu", os.environ["COORD"], rank, world)
from impls import data as datamod, jax_backend as jb
from impls.spec import Problem, Recipe
d = datamod.generate(Problem(n=int(sys.argv[1]), x_max=1000, seed=rank))
r = jb.prepare(d, Recipe(steps=1), sys.argv[2])
r.advance(20)
r.advance(20)  # a scan compiles again on its second call (the state's types settle), then not
u = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
r.advance(20)
t = time.perf_counter() - t0
v = resource.getrusage(resource.RUSAGE_SELF)
busy = (v.ru_utime - u.ru_utime + v.ru_stime - u.ru_stime) / t
print(f"{t / 20 * 1e3:.2f} ms ({busy:.1f} CPUs busy)")
if world > 1:
    jd.shutdown()
"""


def _run(n: int, ranks: int, world: int, variant: str = "jit") -> list[str]:
    from impls.launch import free_port
    coord = f"127.0.0.1:{free_port()}"
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(n), variant], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True,
                              env=dict(os.environ, **ENV, RANK=str(r), WORLD=str(world), COORD=coord,
                                       PYTHONPATH=str(ROOT)))
             for r in range(ranks)]
    try:
        return [p.communicate(timeout=300)[0].strip().splitlines()[-1] for p in procs]
    finally:
        for p in procs:
            p.kill()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=500_000)
    ap.add_argument("--trials", type=int, default=2)
    ap.add_argument("--variant", default="jit", help="the JAX variant timed (jit, scan, scan-tuned)")
    a = ap.parse_args(argv)
    for t in range(a.trials):
        print(f"{a.variant} trial {t + 1}: alone {_run(a.n, 1, 1, a.variant)}; side by side "
              f"{_run(a.n, 2, 1, a.variant)}; distributed {_run(a.n, 2, 2, a.variant)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
