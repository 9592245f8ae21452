"""The paper's result for the second model, from the newest committed
results/sparse-parity-study-*.json (bench/studies/sparse_parity_study.py): docs/sparse-parity.md.

Blocks (``paritybench report``):
  sp-recipe   the study's recipe, machine, versions and command
  sp-scaling  steps-to-solve against n per framework (median, range over the seeds, solved/seeds),
              the log-log fit's slope with its 95% bootstrap interval, the frameworks paired by seed
  sp-jump     the jump's run: the solve step, when the progress measures moved, what they read then
  sp-verdict  what matches the paper and what does not, with the numbers
  sp-long     the newest results/sparse-parity-long-*.json: the same study with a longer budget
              at an n where the main one's runs did not solve
Figure (matplotlib, Agg):
  figure(doc)  three panels: steps-to-solve vs n (log-log, every seed, medians, the fit); the jump's
               held-out accuracy and training loss vs steps; its progress measures vs steps

    .venv/bin/python -m paritybench.report_models [--png docs/img/sparse-parity.png] [--json PATH]
draws the figure from the newest committed study (or --json).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from statistics import median

import numpy as np

from impls.models.outcome import signed_rank

from ..store.files import newest_study

ROOT = Path(__file__).resolve().parents[2]
PATTERN, MODULE = "sparse-parity-study-*.json", "bench.studies.sparse_parity_study"
PNG = ROOT / "docs" / "img" / "sparse-parity.png"
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


# ---------------------------------------------------------------- blocks

def _load(run=None):
    found = newest()
    return found if isinstance(found, str) else found


def block_recipe(run=None) -> str:
    found = _load()
    if isinstance(found, str):
        return found
    path, d = found
    r, v = d["recipe"], d.get("versions") or {}
    var = ", ".join(f"{b} {x}" for b, x in d["variants"].items())
    return (f"`{path.relative_to(ROOT)}` ({d['datetime']}): width {r['width']}, batch {r['batch']}, "
            f"{r['optim']['optimizer']} lr {r['optim']['lr']}, weight decay {r['optim']['weight_decay']}, "
            f"{r['loss']} loss, {r['dtype']}, fresh batches every step; solved = {r['solved']} on "
            f"{r['eval_size']} held-out samples, scored every {d['eval_every']} steps; k = {r['k']}, "
            f"n = {', '.join(map(str, d['ns']))}, seeds 0..{d['seeds'] - 1}, budget {d['budget']} steps; "
            f"variants {var}; {d['jobs']} job(s) of 1 thread on {d.get('cpu_model')} ({d['cpus']} CPUs), "
            f"wall {d['wall_seconds']:.0f} s; torch {v.get('torch')}, jax {v.get('jax')}, python {v.get('python')}.\n"
            f"Regenerate: `{d['command'].replace('python ', '.venv/bin/python ', 1)}`\n")


def _fit_line(f: dict) -> str:
    if f.get("slope") is None:
        return "no fit (fewer than two n with every seed solved)"
    lo, hi = f["slope_ci95"]
    cens = f", n = {', '.join(map(str, f['censored_ns']))} left out (a seed unsolved)" if f["censored_ns"] else ""
    return (f"slope {f['slope']:.2f} [95% {lo:.2f}, {hi:.2f}] over n = {f['ns'][0]}..{f['ns'][-1]} "
            f"({f['points']} runs{cens})")


def block_scaling(run=None) -> str:
    found = _load()
    if isinstance(found, str):
        return found
    _, d = found
    bs = backends(d)
    by = {b: _steps_by(d, b) for b in bs}
    ns = sorted({n for b in bs for n in by[b]})
    head = ("| n | " + " | ".join(f"{b}-{d['variants'][b]}: median [min, max of the solved] (solved)" for b in bs)
            + " |")
    lines = [head, "|---:|" + "---|" * len(bs)]
    for n in ns:
        cells = []
        for b in bs:
            v = by[b].get(n, [])
            s = [x for x in v if x is not None]
            m = censored_median(v)
            cells.append((f"{m:.0f}" if math.isfinite(m) else f"> {d['budget']}")
                         + (f" [{min(s)}, {max(s)}]" if s else "") + f" ({len(s)}/{len(v)})")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    out = "\n".join(lines) + "\n\n"
    for b in bs + (["pooled"] if len(bs) > 1 else []):
        out += f"- log-log fit, {b}: {_fit_line(d['fit'][b])}\n"
    p = paired(d)
    if p:
        out += (f"- torch vs jax, same seed (same secret, initial weights and batches): {p['equal']} of "
                f"{p['both_solved']} pairs solved at the same eval block, the largest difference "
                f"{p['max_blocks']} block(s) of {d['eval_every']} steps; exact signed-rank test of the paired "
                f"differences (impls/models/outcome.py) p = {p['signed_rank_p']:.3g}; jax/torch steps median "
                f"{p['median_ratio']:.2f} [{p['ratio_range'][0]:.2f}, {p['ratio_range'][1]:.2f}]\n")
    sec = {b: [r["seconds_per_step"] for r in d["scaling"] if r["backend"] == b and r["seconds_per_step"]]
           for b in bs}
    out += ("- time per step, median over the runs (eval and compile apart; "
            f"{d['jobs']} job(s) sharing the machine, not a clean timing): "
            + ", ".join(f"{b} {median(s) * 1e3:.2f} ms" for b, s in sec.items() if s) + "\n")
    return out


def block_jump(run=None) -> str:
    found = _load()
    if isinstance(found, str):
        return found
    _, d = found
    out = []
    for j in d["jump"]:
        r = ratios(j)
        chance = first_step(j, j["accuracy"], CHANCE_LEFT)
        line = (f"- {j['backend']}-{j['variant']}, n = {j['n']}, k = {j['k']}, seed {j['seed']} (secret bits "
                f"{j['secret']}): held-out accuracy left chance (>= {CHANCE_LEFT}) at step {chance} and reached "
                f"0.99 at step {j['steps_to_solve']}.")
        for key, name in (("max", "the leading neuron's"), ("top", f"the top {j['top']} neurons' mean"),
                          ("pooled", "the pooled (all neurons)")):
            t = first_step(j, r[key], MOVED * r[key][0])
            if t is None:
                line += f" {name.capitalize()} secret/rest ratio never reached {MOVED:g}x its start ({r[key][0]:.2f})."
                continue
            line += (f" {name[0].upper() + name[1:]} secret/rest ratio: {r[key][0]:.2f} at step 0, {MOVED:g}x that at "
                     f"step {t} (accuracy then {_at(j, 'accuracy', t):.3f}).")
        if chance is not None:
            t = max(s for s in j["steps"] if s < chance)
            line += (f" ||W1_t - W1_0|| / ||W1_0|| at step {t} (the last step at chance): "
                     f"{_at(j, 'w1_movement', t) / j['w1_norm0']:.3f}; weight decay alone: {decay_only(j, d, t):.3f}.")
        out.append(line)
    return "\n".join(out) + "\n"


def block_verdict(run=None) -> str:
    found = _load()
    if isinstance(found, str):
        return found
    _, d = found
    k = d["recipe"]["k"]
    f = d["fit"].get("pooled") or d["fit"][backends(d)[0]]
    out = []
    if f.get("slope") is not None:
        ns = f["ns"]
        mid = ns[len(ns) // 2]
        low = fit_slope([r for r in d["scaling"] if r["n"] <= mid])
        high = fit_slope([r for r in d["scaling"] if r["n"] >= mid])
        lo_s, hi_s = low["slope"], high["slope"]
        rises = lo_s is not None and hi_s is not None and high["slope_ci95"][0] > low["slope_ci95"][1]
        meds = {int(n): v for n, v in f["median_steps"].items()}
        unsolved = sum(r["steps_to_solve"] is None for r in d["scaling"])
        out.append(
            f"- **Steps grow with n{'' if unsolved else ', no run fails'}: matches.** "
            + ("Every run solved within the budget" if not unsolved else
               f"{unsolved} run(s) unsolved within the budget (their n left out of the fit)")
            + f"; the medians go from "
            f"{meds[ns[0]]:.0f} steps at n = {ns[0]} to {meds[ns[-1]]:.0f} at n = {ns[-1]}; a power law "
            f"fitted over every run (log-log least squares) gives steps ~ n^b with b = {f['slope']:.2f} [95% {f['slope_ci95'][0]:.2f}, "
            f"{f['slope_ci95'][1]:.2f}] (both frameworks pooled). The local slope is "
            f"{lo_s:.2f} [95% {low['slope_ci95'][0]:.2f}, {low['slope_ci95'][1]:.2f}] over n <= {mid} and "
            f"{hi_s:.2f} [95% {high['slope_ci95'][0]:.2f}, {high['slope_ci95'][1]:.2f}] over n >= {mid}.")
        steps = []  # (n, the median over every run, unsolved above any solve; censored?)
        for n in sorted({r["n"] for r in d["scaling"]}):
            v = [r["steps_to_solve"] for r in d["scaling"] if r["n"] == n]
            steps.append((n, censored_median(v), sum(x is None for x in v), len(v)))
        local = []
        for (n0, m0, _, _), (n1, m1, c1, t1) in zip(steps, steps[1:]):
            if n0 < ns[-1] or not math.isfinite(m0):
                continue
            if math.isfinite(m1):
                local.append(f"{math.log(m1 / m0) / math.log(n1 / n0):.2f} from n = {n0} to {n1} "
                             f"(medians {m0:.0f} -> {m1:.0f}, {t1 - c1} of {t1} runs solved at {n1})")
            else:
                local.append(f"above {math.log(d['budget'] / m0) / math.log(n1 / n0):.2f} from n = {n0} to {n1} "
                             f"({t1 - c1} of {t1} runs solved within the budget of {d['budget']} steps at {n1}: "
                             f"the median run needs more)")
        top = [x for x in local if x.startswith("above")]
        out.append(
            f"- **The exponent: small at small n, then steep.** Over n = {ns[0]}..{ns[-1]} the exponent b = "
            f"{f['slope']:.2f} is " + (f"below k = {k}" if f["slope_ci95"][1] < k else f"not below k = {k}")
            + ", and the local slope "
            + ("rises within that range (the two intervals above do not overlap)" if rises else
               "does not rise resolvably within that range")
            + ("; beyond it, the medians' local exponents are " + "; ".join(local) if local else "")
            + ". The abstract's n^O(k) leaves the constant open and says nothing about small n: a fit "
            "over the small n alone reads a much smaller exponent than the large n show"
            + (f" (here up to above k = {k})" if top and any(
                float(x.split()[1]) > k for x in top) else "") + ".")
    p = paired(d)
    if p:
        out.append(
            f"- **Both frameworks, one result.** Same seed, same secret, start and batches: "
            f"{p['equal']} of {p['both_solved']} pairs solved at the same {d['eval_every']}-step block; the rest part by "
            f"float32 rounding amplified on the plateau (impls/models/outcome.py), up to {p['max_blocks']} "
            f"blocks, " + ("with no side earlier" if p["signed_rank_p"] >= 1e-3 else "**one side earlier**")
            + f" (signed-rank p = {p['signed_rank_p']:.3g}, alpha 1e-3).")
    for j in d["jump"][:1]:
        r = ratios(j)
        chance = first_step(j, j["accuracy"], CHANCE_LEFT)
        lead = first_step(j, r["max"], MOVED * r["max"][0])
        solve = j["steps_to_solve"]
        if chance is not None and solve is not None:
            abrupt = solve - chance + d["eval_every"] <= solve / 2
            out.append(
                f"- **The jump: {'matches' if abrupt else 'does not match (a slow climb)'}.** n = {j['n']}, seed {j['seed']} ({j['backend']}): accuracy at chance "
                f"until step {chance - d['eval_every']}, off chance at {chance}, solved at {solve}: "
                f"{solve - chance + d['eval_every']} steps of {solve} from chance to 99%.")
        if lead is not None and chance is not None:
            t = max(s for s in j["steps"] if s < chance)
            mv, dec = _at(j, "w1_movement", t) / j["w1_norm0"], decay_only(j, d, t)
            out.append(
                f"- **Hidden progress: {'matches, on the neurons' if lead < chance else 'not seen before the jump'}.** The leading neuron's secret/rest ratio "
                f"reached {MOVED:g}x its start at step {lead}, {chance - lead} steps before the accuracy "
                f"left chance, while the pooled ratio over all neurons barely moved "
                f"({r['pooled'][0]:.3f} at step 0, {r['pooled'][j['steps'].index(t)]:.3f} at step {t}).")
            decayish = abs(mv - dec) <= 0.2 * mv
            out.append(
                f"- **||W1_t - W1_0||: {'moves, but not as hidden progress here' if decayish else 'moves beyond the decay'}.** It is {mv:.3f} of "
                f"||W1_0|| at step {t}, and weight decay alone would give {dec:.3f}: with weight decay "
                f"{d['recipe']['optim']['weight_decay']} the first layer's movement before the jump is "
                "mostly its shrinking, which says nothing of S. The measure that shows the progress is "
                "where the weights move (onto the secret columns), not how far.")
    return "\n".join(out) + "\n"


LONG_PATTERN = "sparse-parity-long-*.json"  # the same study at a larger n and budget: --out results/sparse-parity-long-<time>.json


def block_long(run=None) -> str:
    """The newest results/sparse-parity-long-*.json: the study rerun with a longer budget where the
    main study's runs did not solve; per backend and n, each seed's steps-to-solve."""
    found = newest_study(ROOT / "results", LONG_PATTERN, MODULE + " --out results/sparse-parity-long-<time>.json")
    if isinstance(found, str):
        return found
    path, d = found
    out = [f"`{path.relative_to(ROOT)}` (`{d['command'].replace('python ', '.venv/bin/python ', 1)}`; "
           f"wall {d['wall_seconds']:.0f} s):"]
    for b in backends(d):
        for n, v in _steps_by(d, b).items():
            s = [x for x in v if x is not None]
            m = censored_median(v)
            left = [f"{r['final_accuracy']:.2f}" for r in d["scaling"]
                    if r["backend"] == b and r["n"] == n and r["steps_to_solve"] is None]
            out.append(f"- {b}-{d['variants'][b]}, n = {n}: {len(s)} of {len(v)} seeds solved within {d['budget']} "
                       f"steps (scored every {d['eval_every']}); steps per seed: "
                       + ", ".join("-" if x is None else str(x) for x in v)
                       + (f"; median {m:.0f} (the unsolved counted later)" if math.isfinite(m) else
                          f"; median > {d['budget']}")
                       + (f"; the unsolved runs' held-out accuracy at the budget: {', '.join(left)}" if left else ""))
    return "\n".join(out) + "\n"


BLOCKS = {"sp-recipe": block_recipe, "sp-scaling": block_scaling, "sp-jump": block_jump,
          "sp-verdict": block_verdict, "sp-long": block_long}


# ---------------------------------------------------------------- figure

def figure(doc: dict):
    """2 x 2: steps-to-solve vs n; the jump's accuracy and loss; its secret/rest ratios (log);
    its ||W1_t - W1_0|| / ||W1_0|| beside what weight decay alone gives. A matplotlib Figure."""
    from ..render.plot import COLORS, plt  # matplotlib only where a picture is drawn
    bs = backends(doc)
    fig, axes = plt.subplots(2, 2, figsize=(13, 9.5))
    ax = axes[0][0]
    shift = {"torch": 0.97, "jax": 1.03}
    for b in bs:
        by = _steps_by(doc, b)
        c = COLORS[b]
        for n, v in by.items():
            s = [x for x in v if x is not None]
            ax.scatter([n * shift[b]] * len(s), s, s=16, color=c, alpha=0.45, lw=0)
            if len(v) > len(s):  # unsolved within the budget: an x at the budget
                ax.scatter([n * shift[b]], [doc["budget"]], marker="x", color=c, s=40)
        meds = {n: censored_median(v) for n, v in by.items()}
        ns = [n for n, m in meds.items() if math.isfinite(m)]
        ax.plot([n * shift[b] for n in ns], [meds[n] for n in ns], "-o", color=c, ms=5,
                label=f"{b}-{doc['variants'][b]}: median of {doc['seeds']} seeds (dots: each seed)")
    ax.axhline(doc["budget"], color="0.5", lw=0.8, ls=":")
    ax.scatter([], [], marker="x", color="0.3", s=40, label=f"seeds unsolved within the budget ({doc['budget']:,} steps, dotted)")
    f = doc["fit"].get("pooled") or doc["fit"][bs[0]]
    if f.get("slope") is not None:
        x = np.array([min(f["ns"]), max(f["ns"])], float)
        lo, hi = f["slope_ci95"]
        ax.plot(x, np.exp(f["intercept"]) * x ** f["slope"], "--", color="k", lw=1,
                label=f"fit over n = {f['ns'][0]}..{f['ns'][-1]}: steps ~ n^{f['slope']:.2f} [95% {lo:.2f}, {hi:.2f}]")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(top=doc["budget"] * 1.8)
    ax.set_xticks(doc["ns"])
    ax.set_xticklabels([str(n) for n in doc["ns"]], fontsize=8)
    ax.minorticks_off()
    lo, hi = ax.get_ylim()
    ticks = [v for e in range(1, 7) for v in (10 ** e, 2 * 10 ** e, 5 * 10 ** e) if lo <= v <= hi]
    ax.set_yticks(ticks)
    ax.set_yticklabels([f"{v:,}" for v in ticks], fontsize=8)
    ax.set_xlabel("n (input bits)")
    ax.set_ylabel(f"steps to solve (held-out accuracy >= 0.99, scored every {doc['eval_every']})")
    ax.set_title(f"k = {doc['recipe']['k']}: steps to solve against n, log-log", fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7.5, loc="upper left")

    ax, ax2, ax3 = axes[0][1], axes[1][0], axes[1][1]
    for j in doc["jump"]:
        c, ls = COLORS[j["backend"]], "-" if j["backend"] == "torch" else "--"
        t = np.asarray(j["steps"])
        ax.plot(t, j["accuracy"], ls, color=c, lw=1.8, label=f"{j['backend']}: held-out accuracy")
        loss = [np.nan if v is None else v for v in j["train_loss"]]
        ax.plot(t, loss, ls, color=c, lw=0.9, alpha=0.5, label=f"{j['backend']}: training hinge loss (block mean)")
        r = ratios(j)
        ax2.plot(t, r["max"], ls, color=c, lw=2.2, label=f"{j['backend']}: the leading neuron")
        ax2.plot(t, r["top"], ls, color=c, lw=1.3, alpha=0.75, label=f"{j['backend']}: mean of the top {j['top']} neurons")
        ax2.plot(t, r["pooled"], ls, color=c, lw=0.8, alpha=0.5, label=f"{j['backend']}: all neurons pooled")
        ax3.plot(t, np.asarray(j["w1_movement"]) / j["w1_norm0"], ls, color=c, lw=1.5,
                 label=f"{j['backend']}: ||W1_t - W1_0|| / ||W1_0||")
        if j["steps_to_solve"] is not None:
            for a in (ax, ax2, ax3):
                a.axvline(j["steps_to_solve"], color=c, lw=0.8, ls=":")
    j0 = doc["jump"][0]
    t = np.asarray(j0["steps"])
    ax3.plot(t, [decay_only(j0, doc, s) for s in t], color="0.4", lw=1, ls="-.",
             label="weight decay alone: 1 - (1 - lr wd)^t")
    ax.axhline(0.5, color="0.6", lw=0.6)
    ax.set_ylim(0, 1.12)
    same = len(doc["jump"]) > 1 and len({j["steps_to_solve"] for j in doc["jump"]}) == 1
    ax.set_title(f"the jump: n = {j0['n']}, k = {j0['k']}, seed {j0['seed']} (dotted: solved"
                 + ("; the frameworks' lines overlap)" if same else ")"), fontsize=10)
    ax.legend(fontsize=7.5, loc="center right")
    ax2.set_yscale("log")
    ax2.set_ylabel("RMS of W1 on the secret bits / on the rest")
    ax2.set_title("what moves before it: neurons lean on the secret bits", fontsize=10)
    ax2.legend(fontsize=7.5, loc="upper left")
    ax3.set_ylim(0, 1.05)
    ax3.set_title("the weights' movement from their start: mostly weight decay", fontsize=10)
    ax3.legend(fontsize=7.5, loc="lower right")
    for a in (ax, ax2, ax3):
        a.set_xlabel("step")
        a.grid(True, which="both", alpha=0.25)
    fig.tight_layout()
    return fig


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--png", default=str(PNG))
    ap.add_argument("--json", default=None, help="a study JSON (default: the newest committed)")
    a = ap.parse_args(argv)
    if a.json:
        doc = json.loads(Path(a.json).read_text())
    else:
        found = newest()
        if isinstance(found, str):
            print(f"report_models: error: {found.strip()}", file=sys.stderr)
            return 2
        doc = found[1]
    fig = figure(doc)
    fig.savefig(a.png, dpi=110)
    print(f"wrote {a.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
