"""The gate's resolution study (issue #31): A/A false calls over many case-sets, planted slowdowns'
detection, both quiet and beside a CPU hog. Rerunnable; each step is one command.

    # one run of the CPU throughput matrix into DIR (a new file DIR/NAME.json and DIR/NAME.meta.json)
    .venv/bin/python -m bench.studies.resolution_study run --out DIR --name aa8 --processes 8
    .venv/bin/python -m bench.studies.resolution_study run --out DIR --name p1.05 --plant-all 1.05
    .venv/bin/python -m bench.studies.resolution_study run --out DIR --name hog-aa0 --hog 2:2:3
    # the figures, judged by today's gate: DIR/study-<time>.json (new)
    .venv/bin/python -m bench.studies.resolution_study analyze DIR

A run is ``pytest bench/test_throughput.py --device cpu`` (the default profile's step and floor cases)
with ``--processes P``. ``--plant-all F`` plants a real slowdown of F in every step case of the run
(``timing.planted``: after each timed call, spin for (F - 1) x its duration). ``--hog N:ON:OFF``
runs N processes beside it that spin for about ON s and sleep for about OFF s, each from a random
phase and with each span drawn from [0.5, 1.5] x its mean: a shared runner's neighbour.

What ``analyze`` computes (``figures``), every comparison by ``compare.compare_runs`` with its
defaults:
  splits   each run with 8 processes: its 7 replica processes (the pytest process, process 0, is
           left out: it is not exchangeable with the replicas, its ratio differs from theirs by up to
           15% in some cases) split every way into 4 against 3 (35 splits), judged as one interleaved
           run (no run-to-run term, as ``paritybench ab``'s A/A). The splits share processes, so they
           are dependent case-sets: any two share at least 1 process a side or swap them. They
           measure the false rate of a comparison whose two sides ran in the same run, not the
           run-to-run drift.
  pairs    separate A/A runs with 4 processes, judged with the committed noise profile of the
           machine kind where it was not fit to them: the study's own 4-process runs against each
           other and against the first 4 processes of its 8-process run (a run of the default kind:
           the pytest process and 3 replicas); and, with ``--cv DIR``, each disjoint pair (aa0,
           aa1), (aa2, aa3) of the committed gate studies judged with a profile built from the
           other runs given (leave-one-pair-out), quiet and beside the hog separately.
  plants   each planted run against every A/A 4-process run of the same condition (quiet or hog):
           per case, detected = called 'slower'; per size (n = 1e3 / n >= 1e5) and factor.
Intervals: Clopper-Pearson 95% on the false calls per case-comparison (a bound that treats the
case-comparisons as independent; the split ones are not, see above).
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import multiprocessing
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SELECT = "test_step or test_floor"  # the seed model's steps and floors (another model's cases are not gated here)


# ---------------------------------------------------------------- the hog


def _spin_sleep(seed: int, on: float, off: float) -> None:
    rng = random.Random(seed)
    time.sleep(rng.uniform(0, on + off))  # a random phase
    while True:
        end = time.perf_counter() + on * rng.uniform(0.5, 1.5)
        x = 0
        while time.perf_counter() < end:
            x += 1
        time.sleep(off * rng.uniform(0.5, 1.5))


def parse_hog(text: str | None) -> tuple[int, float, float] | None:
    """'N:ON:OFF' -> (N processes, mean seconds on, mean seconds off); None for no hog."""
    if not text:
        return None
    try:
        n, on, off = text.split(":")
        out = (int(n), float(on), float(off))
    except ValueError:
        out = (0, 0.0, 0.0)
    if not (1 <= out[0] <= 16 and 0 < out[1] <= 60 and 0 <= out[2] <= 60):
        raise argparse.ArgumentTypeError(f"got {text!r}; allowed: N:ON:OFF, 1 <= N <= 16 processes, "
                                         "0 < ON <= 60 and 0 <= OFF <= 60 seconds")
    return out


class Hog:
    """N spin/sleep processes for the duration of a ``with`` block; none outlives it."""

    def __init__(self, spec: tuple[int, float, float] | None, seed: int = 0):
        self.spec, self.seed, self.procs = spec, seed, []

    def __enter__(self):
        if self.spec:
            n, on, off = self.spec
            ctx = multiprocessing.get_context("spawn")
            for i in range(n):
                p = ctx.Process(target=_spin_sleep, args=(self.seed * 100 + i, on, off), daemon=True)
                p.start()
                self.procs.append(p)
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.join(5)
            if p.exitcode is None:
                p.kill()
                p.join(5)
        return False


# ---------------------------------------------------------------- one run


def step_ids() -> list[str]:
    from bench import matrix
    return [c.id for c in matrix.cases("default", devices=("cpu",))]


def bench_run(out: Path, name: str, processes: int, plant_all: float | None, hog, select: str | None) -> Path:
    path, meta = out / f"{name}.json", out / f"{name}.meta.json"
    for p in (path, meta):
        if p.exists():
            raise SystemExit(f"resolution_study: error: out: got {str(p)!r}, which exists; allowed: a new name")
    cmd = [sys.executable, "-m", "pytest", "bench/test_throughput.py", "--benchmark-only", "-q",
           "-p", "no:cacheprovider", "--device", "cpu", "--profile", "default",
           "--processes", str(processes), "--benchmark-json", str(path)]
    cmd += ["-k", f"({select}) and {SELECT}" if select else SELECT]
    env = dict(os.environ)
    env.pop("PARITYBENCH_PLANT", None)
    if plant_all:
        env["PARITYBENCH_PLANT"] = ",".join(f"{c}={plant_all}" for c in step_ids())
    t0 = time.time()
    print(f"{time.strftime('%H:%M:%S')} {name}: started ({processes} processes, plant {plant_all}, hog {hog})",
          flush=True)
    with Hog(hog, seed=int(t0)):
        rc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, timeout=3600, env=env).returncode
    wall = time.time() - t0
    if not path.is_file():
        raise SystemExit(f"resolution_study: {name}: pytest exited {rc} and wrote no JSON")
    meta.write_text(json.dumps({"name": name, "processes": processes, "plant_all": plant_all,
                                "hog": list(hog) if hog else None, "select": select,
                                "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0)),
                                "wall_seconds": round(wall, 1), "pytest_exit": rc}, indent=1))
    print(f"{time.strftime('%H:%M:%S')} {name}: {wall:.0f} s -> {path}", flush=True)
    return path


# ---------------------------------------------------------------- analysis


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval of k successes in n: the beta quantiles Beta(k, n - k + 1) at
    (1 - level)/2 and Beta(k + 1, n - k) at (1 + level)/2 (bisection on stats' incomplete beta)."""
    from paritybench.gate.stats import _betai
    if n == 0:
        return 0.0, 1.0
    a = (1 - level) / 2

    def quantile(x, y, q):
        lo, hi = 0.0, 1.0
        for _ in range(80):
            mid = (lo + hi) / 2
            if _betai(x, y, mid) < q:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2
    lo = 0.0 if k == 0 else quantile(k, n - k + 1, a)
    hi = 1.0 if k == n else quantile(k + 1, n - k, 1 - a)
    return lo, hi


def _subset(run, idx):
    """A copy of ``run`` whose gated cases keep only the processes ``idx`` (their rounds)."""
    import copy
    import dataclasses
    cases = {}
    for k, c in run.cases.items():
        e = c.info
        if c.kind in ("throughput", "tuned") and isinstance(e.get("process_paired_ratios"), list) \
                and len(e["process_paired_ratios"]) > max(idx):
            e = copy.copy(e)
            for f in ("process_paired_ratios", "process_round_seconds", "process_peak_rss_increase_bytes"):
                if isinstance(e.get(f), list) and len(e[f]) > max(idx):
                    e[f] = [e[f][i] for i in idx]
            c = dataclasses.replace(c, info=e)
        cases[k] = c
    return dataclasses.replace(run, cases=cases)


SIMULATED = (1.03, 1.05, 1.10, 1.20)


def _n(case: str) -> int | None:
    import re
    m = re.search(r"-n(\d+)-", case)
    return int(m.group(1)) if m and "parity" not in case else None


def _scaled(run, factor: float):
    """A copy of ``run`` whose step cases' paired ratios are all ``factor`` times larger (a step
    slowed alone: the simulated plant, on the run's measured noise)."""
    import dataclasses
    cases = {}
    for k, c in run.cases.items():
        if c.kind in ("throughput", "tuned") and isinstance(c.info.get("process_paired_ratios"), list):
            e = dict(c.info)
            e["process_paired_ratios"] = [[v * factor for v in p] for p in e["process_paired_ratios"]]
            c = dataclasses.replace(c, info=e)
        cases[k] = c
    return dataclasses.replace(run, cases=cases)


def _calls(diff) -> dict:
    rows = [r for r in diff.rows if r.verdict not in ("not gated",)]
    return {"cases": len(rows), "slower": [r.case for r in rows if r.verdict == "slower"],
            "faster": [r.case for r in rows if r.verdict == "faster"],
            "too_noisy": [r.case for r in rows if r.verdict == "too noisy"],
            "resolution": diff.resolution}


def figures(d: Path, cv_dirs=(), profile=None) -> dict:
    """The study's figures from the runs in ``d``, judged by today's gate (module docstring);
    ``profile``: the noise profile for the separate-run pairs (default: the committed one)."""
    from paritybench.gate import compare
    from paritybench.store import resultfile
    from paritybench.gate import noise as V  # the noise profiles (were verdict.py's)
    metas = {p.name[:-len(".meta.json")]: json.loads(p.read_text()) for p in sorted(d.glob("*.meta.json"))}
    runs = {n: resultfile.load(d / f"{n}.json", "run") for n in metas if (d / f"{n}.json").is_file()}
    cond = lambda m: "hog" if m.get("hog") else "quiet"
    out = {"runs": {n: metas[n] for n in runs}, "splits": [], "pairs": [], "plants": [],
           "profile": (profile or {}).get("path")}
    for n in [n for n in runs if metas[n]["processes"] >= 8]:  # its first 4 processes: a default run
        runs[f"{n}[0:4]"] = _subset(runs[n], (0, 1, 2, 3))
        metas[f"{n}[0:4]"] = {**metas[n], "processes": 4}
    for n, r in runs.items():
        m = metas[n]
        if m["processes"] >= 8 and not m.get("plant_all"):
            for left in itertools.combinations(range(1, 8), 4):
                right = tuple(i for i in range(1, 8) if i not in left)
                g = _calls(compare.compare_runs(_subset(r, left), _subset(r, right), profile=profile, same_run=True,
                                                first_apart=False))
                out["splits"].append({"run": n, "condition": cond(m), "old": left, "new": right, **g})
    aa = [n for n in runs if metas[n]["processes"] == 4 and not metas[n].get("plant_all")]
    for x, y in itertools.combinations(aa, 2):
        if cond(metas[x]) != cond(metas[y]) or x.split("[")[0] == y.split("[")[0]:
            continue
        g = _calls(compare.compare_runs(runs[x], runs[y], profile=profile))
        out["pairs"].append({"old": x, "new": y, "condition": cond(metas[x]), **g})
    for cv in cv_dirs:
        pool = {f"{Path(c).name}/{p.stem}": resultfile.load(p, "run") for c in cv_dirs
                for p in sorted(Path(c).glob("aa*.json"))}
        for x, y in (("aa0", "aa1"), ("aa2", "aa3")):
            kx, ky = f"{Path(cv).name}/{x}", f"{Path(cv).name}/{y}"
            if kx not in pool or ky not in pool:
                continue
            others = [r for k, r in pool.items() if k not in (kx, ky)]
            prof = {**V.build_profile(others), "path": f"leave-one-pair-out ({len(others)} runs)"}
            g = _calls(compare.compare_runs(pool[kx], pool[ky], profile=prof))
            out["pairs"].append({"old": kx, "new": ky, "condition": "quiet", "cv": True, **g})
            for factor in SIMULATED:  # every step case's ratios x factor in the new run: measured noise, scaled
                diff = compare.compare_runs(pool[kx], _scaled(pool[ky], factor), profile=prof)
                rows = [{"case": r.case, "n": _n(r.case), "verdict": r.verdict, "effect": r.effect,
                         "resolution": r.resolution} for r in diff.rows if r.verdict != "not gated" and _n(r.case)]
                out["plants"].append({"old": kx, "new": f"{ky} x {factor}", "factor": factor,
                                      "condition": "simulated", "rows": rows})
    for p in [n for n in runs if metas[n].get("plant_all")]:
        for x in [n for n in aa if cond(metas[n]) == cond(metas[p])]:
            diff = compare.compare_runs(runs[x], runs[p], profile=profile)
            rows = []
            for r in diff.rows:
                c = runs[p].cases.get(next((k for k, c in runs[p].cases.items() if c.kind in ("throughput", "tuned")
                                            and compare.short(c.name) == r.case), ""))
                if c is None or r.verdict == "not gated":
                    continue
                rows.append({"case": r.case, "n": c.get("n"), "backend": c.get("backend"),
                             "verdict": r.verdict, "effect": r.effect, "resolution": r.resolution})
            out["plants"].append({"old": x, "new": p, "factor": metas[p]["plant_all"], "condition": cond(metas[p]),
                                  "rows": rows})
    for m in sorted(d.glob("*.ab.json")):
        info = json.loads(m.read_text())
        sub = d / info["name"]
        if (sub / "a.json").is_file() and (sub / "b.json").is_file():
            diff = compare.compare_runs(resultfile.load(sub / "a.json", "A"), resultfile.load(sub / "b.json", "B"))
            out.setdefault("ab", []).append({**info, "condition": cond(info), **_calls(diff)})
    return out


def resolution_lines(f: dict) -> list[str]:
    """Per quiet separate-run pair: its resolution line, and how many step cases (default tier) at
    n >= 1e5 resolve 5% and 10%, and at n = 1e3 10%."""
    out = []
    for g in [g for g in f["pairs"] if g["condition"] == "quiet"]:
        per = g["resolution"].get("per_case", {})
        default = {c: e["resolution"] for c, e in per.items() if "-tuned-" not in c}
        big = [v for c, v in default.items() if "-n100000-" in c or "-n1000000-" in c]
        small = [v for c, v in default.items() if "-n1000-" in c]
        out.append(f"{g['old']} -> {g['new']}: {g['resolution'].get('line')}; default-tier steps at n >= 1e5: "
                   f"{sum(v <= 0.05 for v in big)} of {len(big)} resolve 5%, {sum(v <= 0.10 for v in big)} resolve "
                   f"10%; at n = 1e3: {sum(v <= 0.10 for v in small)} of {len(small)} resolve 10%")
    return out


def summary(f: dict) -> dict:
    """False calls per case-comparison and per case-set (with intervals) and detection rates."""
    s = {}
    for cond in ("quiet", "hog", "simulated"):
        for kind in ("splits", "pairs", "ab"):
            sets = [g for g in f.get(kind, []) if g["condition"] == cond]
            if not sets:
                continue
            n = sum(g["cases"] for g in sets)
            slower = sum(len(g["slower"]) for g in sets)
            faster = sum(len(g["faster"]) for g in sets)
            any_false = sum(bool(g["slower"] or g["faster"]) for g in sets)
            s[f"{kind}_{cond}"] = {
                "case_sets": len(sets), "case_comparisons": n, "false_slower": slower, "false_faster": faster,
                "false_per_1000": 1000 * (slower + faster) / n if n else None,
                "false_per_1000_ci95": [1000 * v for v in clopper_pearson(slower + faster, n)],
                "sets_with_a_false_call": any_false, "sets_ci95": list(clopper_pearson(any_false, len(sets))),
                "too_noisy_per_set": sum(len(g["too_noisy"]) for g in sets) / len(sets)}
        plants = [p for p in f["plants"] if p["condition"] == cond]
        for p in plants:
            for size, test in (("n1e3", lambda n: n == 1000), ("n>=1e5", lambda n: (n or 0) >= 100_000)):
                rows = [r for r in p["rows"] if test(r["n"])]
                key = f"plant_{cond}_{p['factor']}_{size}"
                e = s.setdefault(key, {"tries": 0, "slower": 0, "too_noisy": 0, "false_faster": 0})
                e["tries"] += len(rows)
                e["slower"] += sum(r["verdict"] == "slower" for r in rows)
                e["too_noisy"] += sum(r["verdict"] == "too noisy" for r in rows)
                e["false_faster"] += sum(r["verdict"] == "faster" for r in rows)
    return s


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="one run of the CPU throughput matrix into --out")
    r.add_argument("--out", required=True, help="the study's directory (created if missing)")
    r.add_argument("--name", required=True, help="the run's name: DIR/NAME.json, a new file")
    r.add_argument("--processes", type=int, default=4, help="processes per case (4: the default; 8: splits)")
    r.add_argument("--plant-all", type=float, default=None, metavar="F", help="plant F in every step case")
    r.add_argument("--hog", type=parse_hog, default=None, metavar="N:ON:OFF", help="a CPU hog beside the run")
    r.add_argument("--select", default=None, help="pytest -k expression")
    b = sub.add_parser("ab", help="paritybench ab, A/A (this Python both sides), into DIR/NAME/")
    b.add_argument("--out", required=True)
    b.add_argument("--name", required=True)
    b.add_argument("--profile", default="quick")
    b.add_argument("--processes", type=int, default=4)
    b.add_argument("--hog", type=parse_hog, default=None, metavar="N:ON:OFF")
    b.add_argument("-k", dest="expr", default=None)
    a = sub.add_parser("analyze", help="the figures of the runs in DIR, judged by today's gate")
    a.add_argument("dir")
    a.add_argument("--cv", nargs="*", default=[], metavar="DIR",
                   help="committed gate-study directories whose disjoint A/A pairs are judged leave-one-pair-out")
    args = ap.parse_args(argv)
    if args.cmd == "run":
        if args.plant_all is not None and not 1 < args.plant_all <= 10:
            ap.error(f"plant-all: got {args.plant_all}; allowed: a factor > 1 and <= 10")
        if not 1 <= args.processes <= 16:
            ap.error(f"processes: got {args.processes}; allowed: 1 to 16")
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        bench_run(out, args.name, args.processes, args.plant_all, args.hog, args.select)
        return 0
    if args.cmd == "ab":
        target = Path(args.out) / args.name
        cmd = [sys.executable, "-m", "paritybench", "ab", "--a", sys.executable, "--b", sys.executable,
               "--profile", args.profile, "--processes", str(args.processes), "--out", str(target)]
        cmd += ["-k", args.expr] if args.expr else []
        t0 = time.time()
        with Hog(args.hog, seed=int(t0)):
            rc = subprocess.run(cmd, cwd=ROOT, timeout=3600).returncode
        (Path(args.out) / f"{args.name}.ab.json").write_text(json.dumps(
            {"name": args.name, "hog": list(args.hog) if args.hog else None, "profile": args.profile,
             "processes": args.processes, "k": args.expr, "exit": rc, "wall_seconds": round(time.time() - t0, 1)}, indent=1))
        return 0
    d = Path(args.dir)
    from paritybench.store import resultfile
    from paritybench.gate import noise as V  # the noise profiles (were verdict.py's)
    first = sorted(d.glob("*.json"))
    profile = V.find_profile(resultfile.load(next(p for p in first if ".meta" not in p.name and "study-" not in p.name), "run"))
    f = figures(d, args.cv, profile)
    doc = {"figures": f, "summary": summary(f), "profile": (profile or {}).get("path"), "cv": args.cv,
           "resolution": resolution_lines(f), "when": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())}
    path = d / f"study-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.json"
    with open(path, "x") as fh:
        json.dump(doc, fh, indent=1)
    print(json.dumps(doc["summary"], indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
