"""Why torch eager's long runs stepped slower than its step case (#21): the history chunk.

    .venv/bin/python -m bench.studies.probe_history_chunk [--steps 3000] [--chunks 1024,32] [--out FILE]

Each chunk in --chunks runs, in a fresh process (one thread, pinned, glibc malloc 'steady' as the
bench's processes), torch eager at n = 1e6 (float32, sgd, the seed's data and lr) for --steps steps
as ``paritybench train`` does (advance(1), then advance(steps - 1)), with
``impls.torch_backend.HISTORY_CHUNK`` set to it: steps whose two (E,) outputs stay live until they
are stacked. Per block of 250 steps: ms per step and minor page faults per step
(getrusage ru_minflt), and the whole run's seconds. Writes a new JSON (default
results/history-chunk-probe-<time>.json). Run it alone on the machine (flock -x /tmp/pb.lock).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

from bench.studies import study

BLOCK = 250
WORKER = r'''
import json, resource, sys, time
from bench import frameworks
frameworks.pin_threads(1)
frameworks.set_malloc("steady")
import impls
import impls.torch_backend as tb
from impls import Problem, Recipe
chunk, steps, block = %d, %d, %d
tb.HISTORY_CHUNK = chunk
data = impls.generate(Problem(n=1_000_000, x_max=1000, seed=0))
r = tb.prepare(data, Recipe(optimizer="sgd", lr=4e-4, w0=1.5, steps=steps, dtype="float32"), "eager", "cpu")
inner, count, blocks = r.train_step, [0], []
mark = [time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt]
def step():
    out = inner()
    count[0] += 1
    if count[0] %% block == 0:
        now, faults = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        blocks.append({"steps": count[0], "ms_per_step": (now - mark[0]) / block * 1e3,
                       "faults_per_step": (faults - mark[1]) / block})
        mark[:] = [now, faults]
    return out
r.train_step = step
t0 = time.perf_counter()
r.advance(1)
r.advance(steps - 1)
print(json.dumps({"history_chunk": chunk, "steps": steps, "run_seconds": time.perf_counter() - t0,
                  "blocks": blocks}))
'''


def main(argv=None) -> int:
    ap = study.parser(__doc__, "history-chunk-probe")
    ap.add_argument("--steps", type=study.positive_int, default=3000, help=f"steps per run (>= {BLOCK})")
    ap.add_argument("--chunks", type=study.positive_ints, default="1024,32", help="HISTORY_CHUNK values, comma-separated")
    args = ap.parse_args(argv)
    if args.steps < BLOCK:
        ap.error(f"argument --steps: got {args.steps}; allowed: at least {BLOCK} (one block of steps)")
    out = study.out_path(args.out, "history-chunk-probe")
    from bench import frameworks
    runs = []
    for chunk in args.chunks:
        p = subprocess.run([sys.executable, "-c", WORKER % (chunk, args.steps, BLOCK)], cwd=study.ROOT,
                           capture_output=True, text=True, timeout=1800, check=True)
        rec = json.loads(p.stdout.strip().splitlines()[-1])
        runs.append(rec)
        b = rec["blocks"]
        print(f"chunk {chunk}: {rec['run_seconds']:.1f} s for {args.steps} steps; first {BLOCK} steps "
              f"{b[0]['ms_per_step']:.1f} ms and {b[0]['faults_per_step']:.0f} faults a step, slowest block "
              f"{max(x['ms_per_step'] for x in b):.1f} ms, last {b[-1]['ms_per_step']:.1f} ms and "
              f"{b[-1]['faults_per_step']:.0f} faults a step", flush=True)
    study.save(out, {"kind": "history-chunk-probe", "cpu_model": frameworks.device_names()["cpu"],
                     "versions": frameworks.versions(), "threads": 1, "malloc": "steady", "n": 1_000_000,
                     "block_steps": BLOCK, "runs": runs})
    return 0


if __name__ == "__main__":
    sys.exit(main())
