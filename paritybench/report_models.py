"""The paper's result for the second model, from the newest committed
results/sparse-parity-study-*.json (bench/studies/sparse_parity_study.py): docs/sparse-parity.md.

Blocks (``paritybench report``):
  sp-recipe   the study's recipe, machine, versions and command
  sp-scaling  steps-to-solve against n per framework (median, range over the seeds, solved/seeds),
              the log-log fit's slope with its 95% bootstrap interval, the frameworks paired by seed
  sp-jump     the jump's run: the solve step, when the progress measures moved, what they read then
Figure (matplotlib, Agg):
  figure(doc)  three panels: steps-to-solve vs n (log-log, every seed, medians, the fit); the jump's
               held-out accuracy and training loss vs steps; its progress measures vs steps

    .venv/bin/python -m paritybench.report_models [--png docs/img/sparse-parity.png] [--json PATH]
draws the figure from the newest committed study (or --json).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from statistics import median

import numpy as np

from .files import newest_study
from .plot import COLORS, plt

ROOT = Path(__file__).resolve().parents[1]
PATTERN, MODULE = "sparse-parity-study-*.json", "bench.studies.sparse_parity_study"
PNG = ROOT / "docs" / "img" / "sparse-parity.png"
RATIO_MOVED = 2.0  # the secret columns' RMS over the others' at which hidden progress is called moved


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
    return {"pairs": len(keys), "both_solved": len(both), "equal": sum(a == b for a, b in both),
            "max_blocks": max(diffs) if diffs else None,
            "median_ratio": median(ratio) if ratio else None,
            "ratio_range": [min(ratio), max(ratio)] if ratio else None}


def moved_step(j: dict, ratio: float = RATIO_MOVED) -> int | None:
    """The first recorded step where the secret columns' RMS is ``ratio`` x the other columns'."""
    for t, s, o in zip(j["steps"], j["secret_rms"], j["other_rms"]):
        if o and s / o >= ratio:
            return t
    return None


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
    head = "| n | " + " | ".join(f"{b}-{d['variants'][b]}: median [min, max] (solved)" for b in bs) + " |"
    lines = [head, "|---:|" + "---|" * len(bs)]
    for n in ns:
        cells = []
        for b in bs:
            v = by[b].get(n, [])
            s = [x for x in v if x is not None]
            cells.append(f"{median(s):.0f} [{min(s)}, {max(s)}] ({len(s)}/{len(v)})" if s else f"- (0/{len(v)})")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    out = "\n".join(lines) + "\n\n"
    for b in bs + (["pooled"] if len(bs) > 1 else []):
        out += f"- log-log fit, {b}: {_fit_line(d['fit'][b])}\n"
    p = paired(d)
    if p:
        out += (f"- torch vs jax, same seed (same secret, initial weights and batches): {p['equal']} of "
                f"{p['both_solved']} pairs solved at the same eval block, the largest difference "
                f"{p['max_blocks']} block(s) of {d['eval_every']} steps; jax/torch steps median "
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
        m = moved_step(j)
        solve = j["steps_to_solve"]
        first = j["steps"][1]
        line = (f"- {j['backend']}-{j['variant']}, n = {j['n']}, k = {j['k']}, seed {j['seed']} "
                f"(secret {j['secret']}): solved at step {solve}")
        if m is not None:
            line += (f"; the secret columns' RMS reached {RATIO_MOVED:g}x the others' at step {m}, "
                     f"held-out accuracy then {_at(j, 'accuracy', m):.3f}")
        if solve is not None:
            a0 = _at(j, "secret_rms", 0) / _at(j, "other_rms", 0)
            a1 = _at(j, "secret_rms", solve) / _at(j, "other_rms", solve)
            half = max((t for t in j["steps"] if t <= solve // 2), default=first)
            line += (f"; ratio {a0:.2f} at step 0, {_at(j, 'secret_rms', half) / _at(j, 'other_rms', half):.2f} "
                     f"at step {half} (accuracy {_at(j, 'accuracy', half):.3f}), {a1:.2f} at the solve; "
                     f"||W1_t - W1_0|| / ||W1_0|| {_at(j, 'w1_movement', half) / j['w1_norm0']:.3f} at step "
                     f"{half}, {_at(j, 'w1_movement', solve) / j['w1_norm0']:.3f} at the solve")
        out.append(line)
    return "\n".join(out) + "\n"


BLOCKS = {"sp-recipe": block_recipe, "sp-scaling": block_scaling, "sp-jump": block_jump}


# ---------------------------------------------------------------- figure

def figure(doc: dict) -> plt.Figure:
    bs = backends(doc)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    ax = axes[0]
    shift = {"torch": 0.97, "jax": 1.03}
    for b in bs:
        by = _steps_by(doc, b)
        c = COLORS[b]
        for n, v in by.items():
            s = [x for x in v if x is not None]
            ax.scatter([n * shift[b]] * len(s), s, s=14, color=c, alpha=0.45, lw=0)
            miss = len(v) - len(s)
            if miss:
                ax.scatter([n * shift[b]], [doc["budget"]], marker="x", color=c, s=40)
        ns = [n for n, v in by.items() if all(x is not None for x in v)]
        ax.plot(ns, [median(by[n]) for n in ns], "-o", color=c, ms=5,
                label=f"{b}-{doc['variants'][b]}: median of {doc['seeds']} seeds")
        f = doc["fit"][b]
        if f.get("slope") is not None:
            x = np.array([min(f["ns"]), max(f["ns"])], float)
            lo, hi = f["slope_ci95"]
            ax.plot(x, np.exp(f["intercept"]) * x ** f["slope"], "--", color=c, lw=1,
                    label=f"fit {b}: n^{f['slope']:.2f} [95% {lo:.2f}, {hi:.2f}]")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(doc["ns"])
    ax.set_xticklabels([str(n) for n in doc["ns"]], fontsize=8)
    ax.minorticks_off()
    ax.set_xlabel("n (input bits)")
    ax.set_ylabel(f"steps to solve (held-out acc >= 0.99, every {doc['eval_every']})")
    ax.set_title(f"k = {doc['recipe']['k']}: steps to solve vs n (dots: seeds)", fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7.5, loc="upper left")

    ax, ax2 = axes[1], axes[2]
    for j in doc["jump"]:
        c, ls = COLORS[j["backend"]], "-" if j["backend"] == "torch" else "--"
        t = np.asarray(j["steps"])
        ax.plot(t, j["accuracy"], ls, color=c, lw=1.8, label=f"{j['backend']}: held-out accuracy")
        loss = [np.nan if v is None else v for v in j["train_loss"]]
        ax.plot(t, loss, ls, color=c, lw=1, alpha=0.55, label=f"{j['backend']}: training hinge (block mean)")
        ratio = np.asarray(j["secret_rms"]) / np.asarray(j["other_rms"])
        ax2.plot(t, ratio, ls, color=c, lw=1.8, label=f"{j['backend']}: RMS W1[:, secret] / RMS W1[:, rest]")
        ax2.plot(t, np.asarray(j["w1_movement"]) / j["w1_norm0"], ls, color=c, lw=1, alpha=0.6,
                 label=f"{j['backend']}: ||W1_t - W1_0|| / ||W1_0||")
        if j["steps_to_solve"] is not None:
            for a in (ax, ax2):
                a.axvline(j["steps_to_solve"], color=c, lw=0.8, ls=":")
    j0 = doc["jump"][0]
    ax.axhline(0.5, color="0.6", lw=0.6)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("step")
    ax.set_title(f"the jump: n = {j0['n']}, k = {j0['k']}, seed {j0['seed']} (dotted: solved)", fontsize=10)
    ax.grid(True, alpha=0.25)
    ax.legend(fontsize=7.5, loc="center left")
    ax2.set_yscale("log")
    ax2.set_xlabel("step")
    ax2.set_title("what moves before it: the secret columns of W1", fontsize=10)
    ax2.grid(True, which="both", alpha=0.25)
    ax2.legend(fontsize=7.5, loc="upper left")
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
