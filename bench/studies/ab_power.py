"""How fine does `paritybench ab` see? (issue #31) One interleaved ab of one environment against
itself, with real slowdowns planted on side B in every sgd step case of the default profile (5% at
n >= 1e5, 10% at n = 1e3: ``--plants`` prints the list), the adam cases left as they are. Its
processes are split into disjoint groups of P a side (A and B processes of a group were timed
side by side), and each group is judged by compare's own rule (``gate.compare.compare_runs``, one
interleaved run, the machine kind's noise profile). Per P: the planted cases' detection per size
band, the unplanted cases' false verdicts, and how many cases resolve 5% (n >= 1e5) and 10% (n = 1e3).

    .venv/bin/paritybench ab --a .venv/bin/python --b .venv/bin/python --profile default --device cpu \\
        -k "test_step and not tuned" --processes 16 --plant-b "$(.venv/bin/python -m bench.studies.ab_power --plants)" \\
        --out results/ab-power-<time>
    .venv/bin/python -m bench.studies.ab_power results/ab-power-<time> [--groups 16,8,4] [--out F]

The groups of one run share its hour and its environment: they measure what one ab sees, not how
ab runs on other days differ.
"""
from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

from bench.studies import study
from bench.studies.resolution_study import clopper_pearson

PLANT = {"large": 1.05, "small": 1.10}  # n >= 1e5, n = 1e3


def band(case_id: str) -> str:
    return "large" if int(re.search(r"-n(\d+)-", case_id).group(1)) >= 100_000 else "small"


def plants() -> str:
    """The ``--plant-b`` list: every default-profile CPU sgd step case (tuned tier apart)."""
    from bench import matrix
    ids = [c.id for c in matrix.cases("default", devices=("cpu",)) if c.optimizer == "sgd" and c.tier == "default"]
    return ",".join(f"{i}={PLANT[band(i)]}" for i in ids)


def _step_ids(doc: dict) -> set[str]:
    """The ids of the step cases in an ab side's JSON."""
    return {b["name"].split("[")[-1][:-1] for b in doc["benchmarks"] if b["extra_info"].get("kind") == "throughput"}


def group(doc: dict, lo: int, hi: int) -> dict:
    """``doc`` with every per-process list of its step cases cut to processes lo..hi-1."""
    out = copy.deepcopy(doc)
    for b in out["benchmarks"]:
        ei = b["extra_info"]
        n = len(ei.get("process_paired_ratios") or [])
        for k, v in list(ei.items()):
            if k.startswith("process_") and isinstance(v, list) and len(v) == n and n:
                ei[k] = v[lo:hi]
    return out


def judge(a: dict, b: dict, planted: dict[str, float], p: int) -> dict:
    """Every disjoint group of ``p`` processes a side, judged: the tallies of the module docstring."""
    from paritybench.gate.compare import compare_runs
    from paritybench.gate.noise import find_profile
    from paritybench.store.resultfile import parse
    total = min(len(bb["extra_info"].get("process_paired_ratios") or []) for d in (a, b) for bb in d["benchmarks"]
                if bb["extra_info"].get("kind") == "throughput")
    tally = {"groups": total // p, "planted": {}, "unplanted": {"comparisons": 0, "slower": 0, "faster": 0},
             "resolve": {"large": [], "small": []}, "resolution_lines": []}
    steps = {i for i in _step_ids(a) if "tuned" not in i}
    profile = find_profile(parse(b, "b"))
    for g in range(total // p):
        ra = parse(group(a, g * p, (g + 1) * p), f"a[{g * p}:{(g + 1) * p}]")
        rb = parse(group(b, g * p, (g + 1) * p), f"b[{g * p}:{(g + 1) * p}]")
        d = compare_runs(ra, rb, profile=profile, same_run=True)
        tally["resolution_lines"].append(d.resolution.get("line", ""))
        ok = {"large": 0, "small": 0}
        for r in d.rows:
            if r.case not in steps:
                continue
            bd = band(r.case)
            lim = 0.05 if bd == "large" else 0.10
            ok[bd] += r.resolution is not None and r.resolution <= lim
            if r.case in planted:
                t = tally["planted"].setdefault(f"{planted[r.case]:g}x {bd}", {"tries": 0, "slower": 0, "too noisy": 0,
                                                                               "faster": 0})
                t["tries"] += 1
                t[r.verdict] = t.get(r.verdict, 0) + 1
            else:
                u = tally["unplanted"]
                u["comparisons"] += 1
                u[r.verdict] = u.get(r.verdict, 0) + 1
        for bd in ok:
            tally["resolve"][bd].append(ok[bd])
    u = tally["unplanted"]
    u["false_per_1000_ci95"] = [1000 * v for v in clopper_pearson(u["slower"] + u["faster"], u["comparisons"])]
    return tally


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--plants"]:
        print(plants())
        return 0
    ap = study.parser(__doc__, "ab-power")
    ap.add_argument("ab_dir", help="a `paritybench ab` directory (a.json, b.json) made as the docstring says")
    ap.add_argument("--groups", type=study.positive_ints, default=[16, 8, 4], help="processes a side per group")
    a = ap.parse_args(argv)
    d = Path(a.ab_dir)
    try:
        docs = [json.loads((d / f"{s}.json").read_text()) for s in "ab"]
    except (OSError, ValueError) as e:
        ap.error(f"ab_dir: got {a.ab_dir!r} ({type(e).__name__}); allowed: a paritybench ab directory with a.json and b.json")
    spec = (docs[1].get("paritybench") or {}).get("ab", {}).get("planted") or (docs[1].get("paritybench") or {}).get("planted")
    from bench.timing import parse_plant
    planted = parse_plant(spec if isinstance(spec, str) else None)
    if not planted:
        ap.error(f"ab_dir: got {a.ab_dir!r}, whose side B has nothing planted; allowed: an ab run with --plant-b")
    out = study.out_path(a.out, "ab-power")
    cases = {bd: sum(band(i) == bd for i in _step_ids(docs[0]) if "tuned" not in i) for bd in PLANT}
    doc = {"kind": "ab-power", "ab_dir": str(d), "planted": planted, "cases": cases,
           "by_processes": {str(p): judge(docs[0], docs[1], planted, p) for p in a.groups}}
    from paritybench.report.gate_noise import ab_power_table
    for line in ab_power_table(doc):
        print(line)
    study.save(out, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
