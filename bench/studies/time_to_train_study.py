"""The time-to-train model checked against whole runs in fresh processes: docs/time-to-train.md.

    .venv/bin/python -m bench.studies.time_to_train_study [--run RUN.json] [--out results/time-to-train-study-<time>.json]
        [--steps 100,10000] [--sizes 1000,1000000] [--max-seconds 150] [--cold-only-above 100]

1. The model's inputs (paritybench/analyses/time_to_train.py): RUN.json's startup and throughput cases, or,
   without --run, a bench run made here first (the default profile's startup cases and the
   float32 sgd E = 1 step cases at --sizes, one process per case, one thread), written to a
   temporary file: its entries are copied into the study's JSON, which stands alone.
2. For each variant, size and S in --steps: a cold run of S steps in a fresh process on empty
   caches, then (a variant that compiles) a warm one on the caches it filled (bench/startup.py,
   the same harness as the startup cases), measured ``run_seconds`` (import + data + prepare +
   S steps + trajectory) beside the model's T(S); error = predicted / measured - 1; with the run's
   parts (import, first call, the steps after it, the trajectory's read-back) to say where an error goes.
   A run whose predicted T(S) exceeds --max-seconds is not made; the row says so.
3. --train: ``paritybench train`` (the seed's run) per variant in fresh processes, cold and warm,
   its process wall time: what the answer's fastest must agree with (issue #21).
One thread, pinned (as the bench). Run it alone on the machine (flock -x /tmp/pb.lock).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.studies import study

ROOT = study.ROOT


def bench_run(sizes, tmp: Path) -> Path:
    """A bench run of the model's inputs at ``sizes`` (default profile, one process per case)."""
    from bench import matrix, test_startup
    out = tmp / "bench.json"
    steps = [f"bench/test_throughput.py::test_step[{c.id}]" for c in matrix.cases("default", ("cpu",))
             if c.n in sizes and c.dtype == "float32" and c.optimizer == "sgd" and c.E == 1 and c.kind == "throughput"]
    starts = [f"bench/test_startup.py::test_startup[{c.id}]" for c in test_startup.starts("default", ("cpu",), matrix.BACKENDS)
              if c.n in sizes]
    cmd = [sys.executable, "-m", "pytest", *starts, *steps, "--benchmark-only", "-q", "-p", "no:cacheprovider",
           "--profile", "default", "--device", "cpu", "--processes", "1", "--benchmark-json", str(out)]
    print(f"bench: {len(starts)} startup and {len(steps)} step cases", flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return out


def train_check(b: str, v: str, tmp: Path) -> dict:
    """``paritybench train --backend b --variant v`` (the seed's run) in a fresh process, cold then
    warm (bench/startup.py's cache environment): the process's wall seconds, spawn to exit, and the
    time the command prints (its training, import excluded)."""
    from bench import startup
    caches = tmp / f"train-{b}-{v}"
    out = {}
    for kind in ("cold", "warm"):
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-m", "paritybench", "train", "--backend", b, "--variant", v], cwd=ROOT,
                           env={**os.environ, **startup.cache_env(caches)}, capture_output=True, text=True,
                           timeout=startup.TIMEOUT, check=True)
        wall = time.perf_counter() - t0
        line = next(ln for ln in p.stdout.splitlines() if ln.startswith(f"{b}-{v}"))
        out[kind] = {"process_seconds": wall, "train_seconds": float(line.split("time=")[1].split("s")[0])}
        print(f"paritybench train {b}-{v} {kind}: process {wall:.2f} s, printed {out[kind]['train_seconds']:.3f} s", flush=True)
    shutil.rmtree(caches, ignore_errors=True)
    return {"backend": b, "variant": v, **out}


def main(argv=None) -> int:
    ap = study.parser(__doc__, "time-to-train-study")
    ap.add_argument("--run", help="a result file with startup cases (default: a bench run made here)")
    ap.add_argument("--steps", type=study.positive_ints, default="100,10000", help="S of the runs (>= 2), comma-separated")
    ap.add_argument("--sizes", type=study.positive_ints, default="1000,1000000", help="n of the runs, comma-separated")
    ap.add_argument("--max-seconds", type=float, default=150.0, help="runs predicted longer are not made")
    ap.add_argument("--cold-only-above", type=float, default=None, metavar="SECONDS",
                    help="runs predicted longer are made cold only (warm differs by its start, checked at short S)")
    ap.add_argument("--train", action="store_true", help="also time `paritybench train` (the seed's run) per variant, "
                    "cold and warm, in fresh processes")
    args = ap.parse_args(argv)
    steps, sizes = args.steps, args.sizes
    if min(steps) < 2:
        ap.error(f"argument --steps: got {min(steps)}; allowed: at least 2 (a first call and the steps after it)")
    out = study.out_path(args.out, "time-to-train-study")
    from bench import frameworks, startup
    from paritybench.store import resultfile
    from paritybench.analyses import time_to_train as ttt
    frameworks.pin_threads(1)
    tmp = Path(tempfile.mkdtemp(prefix="ttt-study-"))
    t0 = time.time()
    try:
        run_path = Path(args.run) if args.run else bench_run(sizes, tmp)
        run = resultfile.load(run_path, "run")
        ents = [e for e in ttt.entries(run) if e["n"] in sizes and e["device"] == "cpu"]
        if not ents:
            raise SystemExit(f"run: got {str(run_path)!r} (no startup cases at n in {sizes}); allowed: a result file with them")
        train = [train_check(e["backend"], e["variant"], tmp) for e in ents if e["n"] == 1000] if args.train else []
        rows = []
        for e in ents:
            for s in steps:
                kinds = startup.KINDS if e["warm_measured"] else ("cold",)
                pred = {k: ttt.seconds(e, s, k) for k in kinds}
                row = {"backend": e["backend"], "variant": e["variant"], "n": e["n"], "steps": s}
                if max(pred.values()) > args.max_seconds:
                    row["not_run"] = f"predicted {max(pred.values()):.0f} s > --max-seconds {args.max_seconds:g}"
                    rows.append(row)
                    print(f"{e['label']} n={e['n']} S={s}: {row['not_run']}", flush=True)
                    continue
                if args.cold_only_above is not None and max(pred.values()) > args.cold_only_above:
                    kinds = ("cold",)
                    row["warm_not_run"] = f"predicted {max(pred.values()):.0f} s > --cold-only-above {args.cold_only_above:g}"
                caches = tmp / f"{e['label']}-{e['n']}-{s}"
                for k in kinds:
                    rec = startup.start(e["backend"], e["variant"], e["n"], k, caches, 1, timeout=args.max_seconds * 3 + 60,
                                        steps=s)
                    row[k] = {"measured_seconds": rec["run_seconds"], "predicted_seconds": pred[k],
                              "error": pred[k] / rec["run_seconds"] - 1, "import_seconds": rec["import_seconds"],
                              "first_call_seconds": rec["first_call_seconds"], "rest_seconds": rec["rest_seconds"],
                              "trajectory_seconds": rec["trajectory_seconds"], "process_seconds": rec["process_seconds"]}
                    print(f"{e['label']} n={e['n']} S={s} {k}: measured {rec['run_seconds']:.3f} s, model "
                          f"{pred[k]:.3f} s ({row[k]['error']:+.1%})", flush=True)
                shutil.rmtree(caches, ignore_errors=True)
                rows.append(row)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    doc = {"kind": "time-to-train-study", "run": str(run_path) if args.run else "made by this study (bench_run)",
           "cpu_model": frameworks.device_names()["cpu"], "threads": 1, "versions": frameworks.versions(),
           "wall_seconds": time.time() - t0, "model": "T(S) = startup + S x step (paritybench/analyses/time_to_train.py)",
           "entries": ents, "rows": rows, "train": train}
    study.save(out, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
