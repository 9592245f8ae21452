"""Does the between-process spread of a case's paired floor ratio come from where a process lands?
(issue #31: the spread that limits the gate's resolution.) Each condition starts the selected
throughput cases in ``--runs`` fresh one-process runs, the conditions interleaved run by run so a
drift of the machine hits them alike:

  plain    as the bench starts its processes
  noaslr   address-space randomisation off and a fixed hash seed (setarch -R, PYTHONHASHSEED=0):
           every process gets the same memory layout
  cpu0     pinned to CPU 0 (taskset -c 0): no migration between CPUs
  cpu1     pinned to CPU 1
  thp      the heap on transparent huge pages (GLIBC_TUNABLES=glibc.malloc.hugetlb=1: glibc madvises
           its heap MADV_HUGEPAGE; THP_MEM_ALLOC_ENABLE=1: torch's large tensors too): an array's
           physical pages, and so its cache sets, are contiguous 2 MiB runs instead of whatever 4 KiB
           pages the kernel handed out

    .venv/bin/python -m bench.studies.process_conditions [--runs 6] [--conditions plain,noaslr,cpu0] [--out F]

Per condition and case: each process's median paired ratio, and the sd of their logs (the
between-process sd that compare's resolution rests on). Run it alone on the machine.
"""
from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench.studies import study

CASES = ("torch-eager-cpu-f32-n100000-sgd-E1", "torch-compiled-cpu-f32-n100000-sgd-E1",
         "jax-jit-cpu-f32-n100000-sgd-E1", "reference-numpy-cpu-f32-n1000000-sgd-E1")  # --cases: others
PREFIX = {"plain": [], "noaslr": ["setarch", "x86_64", "-R"], "cpu0": ["taskset", "-c", "0"],
          "cpu1": ["taskset", "-c", "1"], "thp": []}
ENV = {"noaslr": {"PYTHONHASHSEED": "0"},
       "thp": {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1", "THP_MEM_ALLOC_ENABLE": "1"}}


def one_run(condition: str, out: str, cases=CASES) -> dict[str, float]:
    """One fresh one-process bench run of ``cases`` under ``condition``: {case: median paired ratio}."""
    env = dict(os.environ, PARITYBENCH_CACHE_SCAN="no", **ENV.get(condition, {}))
    select = "test_step and (" + " or ".join(cases) + ")"
    subprocess.run(PREFIX[condition] + [sys.executable, "-m", "pytest", "bench/test_throughput.py", "--benchmark-only",
                                        "-q", "-p", "no:cacheprovider", "--device", "cpu", "--processes", "1",
                                        "--profile", "default", "-k", select, "--benchmark-json", out],
                   cwd=study.ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=600)
    doc = json.loads(open(out).read())
    return {b["name"].split("[")[1][:-1]: statistics.median(b["extra_info"]["paired_ratios"])
            for b in doc["benchmarks"] if b["extra_info"].get("kind") == "throughput"}


def main(argv=None) -> int:
    ap = study.parser(__doc__, "process-conditions")
    ap.add_argument("--runs", type=study.positive_int, default=6)
    ap.add_argument("--conditions", default="plain,noaslr,cpu0")
    ap.add_argument("--cases", default=",".join(CASES), help="step case ids, comma-separated")
    a = ap.parse_args(argv)
    conds, cases = a.conditions.split(","), tuple(a.cases.split(","))
    bad = [c for c in conds if c not in PREFIX]
    if bad or len(conds) < 2:
        ap.error(f"conditions: got {a.conditions!r}; allowed: two or more of {', '.join(PREFIX)}")
    out = study.out_path(a.out, "process-conditions")
    ratios: dict[str, dict[str, list[float]]] = {c: {} for c in conds}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.runs):
            for c in conds:
                t = time.time()
                for case, r in one_run(c, f"{tmp}/{c}{i}.json", cases).items():
                    ratios[c].setdefault(case, []).append(r)
                print(f"run {i} {c}: {time.time() - t:.0f} s", flush=True)
    sd = {c: {k: statistics.stdev([math.log(x) for x in v]) for k, v in per.items()} for c, per in ratios.items()}
    for c in conds:
        for k, v in ratios[c].items():
            print(f"{c:7s} {k:40s} between-process sd {100 * sd[c][k]:5.1f}%  " + " ".join(f"{x:.2f}" for x in v))
    study.save(out, {"kind": "process-conditions", "runs": a.runs, "cases": list(cases), "env": {c: ENV.get(c, {}) for c in conds},
                     "paired_ratio_medians": ratios, "between_process_sd": sd})
    return 0


if __name__ == "__main__":
    sys.exit(main())
