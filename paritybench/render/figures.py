"""The report page's figures (matplotlib, Agg): each a function returning a Figure, or None when
the run holds nothing to draw. No framework is imported here.

time_to_train  seconds to train S steps against S, per variant: compile_seconds + S x seconds per
               step (float32, sgd, E = 1), at the smallest and the largest n; crossings marked
step_time      seconds per step against n per backend-variant (float32, sgd, E = 1) with each
               framework's floor pass (dashed), and under it the answer's fastest jax / fastest torch
               with its 95% interval per n
agreement      input range (x_max) x recipe rows, backend-variant columns, one panel per dtype and
               device: cell colour = outcome, h = the horizon, chaotic cells hatched with the
               ensemble verdict
gate_cases     one small panel per slower/faster case of a gate: the per-round paired ratios
               step / floor, old against new, one colour per process, process medians as ticks
"""
from __future__ import annotations

import math
from statistics import median

import numpy as np

from ..gate import rules
from .plot import LINESTYLE, MARKERS, _color, _variant_lines, plt
from ..text.tables import power10, short
from ..store.resultfile import Case, Run

OUTCOME_COLORS = {"solved": "#7fc97f", "stuck": "#c9c9c9", "wandering": "#fdc086", "diverged": "#f0027f"}


def _headline(run: Run) -> list[Case]:
    """float32, sgd, E = 1 steps of the default tier: the answer's cases."""
    return [c for c in run.of_kind("throughput") if c.get("dtype") == "float32" and c.get("E") == 1
            and c.get("optimizer") == "sgd"]


def _crossings(lines: dict) -> list[tuple[float, float, str, str]]:
    """(S, seconds, a, b) where line a = (c_a, t_a) and line b meet: c_a + S t_a = c_b + S t_b, S > 0."""
    out, names = [], sorted(lines)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            (ca, ta), (cb, tb) = lines[a], lines[b]
            if ta != tb:
                s = (cb - ca) / (ta - tb)
                if s > 0:
                    out.append((s, ca + s * ta, a, b))
    return out


def time_to_train(run: Run) -> plt.Figure | None:
    """T(S) = compile_seconds + S x seconds per step, log-log, one line per variant, one panel per n
    (smallest and largest n of the headline cases); crossings between a torch and a jax line marked.
    compile_seconds: the run's first calls minus steady calls, in the bench process (bench/runners.warm)."""
    cases = [c for c in _headline(run) if c.get("backend") in ("torch", "jax")
             and isinstance(c.get("compile_seconds"), (int, float))]
    if not cases:
        return None
    device = sorted({str(c.get("device")) for c in cases})[0]
    cases = [c for c in cases if str(c.get("device")) == device]
    ns = sorted({c.get("n") for c in cases})
    ns = ns[:1] + ns[-1:] if len(ns) > 1 else ns
    steps = np.logspace(0, 6, 200)
    fig, axes = plt.subplots(1, len(ns), figsize=(6.4 * len(ns), 4.2), squeeze=False)
    for ax, n in zip(axes[0], ns):
        lines = {c.label: (float(c.get("compile_seconds")), c.seconds) for c in cases if c.get("n") == n}
        for label, (c0, t) in sorted(lines.items()):
            b, v = label.split("-", 1)
            ax.plot(steps, c0 + steps * t, color=_color(b), ls=LINESTYLE.get(v, "-"), lw=1.6,
                    marker=MARKERS.get(v, "o"), markevery=40, ms=5, label=f"{label}: {c0:.2g} s + S x {t * 1e6:.3g} us")
        for s, y, a, b in _crossings(lines):  # where the fastest choice changes: on the lower envelope
            if 1 <= s <= steps[-1] and y <= min(c0 + s * t for c0, t in lines.values()) * (1 + 1e-9):
                ax.plot([s], [y], "o", mfc="none", mec="k", ms=10, mew=1.5)
                ax.annotate(f"S = {s:.3g}: {a} = {b}", (s, y), xytext=(8, -14), textcoords="offset points",
                            fontsize=7, bbox=dict(fc="white", ec="none", alpha=0.8, pad=0.5))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("S, training steps")
        ax.set_title(f"n = {power10(n)}, sgd, float32, E = 1, {device}", fontsize=10)
        ax.grid(True, which="both", alpha=0.2)
        ax.legend(fontsize=7, loc="upper left")
    axes[0][0].set_ylabel("seconds to train S steps (lower is better)")
    fig.tight_layout()
    return fig


def step_time(run: Run, bands: list[dict]) -> plt.Figure | None:
    """Top: seconds per step against n per backend-variant (float32, sgd, E = 1), floors dashed.
    Bottom: fastest jax / fastest torch per n with its 95% bootstrap interval, from ``bands``
    (``answer.answer(run)["bands"]``; below 1: jax faster). One column per device."""
    cases = _headline(run)
    if not cases:
        return None
    devices = sorted({str(c.get("device")) for c in cases})
    fig, axes = plt.subplots(2, len(devices), figsize=(6.4 * len(devices) + 2.0, 6.2), squeeze=False,
                             sharex="col", gridspec_kw={"height_ratios": [3, 2]})
    for col, device in enumerate(devices):
        ax, rx = axes[0][col], axes[1][col]
        _variant_lines(ax, [c for c in cases if str(c.get("device")) == device], lambda c: c.seconds)
        floors: dict[str, list] = {}
        for f in run.of_kind("floor"):
            if (f.get("E"), f.get("dtype"), str(f.get("device"))) == (1, "float32", device):
                floors.setdefault(str(f.get("backend")), []).append((f.get("n"), f.seconds))
        for b, pts in sorted(floors.items()):
            pts.sort()
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color=_color(b), ls="--", lw=1.1, alpha=0.8,
                    label=f"floor-{b}: one sin+cos pass")
        ax.set_yscale("log")
        ax.set_title(f"sgd, {device}, float32, E = 1", fontsize=10)
        ax.grid(True, which="both", alpha=0.2)
        rows = [(b["n"], b["jax_over_torch"], *b["jax_over_torch_ci95"]) for b in bands
                if str(b["device"]) == device and b.get("jax_over_torch") is not None]
        if rows:
            n, q, lo, hi = (np.array(v, float) for v in zip(*rows))
            rx.errorbar(n, q, yerr=[q - lo, hi - q], fmt="o-", color="k", capsize=4, lw=1.2, ms=5)
            for x, y, l_, h_ in rows:
                rx.annotate(f"{y:.2f}x [{l_:.2f}, {h_:.2f}]", (x, y), xytext=(6, 5), textcoords="offset points",
                            fontsize=7)
        rx.axhline(1.0, color="0.4", lw=1)
        rx.set_yscale("log")
        rx.set_xscale("log")
        rx.set_xlabel("n, training samples per step")
        rx.grid(True, which="both", alpha=0.2)
    axes[0][0].set_ylabel("seconds per step (median)")
    axes[1][0].set_ylabel("jax / torch (fastest each)\nbelow 1: jax faster")
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    return fig


def _main_outcome(c: Case) -> str:
    o = c.get("outcome")
    if isinstance(o, list):  # an ensemble's outcomes: the most frequent
        return max(set(map(str, o)), key=o.count) if o else "?"
    return str(o)


def agreement(run: Run) -> plt.Figure | None:
    """One panel per (dtype, device): rows (x_max, recipe), columns the float64 reference then each
    backend-variant; colour = outcome, 'h N' = the step where w parts from the reference's; chaotic
    cells hatched with the ensemble verdict ('ens. agree', 'ens. DIFFER', 'not judged'); a cell
    whose outcome differs from the reference's without chaos to explain it framed in red."""
    cases = run.of_kind("agreement")
    if not cases:
        return None
    panels = sorted({(str(c.get("dtype")), str(c.get("device"))) for c in cases})
    shapes = []
    for p in panels:
        mine = [c for c in cases if (str(c.get("dtype")), str(c.get("device"))) == p]
        shapes.append((sorted({(c.get("x_max") or 0, str(c.get("recipe"))) for c in mine}),
                       sorted({c.label for c in mine}, key=lambda v: (not v.startswith("reference"), v)), mine))
    width = max(len(cols) + 1 for _, cols, _ in shapes)
    heights = [len(r) + 1.2 for r, _, _ in shapes]
    fig, axes = plt.subplots(len(panels), 1, figsize=(1.25 * width + 1.4, 0.62 * sum(heights) + 0.6),
                             squeeze=False, gridspec_kw={"height_ratios": heights})
    for ax, (dtype, device), (rows, cols, mine) in zip(axes[:, 0], panels, shapes):
        by = {((c.get("x_max") or 0, str(c.get("recipe"))), c.label): c for c in mine}
        cols = ["float64 reference"] + cols
        for i, row in enumerate(rows):
            for j, col in enumerate(cols):
                c = by.get((row, col)) or (next((v for (r, _), v in by.items() if r == row), None) if j == 0 else None)
                if c is None:
                    continue
                o = str(c.get("reference_outcome")) if j == 0 else _main_outcome(c)
                chaotic = bool(c.get("chaotic")) and j > 0
                ax.add_patch(plt.Rectangle((j - 0.47, i - 0.45), 0.94, 0.9, fc=OUTCOME_COLORS.get(o, "white"),
                                           ec="0.3", lw=0.6, hatch="///" if chaotic else None))
                text = o
                if j > 0 and isinstance(c.get("horizon"), int):
                    text += f"\nh {c.get('horizon')}"
                if chaotic:
                    text += "\n" + {True: "ens. agree", False: "ens. DIFFER"}.get(c.get("agree"), "not judged")
                bad = j > 0 and (c.get("agree") is False or (not chaotic and o != str(c.get("reference_outcome"))))
                if bad:
                    ax.add_patch(plt.Rectangle((j - 0.47, i - 0.45), 0.94, 0.9, fill=False, ec="red", lw=2.4))
                ax.text(j, i, text, ha="center", va="center", fontsize=8,
                        bbox=dict(fc="white", ec="none", alpha=0.75, pad=0.6) if chaotic else None)
        ax.set_xlim(-0.55, width - 0.45)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_xticks(range(len(cols)), [c.replace("-", "-\n", 1) for c in cols], fontsize=7)
        ax.set_yticks(range(len(rows)), [f"x < {power10(x) if x >= 1000 else x}\n{r}" for x, r in rows], fontsize=7)
        ax.set_title(f"{dtype}, {device}", fontsize=10)
        ax.tick_params(length=0)
        for s in ax.spines.values():
            s.set_visible(False)
    handles = [plt.Rectangle((0, 0), 1, 1, fc=v, ec="0.3", lw=0.6) for v in OUTCOME_COLORS.values()]
    handles.append(plt.Rectangle((0, 0), 1, 1, fc="white", ec="0.3", hatch="///"))
    fig.legend(handles, list(OUTCOME_COLORS) + ["chaotic (ensembles judge)"], loc="lower center",
               ncol=len(handles), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.6 / (0.62 * sum(heights) + 0.6), 1, 1))
    return fig


def gate_cases(old: Run, new: Run, rows, limit: int = 24) -> plt.Figure | None:
    """Small multiples: per slower/faster row of ``compare.compare_runs`` (at most ``limit``, slower
    first), the per-round paired ratios step / floor of old and new, one colour per process, each
    process's median a tick, the median of the process medians a bar; title: verdict, change, p."""
    by_name = {short(c.name): (c, old.cases.get(k)) for k, c in new.cases.items()}
    picked = sorted((r for r in rows if r.verdict in ("slower", "faster") and r.case in by_name),
                    key=lambda r: r.verdict != "slower")[:limit]  # slower first, then in file order
    if not picked:
        return None
    cols = min(4, len(picked))
    nrows = math.ceil(len(picked) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.3 * cols, 2.5 * nrows), squeeze=False)
    rng = np.random.default_rng(0)
    for ax, r in zip(axes.flat, picked):
        n, o = by_name[r.case]
        for x, case in ((0, o), (1, n)):
            groups = rules.samples(case, "paired") if case is not None else None
            for g, vals in enumerate(groups or []):
                ax.plot(x + 0.08 * (g - (len(groups) - 1) / 2) + rng.uniform(-0.025, 0.025, len(vals)), vals,
                        ".", ms=2.5, alpha=0.5, color=plt.cm.tab10(g % 10))
                ax.plot([x - 0.25, x + 0.25], [median(vals)] * 2, color=plt.cm.tab10(g % 10), lw=0.8)
            if groups:
                ax.plot([x - 0.35, x + 0.35], [median(median(v) for v in groups)] * 2, color="k", lw=2.2)
        ax.set_xticks([0, 1], ["old", "new"])
        ax.set_xlim(-0.6, 1.6)
        ax.grid(True, axis="y", alpha=0.2)
        color = "#b00" if r.verdict == "slower" else "#070"
        p = f", p {r.p:.0e}" if r.p is not None else ""
        ax.set_title(f"{r.case[:44]}\n{r.verdict} {r.effect:.2f}x{p}", fontsize=7, color=color)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(picked):]:
        ax.axis("off")
    axes[0][0].set_ylabel("step / floor, per round", fontsize=7)
    fig.tight_layout()
    return fig
