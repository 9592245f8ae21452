"""Time to train S steps, compilation included, cold and warm: T(S) = startup + S x step (#21).

For the report page (helper "report"): the figure is ``paritybench.render.plot.time_to_train_figure(run)
-> matplotlib.figure.Figure | None`` (one figure, a panel per size; None without startup cases),
``paritybench plot RUN.json --only time-to-train``.

Inputs, from one result file:
  startup case   kind "startup" (bench/test_startup.py, bench/startup.py): one fresh process's run
                 of S0 steps, ``run_seconds`` = import + data + prepare + S0 steps (compiling) +
                 trajectory, cold (empty compile caches) and warm (the caches the cold run filled)
  throughput     the same backend, variant, device, dtype and n (sgd, E = 1): ``step`` = the median
                 of its processes' median seconds per step (``per_step.central``)
Model, per start (cold, warm):
  startup = run_seconds - S0 x step        what a run costs beyond its steady steps
  T(S)    = startup + S x step             so T(S0) is the measured run by construction
No per-call term: a run here is one advance(S) call (``paritybench train``); the non-fused variants
call their step once per step (inside ``step``), a scan once per run (inside ``startup``), and
torch's history stacks (one per 32 steps) are per-step work. A scan compiles per S: its warm T(S) assumes
that run (that S) was made before. Checked against fresh-process runs by
bench/studies/time_to_train_study.py (docs/time-to-train.md).
Break-even of a against b: S* = (startup_a - startup_b) / (step_b - step_a): a is faster beyond S*
steps (0: from the first step; None: never).
"""
from __future__ import annotations

import math

from .per_step import central
from ..store.resultfile import Case, Run

STARTS = ("cold", "warm")
ERROR_LIMIT = 0.10  # the model's error against a whole run beyond which the docs say why (issue #21)
SEED_N, SEED_STEPS = 1000, 100  # the seed's run: paritybench train's defaults
SIBLING = {("torch", "compiled"): ("torch", "eager"), ("jax", "scan"): ("jax", "jit")}  # one-step sibling
BASELINE = ("reference", "numpy")
LACKS = ("no startup cases (kind 'startup', recorded by bench/test_startup.py since #21): "
         "time to train needs a newer run (make bench)")


def startup_cases(run: Run) -> list[Case]:
    return [c for c in run.cases.values() if c.get("kind") == "startup"]


def steps_of(run: Run) -> dict:
    """(backend, variant, device, dtype, n) -> seconds per step of the sgd, E = 1 throughput case."""
    return {(c.get("backend"), c.get("variant"), c.get("device"), c.get("dtype"), c.get("n")): central(c)
            for c in run.of_kind("throughput") if c.get("optimizer") == "sgd" and c.get("E") == 1}


def entries(run: Run) -> list[dict]:
    """One entry per startup case with a throughput step beside it: label, step, S0, the measured
    run and its parts per start, and ``startup`` per start (see the module docstring)."""
    steps = steps_of(run)
    out = []
    for c in startup_cases(run):
        key = tuple(c.get(k) for k in ("backend", "variant", "device", "dtype", "n"))
        step = steps.get(key)
        if step is None:
            continue
        s0 = c.get("steps")
        e = dict(zip(("backend", "variant", "device", "dtype", "n"), key), label=f"{key[0]}-{key[1]}",
                 step_seconds=step, steps0=s0, warm_measured=bool(c.get("warm_measured")))
        for start in STARTS:
            rec = c.get(start) or {}
            e[start] = {k: rec.get(k) for k in ("run_seconds", "import_seconds", "to_first_step_seconds",
                                                 "first_call_seconds", "rest_seconds", "trajectory_seconds",
                                                 "process_seconds")}
            e[start]["startup_seconds"] = rec["run_seconds"] - s0 * step
        out.append(e)
    return out


def seconds(entry: dict, steps: int, start: str) -> float:
    """T(S) = startup + S x step of ``entry`` for a ``start`` (cold or warm)."""
    return entry[start]["startup_seconds"] + steps * entry["step_seconds"]


def break_even(a: dict, b: dict, start: str) -> float | None:
    """Steps beyond which a trains faster than b (0: from the first; None: never)."""
    da = a[start]["startup_seconds"] - b[start]["startup_seconds"]
    ds = b["step_seconds"] - a["step_seconds"]
    if da <= 0 and ds >= 0:
        return 0.0
    if ds <= 0:
        return None
    return da / ds


def crossovers(ents: list[dict], start: str, lo: float, hi: float) -> list[tuple[float, dict, dict]]:
    """(S, a, b): where, between lo and hi steps, the fastest of ``ents`` changes from a to b."""
    out, s = [], lo
    best = min(ents, key=lambda e: seconds(e, s, start))
    while True:
        nxt = [(k, e) for e in ents if e is not best
               for k in [break_even(e, best, start)] if k is not None and s < k < hi]
        if not nxt:
            return out
        s, e = min(nxt, key=lambda p: p[0])
        out.append((s, best, e))
        best = e


def fmt_steps(x) -> str:
    """A break-even in steps: 'never', '0', or the step count rounded up."""
    if x is None:
        return "never"
    return "0" if x == 0 else f"{math.ceil(x):,}"


def check_args(n, steps) -> None:
    """ValueError (one line) unless n and steps are positive integers."""
    for name, v in (("n", n), ("steps", steps)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name}: got {v!r}; allowed: an integer >= 1")


def for_run(run: Run, n: int = SEED_N, steps: int = SEED_STEPS, device: str = "cpu",
            dtype: str = "float32") -> dict:
    """The answer for a user's run of ``steps`` steps at size ``n``: every variant's T(S) cold and
    warm, the fastest per framework and overall per start, the per-step fastest, the break-evens.
    ``{"lacks": why}`` when the file has no startup cases; ValueError (one line) for bad n, steps
    or an n the file has no startup cases for."""
    check_args(n, steps)
    if not startup_cases(run):
        return {"n": n, "steps": steps, "device": device, "dtype": dtype, "lacks": LACKS}
    all_e = entries(run)
    here = [e for e in all_e if e["n"] == n and e["device"] == device and e["dtype"] == dtype]
    if not here:
        sizes = sorted({e["n"] for e in all_e if e["device"] == device and e["dtype"] == dtype})
        raise ValueError(f"n: got {n!r}; allowed: one of {', '.join(map(str, sizes)) or 'none'} "
                         f"(the sizes with startup and throughput cases on {device} {dtype} in {run.path})")
    rows = [{"backend": e["backend"], "variant": e["variant"], "device": device, "dtype": dtype, "n": n,
             "steps": steps, "cold_seconds": seconds(e, steps, "cold"), "warm_seconds": seconds(e, steps, "warm"),
             "step_seconds": e["step_seconds"], "cold_startup_seconds": e["cold"]["startup_seconds"],
             "warm_startup_seconds": e["warm"]["startup_seconds"], "warm_measured": e["warm_measured"]}
            for e in here]
    fastest = {}
    for start in STARTS:
        key = f"{start}_seconds"
        per = {}
        for b in dict.fromkeys(r["backend"] for r in rows):
            best = min((r for r in rows if r["backend"] == b), key=lambda r: r[key])
            per[b] = {"variant": best["variant"], "seconds": best[key]}
        best = min(rows, key=lambda r: r[key])
        fastest[start] = {"overall": f"{best['backend']}-{best['variant']}", "seconds": best[key], "per_framework": per}
    per_step = {}
    for b in dict.fromkeys(r["backend"] for r in rows):
        best = min((r for r in rows if r["backend"] == b), key=lambda r: r["step_seconds"])
        per_step[b] = {"variant": best["variant"], "seconds_per_step": best["step_seconds"]}
    by = {(e["backend"], e["variant"]): e for e in here}
    evens = []
    for (b, v), e in by.items():
        if (b, v) == BASELINE or not e["warm_measured"]:
            continue  # compiled variants only
        for other in (SIBLING.get((b, v)), BASELINE):
            if other in by:
                evens.append({"variant": f"{b}-{v}", "against": "-".join(other),
                              **{start: break_even(e, by[other], start) for start in STARTS}})
    return {"n": n, "steps": steps, "device": device, "dtype": dtype, "entries": rows, "fastest": fastest,
            "per_step": per_step, "break_even": evens}


def _s(x: float) -> str:
    return f"{x:.3g} s" if x < 100 else f"{x:.0f} s"


def lines(tt: dict) -> list[str]:
    """The time-to-train lines of the answer block (at most 5)."""
    from ..text.tables import power10
    where = f"{tt['device']} n={power10(tt['n'])}, {tt['steps']:,} steps"
    if "lacks" in tt:
        return [f"  time to train ({where}): not in this file: {tt['lacks']}"]
    out = [f"  time to train, {where} (fresh process: import + compile + steps; docs/time-to-train.md):"]
    for start in STARTS:
        f = tt["fastest"][start]
        per = ", ".join(f"{b}-{p['variant']} {_s(p['seconds'])}" for b, p in f["per_framework"].items())
        out.append(f"    {start}: {per}; fastest {f['overall']}")
    ps = ", ".join(f"{b}-{p['variant']} {p['seconds_per_step'] * 1e6:.1f} us" for b, p in tt["per_step"].items())
    out.append(f"    per step, steady: {ps}")
    if tt["break_even"]:
        groups: dict[str, list[str]] = {}
        for e in tt["break_even"]:
            cw = "never" if e["cold"] is None and e["warm"] is None else f"{fmt_steps(e['cold'])}/{fmt_steps(e['warm'])}"
            groups.setdefault(e["variant"], []).append(f"{e['against'].split('-')[-1]} {cw}")
        out.append("    faster beyond (steps, cold/warm): " + "; ".join(
            f"{v} than {', '.join(g)}" for v, g in groups.items()))
    return out
