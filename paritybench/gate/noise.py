"""Noise profiles: a machine kind's measured noise per case, from several A/A runs of one commit
(bench/studies/noise_profile.py writes them to results/noise-profile-*.json); the gate's rules
(rules.py ``noise``) pool them in where they apply.
"""
from __future__ import annotations

import math
from statistics import median

from ..store.resultfile import Run
from .machines import hardware_differences
from .rules import _pooled_var, samples

PROFILE_GLOB = "noise-profile-*.json"  # results/: bench/studies/noise_profile.py writes them
MIN_RUN_SD = 0.005  # a profile's run-to-run sd is at least this (its estimate from a few runs can be 0)


def profile_entry(runs: list[list[list[float]]], first_apart: bool = False) -> dict | None:
    """A case's noise from several runs of one commit, each a list of processes' rounds (seconds or
    ratios): the pooled between-process sd of the log process medians within runs, and the
    run-to-run sd of the runs' means beyond what the processes explain (moment estimate with R - 1
    degrees of freedom; below MIN_RUN_SD, MIN_RUN_SD taken as known: df_run None). ``first_apart``:
    with >= 3 processes a run, its first (the pytest process) is left out, as ``noise`` blocks its
    offset. None with fewer than 2 runs."""
    runs = [[[math.log(v) for v in p] for p in r] for r in runs if r]
    if len(runs) < 2:
        return None
    mean = lambda g: sum(g) / len(g)
    meds = [[median(p) for p in r] for r in runs]
    if first_apart and min(len(m) for m in meds) >= 3:
        meds = [m[1:] for m in meds]  # the replicas: the pytest process's offset is judged apart
    vp, dfp = _pooled_var([m for m in meds if len(m) > 1], mean)
    means = [mean(m) for m in meds]
    vr = sum((x - mean(means)) ** 2 for x in means) / (len(means) - 1)
    inv_p = mean([1 / len(m) for m in meds])
    est = math.sqrt(max(0.0, vr - vp * inv_p))
    # below the floor the floor is an assumption, not an estimate: it carries no degrees of freedom' doubt
    sd_run, df_run = (est, len(runs) - 1) if est > MIN_RUN_SD else (MIN_RUN_SD, None)
    return {"runs": len(runs), "processes": [len(m) for m in meds], "sd_process": math.sqrt(vp),
            "df_process": dfp, "sd_run": sd_run, "df_run": df_run, "sd_run_estimate": est,
            "sd_run_means": math.sqrt(vr)}


def build_profile(runs: list[Run]) -> dict:
    """A noise profile from several A/A runs of one machine kind: every gated case's
    ``profile_entry`` on the paired basis, and the first run's machine_info (its hardware fields
    decide where the profile applies). ValueError if the runs' hardware differs."""
    for r in runs[1:]:
        diff = hardware_differences(runs[0], r)
        if diff:
            raise ValueError(f"runs: got {r.path} on other hardware than {runs[0].path} ({diff[0]}); "
                             "allowed: runs of one machine kind")
    cases = {}
    for k in runs[0].cases:
        got = [samples(r.cases[k], "paired") for r in runs if k in r.cases]
        got = [g for g in got if g]
        if runs[0].cases[k].kind in ("throughput", "tuned", "op") and len(got) >= 2:
            e = profile_entry(got)
            if e:
                cases[k] = e
    return {"kind": "noise-profile", "machine_info": runs[0].machine_info, "runs": [str(r.path) for r in runs],
            "cases": cases}


def find_profile(run: Run, root=None) -> dict | None:
    """The newest results/noise-profile-*.json whose hardware fields match ``run``'s (by name), with
    its ``path``; None where none does."""
    import json
    from pathlib import Path
    from types import SimpleNamespace
    root = Path(root) if root else Path(__file__).resolve().parents[2] / "results"
    for p in sorted(root.glob(PROFILE_GLOB), reverse=True):
        try:
            doc = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("cases"), dict) and \
                not hardware_differences(SimpleNamespace(machine_info=doc.get("machine_info") or {}), run):
            return {**doc, "path": f"{root.name}/{p.name}"}
    return None


def same_ab_run(a: Run, b: Run) -> bool:
    """Whether ``a`` and ``b`` are the two sides of one ``paritybench ab`` (processes interleaved)."""
    ia, ib = a.doc_extra.get("ab"), b.doc_extra.get("ab")
    return isinstance(ia, dict) and isinstance(ib, dict) and ia.get("side") != ib.get("side") \
        and ia.get("order") == ib.get("order") and ia.get("order") is not None
