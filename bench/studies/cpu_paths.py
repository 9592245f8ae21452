"""How the seed's chaotic run moves with the CPU code path (docs/numerics.md's table).

    .venv/bin/python -m bench.studies.cpu_paths [--forced "ATEN_CPU_CAPABILITY=default XLA_FLAGS=--xla_cpu_max_isa=SSE4_2"]

Runs (n 1000, x_max 1000, sgd lr 4e-4, w0 1.5, 300 steps) in every backend/variant and dtype in two
fresh processes, natively and with the ``--forced`` environment, and prints per run the first step
at which the two weights differ at all and each one's horizon against the float64 reference.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = (("jax", "jit"), ("jax", "scan"), ("torch", "eager"), ("torch", "compiled"))

CHILD = """
import json
from impls import agreement as A, registry
from impls.outcome import horizon, part_tol
data = A.case_data(1000)
ref = A.reference(1000, "sgd-lr0.0004")
out = {}
for b, v in %r:
    if not registry.available(b)[0]:
        continue
    for dt in ("float32", "float64"):
        tr = registry.train(b, data, A.recipe("sgd-lr0.0004", dt), v)
        out[f"{b}-{v} {dt}"] = {"w": tr.w[:, 0].tolist(), "horizon": horizon(tr, ref, part_tol(data))[0]}
print(json.dumps(out))
""" % (RUNS,)


def child(extra_env: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY",)}
    env.update(extra_env)
    r = subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=ROOT, capture_output=True,
                       text=True, timeout=900, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--forced", default="ATEN_CPU_CAPABILITY=default XLA_FLAGS=--xla_cpu_max_isa=SSE4_2",
                    help="VAR=VALUE pairs, space-separated, of the forced run")
    a = ap.parse_args(argv)
    forced = dict(item.split("=", 1) for item in a.forced.split())
    native, other = child({}), child(forced)
    fmt = lambda h: "never" if h is None else str(h)  # noqa: E731
    print(f"| run | first step native != forced | horizon native | horizon forced ({a.forced}) |")
    print("|---|---|---|---|")
    for k in native:
        wn, wf = native[k]["w"], other[k]["w"]
        diff = next((t for t, (p, q) in enumerate(zip(wn, wf)) if p != q), None)
        print(f"| {k} | {'identical' if diff is None else diff} | {fmt(native[k]['horizon'])} | "
              f"{fmt(other[k]['horizon'])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
