"""The committed gate studies (results/gate-study-*/, bench/studies/gate_study.py) judged by
today's gate: each A/A pair's verdicts and floor-ratio drift, and the planted run's.
"""
from __future__ import annotations

import math
from pathlib import Path
from statistics import median

from ..store import resultfile
from ..store.resultfile import Run

ROOT = Path(__file__).resolve().parents[2]


def study_dirs(root: Path = ROOT) -> list[Path]:
    """The committed gate studies: results/gate-study-*/ (bench/studies/gate_study.py), by name."""
    return sorted(d for d in (root / "results").glob("gate-study-*") if d.is_dir())


def pair_figures(a: Run, b: Run) -> dict:
    """Run ``a`` against run ``b`` by today's gate: its verdicts, the largest change, and the
    floor_ratio drift |log(new/old)| of throughput cases with n >= 1e5 (median, max, count)."""
    from . import compare

    diff = compare.compare_runs(a, b)
    drift = [abs(math.log(b.cases[k].get("floor_ratio") / a.cases[k].get("floor_ratio")))
             for k in b.cases if k in a.cases and b.cases[k].kind == "throughput"
             and (b.cases[k].get("n") or 0) >= 100_000
             and a.cases[k].get("floor_ratio") and b.cases[k].get("floor_ratio")]
    return {"cases": len(diff.rows), "basis": diff.basis, "rows": diff.rows,
            "slower": [r.case for r in diff.rows if r.verdict == "slower"],
            "faster": [r.case for r in diff.rows if r.verdict == "faster"],
            "drift_median": median(drift) if drift else None, "drift_max": max(drift) if drift else None,
            "drift_cases": len(drift),
            "max_effect": max((abs(math.log(r.effect)) for r in diff.rows if r.effect), default=0.0)}


def gate_study_figures(d: Path) -> dict:
    """A/A pairs and the planted run of study directory ``d``, judged by today's gate."""
    import datetime as dt

    def load(name):
        return resultfile.load(d / f"{name}.json", "run")

    aa = sorted(p.stem for p in d.glob("aa*.json"))
    runs = {n: load(n) for n in aa}
    out = {"aa": [], "planted": None, "first": runs[aa[0]] if aa else None}
    for x, y in zip(aa, aa[1:]):
        a, b = runs[x], runs[y]
        gap = (dt.datetime.fromisoformat(b.datetime) - dt.datetime.fromisoformat(a.datetime)).total_seconds()
        out["aa"].append({"pair": f"{x} -> {y}", "gap_min": gap / 60, **pair_figures(a, b)})
    if (d / "planted.json").is_file() and aa:
        p = load("planted")
        f = pair_figures(runs[aa[-1]], p)
        plant = p.doc_extra.get("planted", {})
        rows = {r.case: r for r in f["rows"]}
        out["planted"] = {"plant": plant, "rows": {c: rows.get(c) for c in plant},
                          "other_slower": [c for c in f["slower"] if c not in plant]}
    return out
