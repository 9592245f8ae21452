"""The gate's A/A and planted-slowdown study: rerunnable by anyone (not a test: it takes an hour).

    .venv/bin/python -m bench.studies.gate_study --out results/gate-study [--runs 4] [--gap 900]
        [--plant torch-compiled-cpu-f32-n100000-sgd-E1=1.3] [--select "..."]

Runs the CPU throughput matrix (bench/test_throughput.py) ``--runs`` times, one start every
``--gap`` seconds (the same commit: A/A), then once more right after the last with ``--plant``
(a real slowdown of one case, ``timing.planted``). Then, with ``paritybench compare``'s gate:
  - each consecutive A/A pair: the number of 'slower' and 'faster' verdicts (target: 0 slower);
  - the floor_ratio drift between them: median |log(new/old)| over cases with n >= 1e5 (<= 0.05);
  - the planted run against the last A/A run: the planted case must read 'slower', the others not.
Every run's JSON and ``study.json`` (the figures) go to ``--out``, a new directory.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PLANT = "torch-compiled-cpu-f32-n100000-sgd-E1=1.3"


def bench_run(out: Path, name: str, plant: str | None, select: str | None) -> Path:
    path = out / f"{name}.json"
    cmd = [sys.executable, "-m", "pytest", "bench/test_throughput.py", "--benchmark-only", "-q",
           "-p", "no:cacheprovider", "--device", "cpu", "--benchmark-json", str(path)]
    if plant:
        cmd += ["--plant", plant]
    if select:
        cmd += ["-k", select]
    t0 = time.time()
    print(f"{time.strftime('%H:%M:%S')} {name}: started", flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, timeout=3600)
    print(f"{time.strftime('%H:%M:%S')} {name}: {time.time() - t0:.0f} s -> {path}", flush=True)
    return path


def gate(old: Path, new: Path) -> dict:
    """The gate's verdicts and the floor_ratio drift of n >= 1e5 cases (``gate.study.pair_figures``)."""
    from paritybench.gate import study as report  # pair_figures (was report.py's)
    from paritybench.store import resultfile
    f = report.pair_figures(resultfile.load(str(old), "old"), resultfile.load(str(new), "new"))
    return {"old": old.name, "new": new.name, "slower": sorted(f["slower"]),
            "faster": sorted(f["faster"]), "cases": f["cases"], "basis": f["basis"],
            "floor_ratio_drift_median_abs_log_n_ge_1e5": f["drift_median"],
            "floor_ratio_drift_max_abs_log_n_ge_1e5": f["drift_max"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="a new directory for the runs and study.json")
    ap.add_argument("--runs", type=int, default=4, help="A/A runs (>= 2)")
    ap.add_argument("--gap", type=float, default=900.0, help="seconds between A/A run starts")
    ap.add_argument("--plant", default=DEFAULT_PLANT, help="CASE_ID=FACTOR of the planted run ('' for none)")
    ap.add_argument("--select", default=None, help="pytest -k expression restricting the cases")
    a = ap.parse_args(argv)
    out = Path(a.out)
    if out.exists():
        raise SystemExit(f"gate_study: error: out: got {str(out)!r}, which exists; allowed: a new directory")
    if a.runs < 2:
        raise SystemExit(f"gate_study: error: runs: got {a.runs}; allowed: an integer >= 2")
    out.mkdir(parents=True)
    runs = []
    for i in range(a.runs):
        start = time.time()
        runs.append(bench_run(out, f"aa{i}", None, a.select))
        if i + 1 < a.runs:
            time.sleep(max(0.0, a.gap - (time.time() - start)))
    planted = bench_run(out, "planted", a.plant, a.select) if a.plant else None
    study = {"aa": [gate(x, y) for x, y in zip(runs, runs[1:])], "gap_seconds": a.gap,
             "plant": a.plant, "planted": gate(runs[-1], planted) if planted else None}
    (out / "study.json").write_text(json.dumps(study, indent=1))
    for g in study["aa"]:
        print(f"A/A {g['old']} -> {g['new']}: {len(g['slower'])} slower, {len(g['faster'])} faster of "
              f"{g['cases']}; floor_ratio drift n>=1e5 median |log| "
              f"{g['floor_ratio_drift_median_abs_log_n_ge_1e5']:.3f}")
    if planted:
        p = study["planted"]
        print(f"planted {a.plant}: slower {p['slower']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
