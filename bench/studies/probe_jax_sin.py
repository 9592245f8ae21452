"""Where a jax release's change in the step's speed goes: sin itself, the fused reduction, or XLA's
YNNPACK fusion (docs/compare.md, "Did jax 0.10 change this model's speed or results?").

    .venv/bin/python -m bench.studies.probe_jax_sin --a PYTHON_A --b PYTHON_B [--rounds 3] [--out FILE]
    XLA_FLAGS=--xla_cpu_max_isa=AVX2 .venv/bin/python -m bench.studies.probe_jax_sin ...   # the AVX2 path

Each Python times, in fresh processes alternating A, B, A, B, ... (one thread, as the bench), jitted
passes over x = 0..n-1 (float32, n = 1e6, w = 1.5), in ns per element (median of 15 calls each):
  sin        y = sin(w x)                        elementwise, written out: sin alone
  cos        y = cos(w x)
  sum        sum(w x)                            the reduction alone
  sum_sin    sum(sin(w x))                       sin fused into the reduction
  floor      sum(sin(w x) + cos(w x))            the suite's floor pass
  *_ynn_off  each pass again with compiler option xla_cpu_experimental_ynn_fusion_type = ""
             (None where the release has no such option)
Writes a new JSON (default results/jax-sin-probe-<time>.json) with every process's figures.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from statistics import median

N, W, CALLS = 1_000_000, 1.5, 15
WORKER = r'''
import json, os, time
os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:1])
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
import jax, jax.numpy as jnp
from statistics import median
N, W, CALLS = %d, %r, %d
x = jnp.arange(N, dtype=jnp.float32)
w = jnp.float32(W)
passes = {
    "sin": lambda w, x: jnp.sin(w * x),
    "cos": lambda w, x: jnp.cos(w * x),
    "sum": lambda w, x: jnp.sum(w * x),
    "sum_sin": lambda w, x: jnp.sum(jnp.sin(w * x)),
    "floor": lambda w, x: jnp.sum(jnp.sin(w * x) + jnp.cos(w * x)),
}
out = {"jax": jax.__version__, "jaxlib": __import__("jaxlib").__version__}
def timed(f):
    f(w, x).block_until_ready()
    ts = []
    for _ in range(CALLS):
        t = time.perf_counter(); f(w, x).block_until_ready(); ts.append(time.perf_counter() - t)
    return median(ts) / N * 1e9
for name, fn in passes.items():
    out[name] = timed(jax.jit(fn))
    try:  # the same pass without XLA:CPU's YNNPACK fusion (an option of recent jaxlibs)
        f = jax.jit(fn).lower(w, x).compile(compiler_options={"xla_cpu_experimental_ynn_fusion_type": ""})
        out[name + "_ynn_off"] = timed(f)
    except Exception as e:
        out[name + "_ynn_off"] = None
        out["ynn_off_error"] = f"{type(e).__name__}: {str(e)[:200]}"
print(json.dumps(out))
''' % (N, W, CALLS)
KEYS = tuple(k + off for k in ("sin", "cos", "sum", "sum_sin", "floor") for off in ("", "_ynn_off"))


def main(argv=None) -> int:
    import argparse
    from bench.studies import study
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", required=True, help="the Python of side A")
    ap.add_argument("--b", required=True, help="the Python of side B")
    ap.add_argument("--rounds", type=int, default=3, help="processes per side, alternating")
    ap.add_argument("--out", default=None, help="a new JSON file (default results/jax-sin-probe-<time>.json)")
    a = ap.parse_args(argv)
    out = study.out_path(a.out, "jax-sin-probe")
    runs = {"a": [], "b": []}
    for _ in range(a.rounds):
        for side, py in (("a", a.a), ("b", a.b)):
            p = subprocess.run([py, "-c", WORKER], capture_output=True, text=True, timeout=600,
                               env={**os.environ, "JAX_PLATFORMS": "cpu"})
            if p.returncode != 0:
                print(p.stderr[-2000:], file=sys.stderr)
                return 1
            runs[side].append(json.loads(p.stdout.strip().splitlines()[-1]))
    summary = {}
    for side in runs:
        summary[side] = {"jax": runs[side][0]["jax"], "jaxlib": runs[side][0]["jaxlib"]}
        for k in KEYS:
            vals = [r[k] for r in runs[side] if r.get(k) is not None]
            summary[side][k] = median(vals) if vals else None
    doc = {"n": N, "w": W, "dtype": "float32", "calls": CALLS, "rounds": a.rounds, "order": "A, B, A, B, ...",
           "python": {"a": a.a, "b": a.b}, "xla_flags": os.environ.get("XLA_FLAGS", ""), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "runs": runs, "ns_per_element": summary}
    print(f"{'pass':<15} {'A ' + summary['a']['jax']:>12} {'B ' + summary['b']['jax']:>12}  B/A")
    for k in KEYS:
        va, vb = summary["a"][k], summary["b"][k]
        ratio = f"{vb / va:.2f}x" if va and vb else "-"
        print(f"{k:<15} {va if va is None else f'{va:.2f}':>12} {vb if vb is None else f'{vb:.2f}':>12}  {ratio}")
    study.save(out, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
