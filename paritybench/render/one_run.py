"""One run's tables across frameworks (``paritybench compare RUN``).

A table per group of identical throughput cases (same n, E, optimizer, dtype, device), one
row per backend-variant, fastest first, the group's floors beside them:
  steps/s = 1 / median seconds per step;  samples/s = n E steps/s;
  x base  = median seconds per step / the baseline's (1.00 = the baseline, 2.00 = twice its time);
  x floor = seconds per step / the same framework's floor pass: the median of the paired rounds'
            ratios where the case has them, else from the floor case of the same backend, n, E,
            dtype and device in the run.
Agreement cases get a table per (dtype, device): outcome per backend-variant beside the float64
reference's, with the horizon (first step where the weights part) after '@'.
"""
from __future__ import annotations

import math
from statistics import median

from ..gate import rules as V
from ..text.tables import Column, Table, pct, seconds, short, si, times
from ..store.resultfile import Case, Run
from impls.spec import OPS  # the step's building blocks, in the order of the op tables


def labels(run: Run) -> list[str]:
    """Every backend-variant that has a throughput case in ``run``."""
    return sorted({c.label for c in run.of_kind("throughput")})


def check_baseline(run: Run, baseline: str | None) -> None:
    if baseline is not None and baseline not in labels(run):
        raise ValueError(f"baseline: got {baseline!r}; allowed: one of {', '.join(labels(run)) or 'none'}"
                         f" (backend-variant of a throughput case in {run.path})")


def _key(c: Case) -> tuple:
    return tuple(c.get(k) for k in ("n", "E", "optimizer", "dtype", "device"))


def _floor_of(run: Run, c: Case) -> float | None:
    r = c.get("floor_ratio")
    if isinstance(r, (int, float)) and math.isfinite(r) and r > 0:
        return float(r)
    for f in run.of_kind("floor"):
        if all(f.get(k) == c.get(k) for k in ("backend", "n", "E", "dtype", "device")):
            return c.seconds / f.seconds
    return None


def throughput_tables(run: Run, baseline: str | None = None, kind: str = "throughput") -> list[Table]:
    """One table per (n, E, optimizer, dtype, device), rows fastest first, floors after them;
    kind "tuned": the tuned tier's steps, in tables of their own (never beside the default's)."""
    check_baseline(run, baseline if kind == "throughput" else None)
    groups: dict[tuple, list[Case]] = {}
    for c in run.of_kind(kind):
        groups.setdefault(_key(c), []).append(c)
    tables = []
    for key in sorted(groups, key=lambda k: (str(k[4]), str(k[3]), str(k[2]), k[1] or 0, k[0] or 0)):
        n, E, opt, dtype, device = key
        cases = sorted(groups[key], key=lambda c: c.seconds)
        base = cases[0] if baseline is None or kind != "throughput" else \
            next((c for c in cases if c.label == baseline), None)
        t = Table(("tuned tier: " if kind == "tuned" else "") + f"n={n} E={E} {opt} {dtype} {device}", [
            Column("case", align="<"), Column("steps/s", si), Column("samples/s", si),
            Column("x base", times), Column("x floor", times), Column("compile s", lambda v: f"{v:.2f}"),
            Column("spread", pct), Column("mem MB", lambda v: f"{v / 1e6:.1f}")])
        for c in cases:
            sps = 1 / c.seconds
            samples = sps * n * E if isinstance(n, int) and isinstance(E, int) else None
            mem = V.memory_bytes(c)
            t.rows.append([c.label, sps, samples, c.seconds / base.seconds if base else None,
                           _floor_of(run, c), c.get("compile_seconds"), c.spread,
                           median(mem) if mem else None])
        for f in run.of_kind("floor") if kind == "throughput" else ():  # the default tier's floors
            if (f.get("n"), f.get("E"), f.get("dtype"), f.get("device")) == (n, E, dtype, device):
                t.rows.append([f.label, 1 / f.seconds, n * E / f.seconds if n and E else None,
                               f.seconds / base.seconds if base else None, 1.0, None, f.spread, None])
        t.notes.append(f"x base: time per step / {base.label}'s" if base else
                       f"x base: {baseline} has no case in this group")
        tables.append(t)
    return tables


def _outcome_text(c: Case) -> str:
    o = c.get("outcome")
    if isinstance(o, list):  # an ensemble: the fraction solved
        fr = sum(1 for v in o if v == "solved") / max(len(o), 1)
        o = f"{100 * fr:.0f}% solved"
    elif isinstance(c.get("fractions"), dict) and o is None:
        o = f"{100 * c.get('fractions').get('solved', 0):.0f}% solved"
    h = c.get("horizon")
    return f"{o}@{h}" if isinstance(h, int) else str(o)


def agreement_tables(run: Run) -> list[Table]:
    """Per (dtype, device): rows (x_max, recipe), the reference's outcome, each variant's, agreement."""
    groups: dict[tuple, list[Case]] = {}
    for c in run.of_kind("agreement"):
        groups.setdefault((c.get("dtype"), c.get("device")), []).append(c)
    tables = []
    for (dtype, device), cases in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
        variants = sorted({c.label for c in cases})
        rows: dict[tuple, dict] = {}
        for c in cases:
            rows.setdefault((c.get("x_max"), str(c.get("recipe"))), {})[c.label] = c
        t = Table(f"outcome agreement, {dtype} {device} (outcome@horizon: the step where w parts from "
                  "the float64 reference's)", [Column("x_max", str), Column("recipe", align="<"),
                                     Column("ref f64", align="<")]
                  + [Column(v, align="<") for v in variants] + [Column("agree", align="<")])
        for (x_max, recipe), by in sorted(rows.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1])):
            refs = {str(c.get("reference_outcome")) for c in by.values()}
            explicit = [c.get("agree") for c in by.values() if isinstance(c.get("agree"), bool)]
            same = all(str(c.get("outcome")) == str(c.get("reference_outcome")) for c in by.values())
            chaotic = any(c.get("chaotic") for c in by.values())
            if explicit:  # the suite's own verdict (ensembles for chaotic cases) decides
                verdict = "NO" if not all(explicit) else ("yes (ensembles)" if chaotic else "yes")
            else:  # an older file without it: equal outcomes, or chaotic and undecided
                verdict = "yes" if same else ("chaotic" if chaotic else "NO")
            t.rows.append([x_max, recipe, "/".join(sorted(refs))]
                          + [_outcome_text(by[v]) if v in by else None for v in variants] + [verdict])
        tables.append(t)
    return tables


def op_tables(run: Run) -> list[Table]:
    """One table per (dtype, n, E, device) of op cases: ns per element of each op, per framework
    and tier (rows), and the op's paired ratio to the framework's floor pass."""
    groups: dict[tuple, list[Case]] = {}
    for c in run.of_kind("op"):
        groups.setdefault(tuple(c.get(k) for k in ("dtype", "n", "E", "device")), []).append(c)
    tables = []
    for (dtype, n, E, device), cases in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
        ops = [o for o in OPS if any(c.get("op") == o for c in cases)]
        rows: dict[str, dict] = {}
        for c in cases:
            rows.setdefault(f"{c.get('backend')} {c.get('tier')}", {})[c.get("op")] = c
        t = Table(f"ops: ns per element, {dtype} n={n} E={E} {device} (x floor: the op's pass / the "
                  "framework's floor pass, paired)", [Column("framework tier", align="<")]
                  + [Column(o, lambda v: f"{v:.3g}") for o in ops] + [Column("sin x floor", times)])
        for label, by in sorted(rows.items()):
            per = lambda c: c.seconds / (n * E) * 1e9 if isinstance(n, int) and isinstance(E, int) else None
            sin = by.get("sin")
            t.rows.append([label] + [per(by[o]) if o in by else None for o in ops]
                          + [sin.get("floor_ratio") if sin else None])
        tables.append(t)
    return tables


def run_tables(run: Run, baseline: str | None = None) -> list[Table]:
    from ..analyses.model_results import tables as model_tables  # the models beside the seed (impls/models)
    tables = (throughput_tables(run, baseline) + throughput_tables(run, kind="tuned") + op_tables(run)
              + agreement_tables(run) + model_tables(run))
    other = [c for c in run.cases.values() if c.kind == "other"]
    if other:
        t = Table("other cases (no suite extra_info)", [Column("case", align="<"),
                                                        Column("median", seconds), Column("spread", pct)])
        t.rows = [[short(c.name), c.seconds, c.spread] for c in other]
        tables.append(t)
    return tables
