"""Does a step cost the same in a long call as in the step case's short ones? (#21, jax-jit at n = 1e3)

    .venv/bin/python -m bench.studies.probe_call_length [--backend jax --variant jit] [--n 1000]
        [--ks 64,256,1024,8192] [--steps 16384] [--out FILE]

One fresh process (one thread, pinned, glibc malloc 'steady', as the bench's), one prepared run of
the seed's recipe (float32, sgd): for each K in --ks, then again in reverse order, advance(K) calls
totalling --steps steps; each pass's median seconds per step. The step case times advance(K) at
the K that makes a call last 2 ms (64 for jax-jit at n = 1e3 here); ``paritybench train`` and the
time-to-train study's runs make one call of S - 1 steps. Writes a new JSON (default
results/call-length-probe-<time>.json). Run it alone on the machine (flock -x /tmp/pb.lock).
"""
from __future__ import annotations

import json
import subprocess
import sys
from statistics import median

from bench.studies import study

WORKER = r'''
import json, sys, time
from statistics import median
from bench import frameworks
frameworks.pin_threads(1)
frameworks.set_malloc("steady")
import impls
from impls import Problem, Recipe
backend, variant, n, ks, steps = json.loads(sys.argv[1])
data = impls.generate(Problem(n=n, x_max=1000, seed=0))
r = impls.get(backend).prepare(data, Recipe(optimizer="sgd", lr=4e-4, w0=1.5, steps=1, dtype="float32"), variant, "cpu")
for k in ks:
    r.advance(k)  # compiled and warm at every K (a scan compiles per K)
passes = []
for k in ks + ks[::-1]:
    per = []
    for _ in range(max(1, steps // k)):
        t = time.perf_counter(); r.advance(k); per.append((time.perf_counter() - t) / k)
    passes.append({"k": k, "calls": len(per), "median_seconds_per_step": median(per)})
print(json.dumps(passes))
'''


def main(argv=None) -> int:
    ap = study.parser(__doc__, "call-length-probe")
    ap.add_argument("--backend", default="jax")
    ap.add_argument("--variant", default="jit")
    ap.add_argument("--n", type=study.positive_int, default=1000)
    ap.add_argument("--ks", type=study.positive_ints, default="64,256,1024,8192", help="steps per call, comma-separated")
    ap.add_argument("--steps", type=study.positive_int, default=16384, help="steps per K and pass")
    args = ap.parse_args(argv)
    out = study.out_path(args.out, "call-length-probe")
    from bench import frameworks
    ks = args.ks
    cfg = json.dumps([args.backend, args.variant, args.n, ks, args.steps])
    p = subprocess.run([sys.executable, "-c", WORKER, cfg], cwd=study.ROOT, capture_output=True, text=True,
                       timeout=1800, check=True)
    passes = json.loads(p.stdout.strip().splitlines()[-1])
    by_k = {k: median(x["median_seconds_per_step"] for x in passes if x["k"] == k) for k in ks}
    for k in ks:
        print(f"{args.backend}-{args.variant} n={args.n} K={k}: {by_k[k] * 1e6:.1f} us a step "
              f"({by_k[k] / by_k[ks[0]] - 1:+.1%} against K={ks[0]})", flush=True)
    study.save(out, {"kind": "call-length-probe", "cpu_model": frameworks.device_names()["cpu"],
                     "versions": frameworks.versions(), "threads": 1, "malloc": "steady",
                     "backend": args.backend, "variant": args.variant, "n": args.n, "steps_per_pass": args.steps,
                     "passes": passes, "seconds_per_step": {str(k): v for k, v in by_k.items()}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
