"""The suite's pictures (matplotlib, Agg): each a function returning a Figure.

throughput   steps/s against n, log-log, one line per backend-variant, floors dashed (from RUN.json)
scaling      seconds per step against n, log-log, one line per backend-variant, the roofline (the
             bytes a step must move over the run's copy bandwidth) in black (from RUN.json)
seed         w against step for the seed's setup, torch and jax overlaid, pi/2 and the basin's
             edges pi/2 +- pi/(4 X) marked, the step where the two part (|w_t - w_j| > h/10)
landscape    L(w) on [1, 2] for several x_max, with a zoom on each basin (float64 reference)
convergence  x_max x lr -> fraction of an ensemble of starts in [1, 2] that ends solved,
             one panel per framework, cells where torch and jax disagree outlined
Everything but the throughput comes from training runs computed here (seconds), through
``impls.registry``: no framework is imported in this module.
"""
from __future__ import annotations

import dataclasses
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from ..store.resultfile import Run  # noqa: E402

COLORS = {"reference": "0.35", "torch": "#d95f02", "jax": "#1b6ec2"}
MARKERS = {"numpy": "s", "eager": "o", "compiled": "^", "graphed": "D", "jit": "o", "scan": "^"}
LINESTYLE = {"numpy": "-", "eager": ":", "compiled": "-", "graphed": "-.", "jit": ":", "scan": "-"}
SEED = dict(n=1000, x_max=1000, seed=0, optimizer="sgd", lr=4e-4, w0=1.5, steps=100, dtype="float32")
LANDSCAPE_X_MAX = (6, 32, 1000, 10000)
CONV_X_MAX = (4, 8, 16, 32, 100, 1000)
CONV_LR = (1e-4, 1e-3, 1e-2, 1e-1)
CONV_STARTS, CONV_STEPS = 32, 200


def _color(backend: str) -> str:
    return COLORS.get(backend, "0.5")


def _variant_lines(ax, cases, y) -> None:
    """One line per backend-variant on ``ax``: y(case) against n, in the variant's color and style."""
    lines: dict[str, list] = {}
    for c in cases:
        lines.setdefault(c.label, []).append((c.get("n"), y(c), c))
    for label, pts in sorted(lines.items()):
        pts.sort(key=lambda p: p[0])
        c = pts[0][2]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], color=_color(c.get("backend")),
                marker=MARKERS.get(c.get("variant"), "o"), ls=LINESTYLE.get(c.get("variant"), "-"),
                lw=1.6, ms=6, label=label)


def _log_panel(ax, xlabel: str, title: str) -> None:
    """Log-log axes with a grid, an x label and a title."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.25)


def _finish(fig, axes, ylabel: str, title: str):
    """The y label on the first panel, the legend right of the last, the title; ``fig``."""
    axes[0][0].set_ylabel(ylabel)
    axes[0][-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def throughput(run: Run) -> plt.Figure | None:
    """samples/s (n x steps/s) vs n per (device, optimizer) panel, E = 1, float32 where present;
    None if the run has no such case. A flat line is a constant cost per sample; a line falling to
    the left is per-step overhead."""
    cases = [c for c in run.of_kind("throughput") if c.get("E") == 1]
    if not cases:
        return None
    dtypes = {c.get("dtype") for c in cases}
    dtype = "float32" if "float32" in dtypes else sorted(map(str, dtypes))[0]
    cases = [c for c in cases if c.get("dtype") == dtype]
    panels = sorted({(str(c.get("device")), str(c.get("optimizer"))) for c in cases})
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels) + 2.4, 5), squeeze=False,
                             sharey=True)
    for ax, (device, opt) in zip(axes[0], panels):
        _variant_lines(ax, [c for c in cases if (str(c.get("device")), str(c.get("optimizer"))) == (device, opt)],
                       lambda c: c.get("n") / c.seconds)
        floors: dict[str, list] = {}
        for f in run.of_kind("floor"):
            if (f.get("E"), f.get("dtype"), str(f.get("device"))) == (1, dtype, device):
                floors.setdefault(str(f.get("backend")), []).append((f.get("n"), f.get("n") / f.seconds))
        for b, pts in sorted(floors.items()):
            pts.sort()
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color=_color(b), ls="--", lw=1.2,
                    alpha=0.8, label=f"floor {b} (one sin+cos pass)")
        _log_panel(ax, "n, training samples per step", f"{opt}, {device}, {dtype}, E = 1")
    return _finish(fig, axes, "samples per second = n x steps/s (higher is faster)",
                   f"Training throughput against data size (median of each case; dashed: the framework's "
                   f"floor)\n{run.path}")


def scaling(run: Run) -> plt.Figure | None:
    """Seconds per step vs n per (device, optimizer) panel, float32, E = 1, every step case of the
    default tier, and the roofline (``roofline_seconds_per_step``) where the run measured it; None
    if the run has no such case. Where a line meets the roofline, memory bandwidth decides."""
    cases = [c for c in run.of_kind("throughput") if c.get("E") == 1 and c.get("dtype") == "float32"]
    if not cases:
        return None
    panels = sorted({(str(c.get("device")), str(c.get("optimizer"))) for c in cases})
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels) + 2.4, 5), squeeze=False)
    has_roof = False
    for ax, (device, opt) in zip(axes[0], panels):
        mine = [c for c in cases if (str(c.get("device")), str(c.get("optimizer"))) == (device, opt)]
        _variant_lines(ax, mine, lambda c: c.seconds)
        roof = sorted({(c.get("n"), c.get("roofline_seconds_per_step")) for c in mine
                       if isinstance(c.get("roofline_seconds_per_step"), (int, float))})
        if roof:
            has_roof = True
            ax.plot([p[0] for p in roof], [p[1] for p in roof], color="black", ls="--", lw=1.4,
                    label="roofline: 2 n x itemsize bytes / copy bandwidth")
        _log_panel(ax, "n, training samples per step", f"{opt}, {device}, float32, E = 1")
    note = "" if has_roof else " (no roofline: the run measured no bandwidth)"
    return _finish(fig, axes, "seconds per step (median; lower is faster)",
                   f"Step time against data size{note}\n{run.path}")


def seed() -> plt.Figure:
    """The seed's run (n 1000, x_max 1000, sgd lr 4e-4, w0 1.5, 100 steps, float32) in torch and jax."""
    from impls import data as datamod
    from impls import outcome, registry
    from impls.spec import Problem, Recipe

    data = datamod.generate(Problem(n=SEED["n"], x_max=SEED["x_max"], seed=SEED["seed"]))
    recipe = Recipe(optimizer=SEED["optimizer"], lr=SEED["lr"], w0=SEED["w0"], steps=SEED["steps"],
                    dtype=SEED["dtype"])
    runs = {}
    for b, v in (("torch", "eager"), ("jax", "jit")):
        ok, why = registry.available(b)
        if ok:
            runs[f"{b}-{v}"] = registry.train(b, data, recipe, v)
    ref = registry.train("reference", data, dataclasses.replace(recipe, dtype="float64"))
    h, tol = outcome.basin_halfwidth(data), outcome.part_tol(data)
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(9, 7.5), sharex=True,
                                  gridspec_kw={"height_ratios": [3, 2]})
    steps = np.arange(recipe.steps + 1)
    ax.plot(steps, ref.w[:, 0], color=COLORS["reference"], lw=1, alpha=0.6,
            label="numpy float64 reference")
    for label, tr in runs.items():
        b = label.split("-")[0]
        ax.plot(steps, tr.w[:, 0], color=_color(b), lw=1.6, ls="-" if b == "torch" else "--",
                label=f"{label} float32 (ends {outcome.classify(tr, data)[0]})")
    ax.axhline(math.pi / 2, color="green", lw=1.2, label="π/2, a solution")
    ax.axhspan(math.pi / 2 - h, math.pi / 2 + h, color="green", alpha=0.25,
               label=f"basin π/2 ± π/(4·{int(data.x.max())}) = ±{h:.1e} (every x right; thinner than the line)")
    part = None
    if len(runs) == 2:
        a, b = runs.values()
        part = outcome.horizon(a, b, tol)[0]
        diff = np.abs(a.w[:, 0] - b.w[:, 0])
        same = diff == 0
        ax2.semilogy(steps[~same], diff[~same], color="k", lw=1.4, marker=".", label="|w torch - w jax|")
        if same.any():
            low = max(float(diff[~same].min()) / 10 if (~same).any() else 1e-12, 1e-16)
            ax2.plot(steps[same], np.full(same.sum(), low), "|", color="green", ms=10,
                     label=f"bit-identical ({int(same.sum())} steps)")
        ax2.axhline(tol, color="red", lw=1, ls=":", label=f"parting tolerance h/10 = {tol:.1e}")
        if part is not None:
            for axis in (ax, ax2):
                axis.axvline(part, color="red", lw=1, ls="--")
            ax.annotate(f"torch and jax part at step {part}", (part, 0.5), xycoords=("data", "axes fraction"),
                        xytext=(5, 0), textcoords="offset points", color="red", fontsize=9,
                        bbox=dict(fc="white", ec="none", alpha=0.8))
        ax2.set_ylabel("|w torch - w jax| (rad)")
        ax2.legend(fontsize=8, loc="center right")
    ax2.set_xlabel("training step (full-batch SGD, lr 4e-4)")
    ax2.grid(True, alpha=0.25)
    ax.set_ylabel("w (rad per unit of x)")
    ax.legend(fontsize=8, loc="best")
    ax.grid(True, alpha=0.25)
    ax.set_title("The seed's run: n = 1000 x in [0, 1000), w0 = 1.5, sgd lr 4e-4, 100 steps, float32\n"
                 f"w never nears π/2; {'torch and jax part at step ' + str(part) if part is not None else 'the two stay together'}",
                 fontsize=10)
    fig.tight_layout()
    return fig


def landscape(x_maxes=LANDSCAPE_X_MAX, points: int = 20001) -> plt.Figure:
    """L(w), w in [1, 2], float64 reference on the seed's draw (n 1000) for each x_max, and a zoom."""
    from impls import data as datamod
    from impls import reference
    from impls.outcome import basin_halfwidth
    from impls.spec import Problem

    w = np.linspace(1.0, 2.0, points)
    fig, axes = plt.subplots(len(x_maxes), 2, figsize=(11, 2.3 * len(x_maxes) + 1),
                             gridspec_kw={"width_ratios": [3, 2]})
    for row, x_max in zip(axes, x_maxes):
        data = datamod.generate(Problem(n=1000, x_max=x_max))
        h = basin_halfwidth(data)
        L, _ = reference.loss_and_grad(data, w, "float64")
        zoom = np.linspace(math.pi / 2 - 6 * h, math.pi / 2 + 6 * h, 1201)
        Lz, _ = reference.loss_and_grad(data, zoom, "float64")
        for ax, xs, ys, title in ((row[0], w, L, f"x_max = {x_max}: L(w) on [1, 2], basin half-width "
                                                  f"h = {h:.1e}"),
                                  (row[1], zoom - math.pi / 2, Lz, f"x_max = {x_max}: zoom to π/2 ± 6h")):
            left, right = (math.pi / 2 - h, math.pi / 2 + h) if ax is row[0] else (-h, h)
            ax.axvspan(left, right, color="green", alpha=0.25,
                       label="basin |w - π/2| < h = π/(4 max x): every x right")
            ax.axvline(math.pi / 2 if ax is row[0] else 0.0, color="green", lw=1, label="π/2")
            ax.plot(xs, ys, color="k", lw=0.6 if ax is row[0] else 1.2, label="L(w), mean squared error")
            ax.axvline(1.5 if ax is row[0] else np.nan, color="#d95f02", ls=":", lw=1.2,
                       label="the seed's start w0 = 1.5")
            ax.set_title(title, fontsize=9)
            ax.set_ylabel("loss L(w)")
            ax.set_xlabel("w (rad per unit of x)" if ax is row[0] else "w - π/2 (rad)", fontsize=8)
            ax.set_ylim(-0.02, max(0.6, float(np.max(ys)) * 1.05))
            ax.grid(True, alpha=0.25)
        row[1].ticklabel_format(axis="x", style="sci", scilimits=(-2, 2))
    axes[0][0].legend(fontsize=7, loc="upper left", ncol=2)
    fig.suptitle("Loss landscape of sin²(w x) on n = 1000 integers in [0, x_max): the basin around "
                 "π/2 narrows as 1/x_max", fontsize=11)
    fig.tight_layout()
    return fig


def convergence_grid(x_maxes=CONV_X_MAX, lrs=CONV_LR, starts: int = CONV_STARTS,
                     steps: int = CONV_STEPS) -> dict:
    """{label: (len(x_maxes), len(lrs)) fraction solved}: sgd, float32, w0 = starts points on [1, 2]."""
    from impls import data as datamod
    from impls import outcome, registry
    from impls.spec import Problem, Recipe

    runs = [("torch", "eager", "float32"), ("jax", "scan", "float32"), ("reference", "numpy", "float64")]
    runs = [r for r in runs if registry.available(r[0])[0]]
    w0 = tuple(np.linspace(1.0, 2.0, starts))
    grid = {f"{b}-{v} {dt}": np.zeros((len(x_maxes), len(lrs))) for b, v, dt in runs}
    for i, x_max in enumerate(x_maxes):
        data = datamod.generate(Problem(n=1000, x_max=x_max))
        for j, lr in enumerate(lrs):
            for b, v, dt in runs:
                tr = registry.train(b, data, Recipe(optimizer="sgd", lr=lr, w0=w0, steps=steps, dtype=dt), v)
                grid[f"{b}-{v} {dt}"][i, j] = outcome.fractions(outcome.classify(tr, data))["solved"]
    return grid


def convergence(grid: dict, x_maxes=CONV_X_MAX, lrs=CONV_LR, starts: int = CONV_STARTS,
                steps: int = CONV_STEPS) -> plt.Figure:
    """One heat-map panel per framework; cells where torch and jax differ outlined in red."""
    labels = list(grid)
    fig, axes = plt.subplots(1, len(labels), figsize=(3.6 * len(labels) + 1.6, 4.8), squeeze=False,
                             sharey=True, layout="constrained")
    t = next((grid[k] for k in labels if k.startswith("torch")), None)
    j = next((grid[k] for k in labels if k.startswith("jax")), None)
    differ = (np.abs(t - j) > 0) if t is not None and j is not None else np.zeros_like(grid[labels[0]], bool)
    im = None
    for ax, label in zip(axes[0], labels):
        g = grid[label]
        im = ax.imshow(g, origin="lower", cmap="viridis", vmin=0, vmax=1, aspect="auto")
        for (r, c), v in np.ndenumerate(g):
            ax.text(c, r, f"{round(v * starts)}/{starts}", ha="center", va="center", fontsize=8,
                    color="white" if v < 0.6 else "black")
            if differ[r, c] and not label.startswith("reference"):
                ax.add_patch(Rectangle((c - 0.48, r - 0.48), 0.96, 0.96, fill=False, ec="red", lw=2.2))
        ax.set_xticks(range(len(lrs)), [f"{lr:g}" for lr in lrs])
        ax.set_yticks(range(len(x_maxes)), [str(x) for x in x_maxes])
        ax.set_xlabel("learning rate (sgd)")
        ax.set_title(label + (" (ground truth)" if label.startswith("reference") else ""), fontsize=10)
    axes[0][0].set_ylabel("x_max (x drawn from [0, x_max))")
    cb = fig.colorbar(im, ax=axes[0].tolist(), shrink=0.9)
    cb.set_label(f"fraction of {starts} starts in [1, 2] that end solved")
    axes[0][0].plot([], [], "s", mfc="none", mec="red", mew=2, ms=10,
                    label=f"torch and jax differ ({int(differ.sum())} of {differ.size} cells)")
    fig.legend(loc="outside lower center", fontsize=9, frameon=False)
    fig.suptitle(f"Convergence map: full-batch sgd from {starts} starts w0 in [1, 2], n = 1000, "
                 f"{steps} steps: runs that end solved", fontsize=11)
    return fig


def time_to_train_figure(run: Run) -> plt.Figure | None:
    """Time to train S steps (fresh process: import, compile, steps) against S, log-log, one panel
    per size with startup cases (n = 1e3, 1e6): per backend-variant warm solid, cold dashed
    (``paritybench.analyses.time_to_train``); where the fastest variant changes, a marker (filled warm,
    hollow cold) at the crossover; the seed's run (100 steps) a grey line. None if the run has no
    startup case with a throughput step beside it."""
    from ..analyses import time_to_train as ttt

    ents = [e for e in ttt.entries(run) if e["device"] == "cpu" and e["dtype"] == "float32"] or ttt.entries(run)
    if not ents:
        return None
    sizes = sorted({e["n"] for e in ents})
    fig, axes = plt.subplots(1, len(sizes), figsize=(6.0 * len(sizes) + 2.6, 5.2), squeeze=False)
    s = np.logspace(0, 6, 400)
    for ax, n in zip(axes[0], sizes):
        mine = sorted((e for e in ents if e["n"] == n), key=lambda e: e["label"])
        for e in mine:
            color = _color(e["backend"])
            for start, ls in (("warm", "-"), ("cold", "--")):
                if start == "warm" or e["warm_measured"]:
                    ax.plot(s, [ttt.seconds(e, k, start) for k in s], color=color, ls=ls, lw=1.5,
                            marker=MARKERS.get(e["variant"], "o"), markevery=[-1], ms=5,
                            label=f"{e['label']} {start}" if e["warm_measured"] else f"{e['label']} (no cache)")
        for start, face in (("warm", "black"), ("cold", "white")):
            for k, a, b in ttt.crossovers(mine, start, s[0], s[-1]):
                t = ttt.seconds(a, k, start)
                ax.plot([k], [t], "o", ms=7, mfc=face, mec="black", zorder=5)
                ax.annotate(f"{ttt.fmt_steps(k)}: {b['label']}", (k, t), textcoords="offset points",
                            xytext=(4, -11 if start == "warm" else 5), fontsize=7)
        ax.axvline(ttt.SEED_STEPS, color="0.6", lw=0.8)
        _log_panel(ax, "steps S of the run", f"n = {n:,}, {mine[0]['device']}, {mine[0]['dtype']}, sgd; "
                   "grey: the seed's 100 steps")
    return _finish(fig, axes, "seconds to train S steps (import + compile + steps)",
                   "Time to train S steps in a fresh process: cold (dashed, empty compile caches), warm (solid)\n"
                   "circles: the fastest variant changes (filled warm, hollow cold); " + run.path)
