"""Sparse parity's figure (matplotlib, Agg), from the newest committed
results/sparse-parity-study-*.json (bench/studies/sparse_parity_study.py): docs/sparse-parity.md.

  figure(doc)  three panels: steps-to-solve vs n (log-log, every seed, medians, the fit); the jump's
               held-out accuracy and training loss vs steps; its progress measures vs steps

    .venv/bin/python -m paritybench.render.sparse_parity [--png docs/img/sparse-parity.png] [--json PATH]
draws the figure from the newest committed study (or --json).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from ..analyses.sparse_parity import _steps_by, backends, censored_median, decay_only, newest, ratios

ROOT = Path(__file__).resolve().parents[2]
PNG = ROOT / "docs" / "img" / "sparse-parity.png"


def figure(doc: dict):
    """2 x 2: steps-to-solve vs n; the jump's accuracy and loss; its secret/rest ratios (log);
    its ||W1_t - W1_0|| / ||W1_0|| beside what weight decay alone gives. A matplotlib Figure."""
    from .plot import COLORS, plt  # matplotlib only where a picture is drawn
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
