"""Where a step's time goes: each step case attributed to the op cases of its framework and tier.

Per element of x (n E), from the op cases of the same framework, tier, device, dtype, n and E
(kind "op", impls.spec.OPS), all in ns per element. Steps and ops are timed minutes apart on a
shared machine, so the parts come from their paired ratios to the same floor pass (each measured
in its own rounds: the machine's drift cancels), scaled by the step's time (the median of its
processes' medians, as ``paritybench answer``): t(op) = step x ratio(op) / ratio(step). A file
without paired ratios falls back to the ops' own seconds.
  read     = t(read)                    reading x, one multiply, the reduction: every pass pays it
  sin+cos  = t(sincos) - t(read)        the two transcendental functions (one pass: any shared work)
  rest     = t(rest) - t(read)          the step's other arithmetic (r = s^2 - y, its square, 4 r s c x)
  other    = step - (read + sin+cos + rest)   what fusion into one pass does not explain: extra
             passes over memory, dispatch, the optimizer, the recorded history
The four sum to the step's time. Between two frameworks at one shape (the slower A, the faster B):
  A/B = 1 + sum over parts of (part_A - part_B) / step_B
so each part's share of the ratio is additive; the part with the largest share "explains" it.

The machine's floor: the cheapest sin + cos pass any framework and tier achieved at the shape
(floor cases and "sincos" op cases); every step's ratio to it sits beside its own floor ratio.
Tiers never mix in the default comparison: the default tier's best against the default tier's
best; the tuned tier is compared in lines of its own ("best of each framework, any tier").
"""
from __future__ import annotations

from .per_step import _central
from ..text.tables import Column, Table, power10, times
from ..store.resultfile import Case, Run

PARTS = ("read", "sin+cos", "rest", "other")
GOAL_RATIO = 3.0  # the best JAX CPU variant within 3x of torch's best (issue #13)


def _shape(c: Case) -> tuple:
    return tuple(c.get(k) for k in ("device", "dtype", "n", "E"))


def _tier(c: Case) -> str:
    return "tuned" if c.kind == "tuned" else "default"


def _ops(run: Run) -> dict:
    """(backend, tier, device, dtype, n, E) -> {op: seconds per pass, "ratios": {op: paired ratio
    to the tier's floor pass}} (an op without a paired ratio is left out of "ratios")."""
    out: dict = {}
    for c in run.of_kind("op"):
        d = out.setdefault((c.get("backend"), c.get("tier") or "default") + _shape(c), {"ratios": {}})
        d[c.get("op")] = c.seconds
        r = c.get("floor_ratio")
        if isinstance(r, (int, float)) and r > 0:
            d["ratios"][c.get("op")] = r
    return out


def seconds(c: Case) -> float:
    """A step's seconds: the median of its processes' medians (``per_step.central``)."""
    return _central(c)


def machine_floor(run: Run) -> dict:
    """(device, dtype, n, E) -> (seconds per pass, who): the cheapest sin + cos pass of any
    framework and tier in the run (floor cases and "sincos" op cases)."""
    best: dict = {}
    cands = [(c, f"{c.get('backend')} floor") for c in run.of_kind("floor")]
    cands += [(c, f"{c.get('backend')} {c.get('tier')} sincos") for c in run.of_kind("op")
              if c.get("op") == "sincos"]
    for c, who in cands:
        k = _shape(c)
        if k not in best or c.seconds < best[k][0]:
            best[k] = (c.seconds, who)
    return best


def parts(step: Case, ops: dict) -> dict | None:
    """{part: ns per element} of a step case (PARTS, summing to the step), None without its ops."""
    o = ops.get((step.get("backend"), _tier(step)) + _shape(step))
    if not o or not all(k in o for k in ("read", "sincos", "rest")):
        return None
    per = 1e9 / (step.get("n") * step.get("E"))
    total = seconds(step) * per
    r = step.get("floor_ratio")
    ratios = o.get("ratios", {})
    if isinstance(r, (int, float)) and r > 0 and all(k in ratios for k in ("read", "sincos", "rest")):
        t = {k: total * ratios[k] / r for k in ("read", "sincos", "rest")}  # ns per element
    else:
        t = {k: o[k] * per for k in ("read", "sincos", "rest")}
    read, trig, rest = t["read"], t["sincos"] - t["read"], t["rest"] - t["read"]
    return {"read": read, "sin+cos": trig, "rest": rest, "other": total - read - trig - rest,
            "step": total}


def _best(cases: list[Case], backend: str) -> Case | None:
    mine = [c for c in cases if c.get("backend") == backend]
    return min(mine, key=seconds) if mine else None


def _steps(run: Run) -> list[Case]:
    return [c for c in run.of_kind("throughput") + run.of_kind("tuned") if c.get("E") == 1]


def _key(c: Case) -> tuple:
    return _shape(c) + (c.get("optimizer"),)


def attributions(run: Run) -> list[dict]:
    """One record per (device, dtype, n, optimizer) with op cases: for the default tier's best
    torch and best jax, and for the best of each in any tier: their ratio and each part's share."""
    ops = _ops(run)
    out = []
    steps = _steps(run)
    for key in sorted({_key(c) for c in steps}, key=lambda k: tuple(map(str, k))):
        here = [c for c in steps if _key(c) == key and parts(c, ops)]
        for scope, pool in (("default", [c for c in here if c.kind == "throughput"]), ("any tier", here)):
            t, j = _best(pool, "torch"), _best(pool, "jax")
            if t is None or j is None:
                continue
            slow, fast = (j, t) if seconds(j) >= seconds(t) else (t, j)
            ps, pf = parts(slow, ops), parts(fast, ops)
            share = {p: (ps[p] - pf[p]) / pf["step"] for p in PARTS}
            out.append({"device": key[0], "dtype": key[1], "n": key[2], "E": key[3], "optimizer": key[4],
                        "scope": scope, "slower": slow.label, "faster": fast.label,
                        "jax_over_torch": seconds(j) / seconds(t), "ratio": seconds(slow) / seconds(fast),
                        "shares": share, "explains": max(share, key=share.get),
                        "parts": {slow.label: ps, fast.label: pf}})
    return out


def sentence(a: dict) -> str:
    """'cpu f32 n=1e6 sgd, default tier: jax-scan / torch-compiled = 31.0x; sin+cos +22.1x, ...'"""
    dt = {"float32": "f32", "float64": "f64"}.get(a["dtype"], a["dtype"])
    sh = ", ".join(f"{p} {a['shares'][p]:+.1f}x" for p in sorted(PARTS, key=lambda p: -a["shares"][p]))
    return (f"{a['device']} {dt} n={power10(a['n'])} {a['optimizer']}, {a['scope']}: {a['slower']} / "
            f"{a['faster']} = {a['ratio']:.1f}x = 1 + {sh}; {a['explains']} explains most")


def goal_lines(run: Run, ratio: float = GOAL_RATIO) -> list[str]:
    """The goal of docs/gap.md per CPU shape: best JAX (any tier) within ``ratio`` of best torch."""
    out = []
    steps = _steps(run)
    for key in sorted({_key(c) for c in steps if c.get("device") == "cpu"}, key=lambda k: tuple(map(str, k))):
        pool = [c for c in steps if _key(c) == key]
        t, j = _best(pool, "torch"), _best(pool, "jax")
        if t is None or j is None:
            continue
        r = seconds(j) / seconds(t)
        out.append(f"{key[1]} n={power10(key[2])} {key[4]}: best jax {j.label} / best torch {t.label} = "
                   f"{r:.2f}x: {'within' if r <= ratio else 'NOT within'} {ratio:g}x")
    return out


def step_table(run: Run) -> list[Table]:
    """Per (device, dtype, n, optimizer): each step case's parts in ns per element, its own floor
    ratio and its ratio to the machine's floor."""
    ops, mf = _ops(run), machine_floor(run)
    groups: dict = {}
    for c in _steps(run):
        if parts(c, ops):
            groups.setdefault(_key(c), []).append(c)
    tables = []
    for key, cases in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
        floor = mf.get(key[:4])
        t = Table(f"where the step goes, ns per element: {key[0]} {key[1]} n={power10(key[2])} E={key[3]} "
                  f"{key[4]}" + (f" (machine floor: {floor[1]}, {floor[0] / (key[2] * key[3]) * 1e9:.3g} "
                                 "ns/element)" if floor else ""),
                  [Column("variant", align="<"), Column("tier", align="<"), Column("step", _ns)]
                  + [Column(p, _ns) for p in PARTS] + [Column("x own fl", times), Column("x machine", times)])
        for c in sorted(cases, key=seconds):
            p = parts(c, ops)
            t.rows.append([c.label, _tier(c), p["step"]] + [p[k] for k in PARTS]
                          + [c.get("floor_ratio"), seconds(c) / floor[0] if floor else None])
        t.notes.append("read + sin+cos + rest + other = step (the median of the processes' medians; "
                       "the parts from paired floor ratios); x machine: step / the cheapest sin+cos "
                       "pass of any framework and tier here")
        tables.append(t)
    return tables


def _ns(v: float) -> str:
    return f"{v:.3g}"


def explain(run: Run) -> dict:
    """Everything ``paritybench explain`` prints, as one JSON-able dict."""
    return {"attributions": attributions(run), "goal": goal_lines(run),
            "machine_floor": {f"{k[0]} {k[1]} n={k[2]} E={k[3]}": {"seconds_per_pass": v[0], "who": v[1]}
                              for k, v in machine_floor(run).items()}}


def lines(run: Run) -> list[str]:
    """The attribution sentences, then the goal lines (the tables come from ``step_table``)."""
    ex = explain(run)
    out = [sentence(a) for a in ex["attributions"]] or [
        "no step case here has op cases of its framework and tier at its shape "
        "(op cases run in the default and full profiles: pytest bench --benchmark-only)"]
    if ex["goal"]:
        out.append(f"goal: the best JAX CPU variant within {GOAL_RATIO:g}x of torch's best")
        out += [f"  {g}" for g in ex["goal"]]
    return out
