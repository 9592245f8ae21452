"""Sparse parity's study (results/sparse-parity-study-*.json, bench/studies/sparse_parity_study.py)
in numbers: steps-to-solve per n and framework, the log-log fit's slope with its 95% bootstrap
interval, the frameworks paired by seed, and the jump's progress measures (when each moved).
report/sparse_parity.py writes them into docs/sparse-parity.md; render/sparse_parity.py draws them.
"""
from __future__ import annotations

import math
from pathlib import Path
from statistics import median

import numpy as np

from impls.models.outcome import signed_rank

from ..store.files import newest_study

ROOT = Path(__file__).resolve().parents[2]
PATTERN, MODULE = "sparse-parity-study-*.json", "bench.studies.sparse_parity_study"
MOVED = 1.5         # a progress measure has moved: 1.5x its value at step 0
BOOTSTRAP = 2000    # resamples of the seeds for a slope's interval
CHANCE_LEFT = 0.55  # held-out accuracy off chance: 0.5 + 6 sd of a fair coin's mean over 4096 samples


def newest(root: Path = ROOT) -> tuple[Path, dict] | str:
    return newest_study(root / "results", PATTERN, MODULE)


def _steps_by(doc: dict, backend: str) -> dict[int, list]:
    out: dict[int, list] = {}
    for r in doc["scaling"]:
        if r["backend"] == backend:
            out.setdefault(r["n"], []).append(r["steps_to_solve"])
    return dict(sorted(out.items()))


def backends(doc: dict) -> list[str]:
    return [b for b in ("torch", "jax") if any(r["backend"] == b for r in doc["scaling"])]


def fit_slope(rows: list[dict], seed: int = 0) -> dict:
    """log(steps) = a + b log(n) by least squares over the solved runs of every n whose seeds all
    solved; b's 95% interval: percentile bootstrap, the seeds resampled within each n."""
    by_n: dict[int, list] = {}
    for r in rows:
        by_n.setdefault(r["n"], []).append(r["steps_to_solve"])
    censored = sorted(n for n, v in by_n.items() if any(s is None for s in v))
    used = {n: np.asarray(v, float) for n, v in sorted(by_n.items()) if n not in censored}
    out = {"ns": sorted(used), "censored_ns": censored, "points": sum(len(v) for v in used.values())}
    if len(used) < 2:
        return {**out, "slope": None, "intercept": None, "slope_ci95": None}

    def ols(groups):
        x = np.concatenate([np.full(len(v), math.log(n)) for n, v in groups.items()])
        y = np.log(np.concatenate(list(groups.values())))
        b, a = np.polyfit(x, y, 1)
        return float(b), float(a)

    b, a = ols(used)
    rng = np.random.default_rng(seed)
    boot = [ols({n: rng.choice(v, len(v)) for n, v in used.items()})[0] for _ in range(BOOTSTRAP)]
    lo, hi = np.percentile(boot, [2.5, 97.5])
    medians = {str(n): float(np.median(v)) for n, v in used.items()}
    return {**out, "slope": b, "intercept": a, "slope_ci95": [float(lo), float(hi)],
            "bootstrap": BOOTSTRAP, "median_steps": medians}


def censored_median(v: list) -> float:
    """The median of steps-to-solve with an unsolved run (None) above any solve: finite when more
    than half the runs solved, inf otherwise."""
    x = sorted(math.inf if s is None else s for s in v)
    return float(x[len(x) // 2]) if len(x) % 2 else (x[len(x) // 2 - 1] + x[len(x) // 2]) / 2


def paired(doc: dict) -> dict | None:
    """torch against jax on the same (n, seed): equal steps-to-solve, and the largest difference
    in eval blocks."""
    t = {(r["n"], r["seed"]): r["steps_to_solve"] for r in doc["scaling"] if r["backend"] == "torch"}
    j = {(r["n"], r["seed"]): r["steps_to_solve"] for r in doc["scaling"] if r["backend"] == "jax"}
    keys = sorted(set(t) & set(j))
    if not keys:
        return None
    both = [(t[k], j[k]) for k in keys if t[k] is not None and j[k] is not None]
    diffs = [abs(a - b) // doc["eval_every"] for a, b in both]
    ratio = [b / a for a, b in both]
    late = doc["budget"] + doc["eval_every"]  # unsolved ranks later than any solve (outcome.py's rule)
    _, p, _ = signed_rank([(late if t[k] is None else t[k]) - (late if j[k] is None else j[k]) for k in keys])
    return {"pairs": len(keys), "both_solved": len(both), "equal": sum(a == b for a, b in both),
            "max_blocks": max(diffs) if diffs else None, "signed_rank_p": p,
            "median_ratio": median(ratio) if ratio else None,
            "ratio_range": [min(ratio), max(ratio)] if ratio else None}


def ratios(j: dict) -> dict[str, list]:
    """The jump's progress measures per recorded step: the pooled RMS ratio of W1's secret columns
    to the rest, the max and the top-10 mean over neurons of the same ratio per neuron."""
    pooled = [s / o if o else None for s, o in zip(j["secret_rms"], j["other_rms"])]
    return {"pooled": pooled, "max": j["neuron_ratio_max"], "top": j["neuron_ratio_top"]}


def first_step(j: dict, values: list, above: float) -> int | None:
    """The first recorded step whose value is >= ``above``."""
    for t, v in zip(j["steps"], values):
        if v is not None and v >= above:
            return t
    return None


def decay_only(j: dict, doc: dict, t: int) -> float:
    """||W1_t - W1_0|| / ||W1_0|| that weight decay alone would give: 1 - (1 - lr wd)^t."""
    o = doc["recipe"]["optim"]
    return 1 - (1 - o["lr"] * o["weight_decay"]) ** t


def _at(j: dict, key: str, step: int):
    return j[key][j["steps"].index(step)]
