"""Page faults and time per training step under glibc's default malloc policy and the bench's
'steady' one (``frameworks.set_malloc``): the measurement behind ``--malloc steady``.

    .venv/bin/python -m bench.studies.malloc_faults [--out results/malloc-faults-<time>.json] [--steps 100]

Each (case, mode) runs in a fresh process (one thread, as the bench): build the case, 16 warm-up
steps, then ``--steps`` steps timed, minor page faults counted around them (``getrusage``). The
JSON (a new file) holds machine, versions and one row per (case, mode); ``paritybench report``
renders its figures (block ``malloc``).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES = (("reference", "numpy", 1_000_000, "sgd"), ("reference", "numpy", 100_000, "adam"),
         ("torch", "eager", 100_000, "sgd"), ("torch", "eager", 1_000_000, "adam"),
         ("torch", "compiled", 1_000_000, "sgd"), ("jax", "scan", 1_000_000, "sgd"))

CHILD = """
import json, resource, sys, time
from bench import frameworks
frameworks.pin_threads(1)
info = frameworks.set_malloc(sys.argv[5])
from bench import matrix, runners
c = matrix.Case(sys.argv[1], sys.argv[2], "cpu", "float32", int(sys.argv[3]), sys.argv[4], 1)
runners.build_floor(c)
runner, step = runners.build_step(c)
step(16)
steps = int(sys.argv[6])
f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
t0 = time.perf_counter()
step(steps)
t = time.perf_counter() - t0
f1 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
print(json.dumps({"case": c.id, "mode": info["mode"], "applied": info["applied"],
                  "faults_per_step": (f1 - f0) / steps, "seconds_per_step": t / steps}))
"""


def main(argv=None) -> int:
    from bench.studies import study

    ap = study.parser(__doc__, "malloc-faults")
    ap.add_argument("--steps", type=int, default=100)
    a = ap.parse_args(argv)
    out = study.out_path(a.out, "malloc-faults")
    rows = []
    for backend, variant, n, opt in CASES:
        for mode in ("default", "steady"):
            r = subprocess.run([sys.executable, "-c", CHILD, backend, variant, str(n), opt, mode, str(a.steps)],
                               cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
            rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
    from bench import frameworks
    from impls import numenv
    doc = {"kind": "malloc-faults", "datetime": time.strftime("%Y-%m-%dT%H:%M:%S"), "steps": a.steps,
           "versions": frameworks.versions(), "cpu_model": numenv.machine_part().get("cpu_model"),
           "libc": numenv.machine_part().get("libc"), "rows": rows}
    study.save(out, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
