"""The throughput summary's lines (pure rendering, no framework): the table of the seed's cases,
the n = 1e3 overheads, the floor check, the tuned tier, op cases, the models' table, skipped
cases and pass-through cases. Printed at the end of a bench run (bench/harness/terminal_summary.py).
"""
from __future__ import annotations

from bench.matrix import DTYPE_TAG, FUSED, MODEL_KIND, OPTIMIZERS
from bench.timing import add_floor_ratios


def _us(seconds) -> str:
    return "-" if seconds is None else f"{seconds * 1e6:.1f}"


def _x(r) -> str:
    return "-" if r is None else f"{r:.2f}x"


def fastest(infos: list[dict], backend: str, key: tuple) -> dict | None:
    """The throughput info of ``backend`` with the least seconds_per_step for key (device, dtype, n, opt, E)."""
    rows = [i for i in infos if i.get("kind") == "throughput" and i["backend"] == backend
            and (i["device"], i["dtype"], i["n"], i["optimizer"], i["E"]) == key]
    return min(rows, key=lambda i: i["seconds_per_step"]) if rows else None


def summary_lines(infos: list[dict], skipped: list[tuple[str, str]] = (), others: list[tuple[str, dict, float]] = ()) -> list[str]:
    """The terminal summary: one row per (device, dtype, n, optimizer, E), then n = 1e3 overheads,
    the n >= 1e6 floor check, skipped cases with reasons, and cases of other kinds (pass-through)."""
    add_floor_ratios(infos)
    tp = [i for i in infos if i.get("kind") == "throughput"]
    keys = sorted({(i["device"], i["dtype"], i["n"], i["optimizer"], i["E"]) for i in tp},
                  key=lambda k: (k[0], k[1], k[2], k[4], k[3]))
    out = []
    if keys:
        out.append("us/step (median); best variant per framework; ratio to own floor pass; "
                   "jax/torch < 1 means jax is faster")
        head = (f"{'device dtype n opt E':<30}{'torch best':>22}{'jax best':>20}{'jax/torch':>10}"
                f"{'torch/fl':>9}{'jax/fl':>8}{'numpy':>11}")
        out += [head, "-" * len(head)]
    for key in keys:
        t, j, r = (fastest(tp, b, key) for b in ("torch", "jax", "reference"))
        cell = lambda i: "-" if i is None else f"{i['variant']} {_us(i['seconds_per_step'])}"
        ratio = j["seconds_per_step"] / t["seconds_per_step"] if t and j else None
        out.append(f"{'%s %s n=%d %s E=%d' % (key[0], DTYPE_TAG[key[1]], key[2], key[3], key[4]):<30}"
                   f"{cell(t):>22}{cell(j):>20}{_x(ratio):>10}"
                   f"{_x(t and t['floor_ratio']):>9}{_x(j and j['floor_ratio']):>8}"
                   f"{_us(r and r['seconds_per_step']):>11}")
    small = [i for i in tp if i["n"] == min((c["n"] for c in tp), default=0) and i["E"] == 1
             and i["dtype"] == "float32"]
    if small:
        out.append(f"n={small[0]['n']}, E=1: per-step cost (mostly overhead) and fused vs one-step sibling")
        for b, (fused, single) in FUSED.items():
            for dev in sorted({i["device"] for i in small}):
                for opt in OPTIMIZERS:
                    pick = {i["variant"]: i for i in small if i["backend"] == b
                            and i["device"] == dev and i["optimizer"] == opt}
                    if fused in pick and single in pick:
                        f, s = pick[fused]["seconds_per_step"], pick[single]["seconds_per_step"]
                        verdict = "faster" if f < s else "SLOWER"
                        out.append(f"  {b} {dev} {opt}: {single} {_us(s)} us, {fused} {_us(f)} us: "
                                   f"{fused} {s / f:.1f}x {verdict}")
                    else:
                        for v, i in pick.items():
                            out.append(f"  {b} {dev} {opt}: {v} {_us(i['seconds_per_step'])} us")
    big = [i for i in tp if i["n"] >= 1_000_000 and i["E"] == 1]
    if big:
        out.append("n>=1e6: fastest variant of each framework against its own floor (target <= 1.5x)")
        for key in sorted({(i["device"], i["dtype"], i["n"], i["optimizer"], i["E"]) for i in big}):
            for b in ("torch", "jax"):
                i = fastest(big, b, key)
                if i is not None and i["floor_ratio"] is not None:
                    flag = "ok" if i["floor_ratio"] <= 1.5 else "ABOVE 1.5x"
                    out.append(f"  {key[0]} n={key[2]} {key[3]} {b}-{i['variant']}: "
                               f"{_x(i['floor_ratio'])} {flag}")
    tuned = [i for i in infos if i.get("kind") == "tuned"]
    if tuned:
        out.append("tuned tier (docs/gap.md; not in the table above): fastest per framework, us/step, "
                   "and / the machine's floor (cheapest sin+cos pass of any framework and tier)")
        for key in sorted({(i["device"], i["dtype"], i["n"], i["optimizer"], i["E"]) for i in tuned},
                          key=lambda k: (k[0], k[1], k[2], k[4], k[3])):
            cells = []
            for b in ("torch", "jax"):
                rows = [i for i in tuned if i["backend"] == b
                        and (i["device"], i["dtype"], i["n"], i["optimizer"], i["E"]) == key]
                if rows:
                    i = min(rows, key=lambda i: i["seconds_per_step"])
                    cells.append(f"{b}-{i['variant']} {_us(i['seconds_per_step'])} ({_x(i.get('machine_floor_ratio'))})")
            out.append(f"  {key[0]} {DTYPE_TAG[key[1]]} n={key[2]} {key[3]} E={key[4]}: " + ", ".join(cells))
        out.append("  where each step's time goes: paritybench explain <this run's JSON>")
    out += model_summary_lines(infos)
    if skipped:
        out.append(f"skipped: {len(skipped)} cases")
        reasons = {}
        for name, why in skipped:
            reasons.setdefault(why, []).append(name)
        for why, names in reasons.items():
            out.append(f"  {len(names)} x {why} (e.g. {names[0]})")
    ops = [i for i in infos if i.get("kind") == "op"]
    if ops:
        out.append(f"op cases: {len(ops)} (ns per element per framework and tier: paritybench compare)")
    if others:
        kinds = {}
        for name, info, med in others:
            kinds.setdefault(str(info.get("kind", "?")), []).append((med, name))
        out.append("other kinds (not in the table; their own tables above): " + ", ".join(
            f"{k}: {len(v)} cases, slowest {max(v)[1]} {max(v)[0]:.3g} s/call" for k, v in kinds.items()))
    return out


def model_fastest(infos: list[dict], backend: str, key: tuple) -> dict | None:
    """The model-throughput info of ``backend`` with the least seconds_per_step for key
    (model, device, dtype, config_id, optimizer)."""
    rows = [i for i in infos if i.get("kind") == MODEL_KIND and i["backend"] == backend and _model_key(i) == key]
    return min(rows, key=lambda i: i["seconds_per_step"]) if rows else None


def _model_key(i: dict) -> tuple:
    return i["model"], i["device"], i["dtype"], i["config_id"], i["optimizer"]


def model_summary_lines(infos: list[dict]) -> list[str]:
    """Per model: one line per (device, dtype, config, optimizer): the fastest variant of each
    framework, us/step, / its own floor (paired), jax/torch, numpy's step, and the fastest step
    against the roofline (``add_model_rooflines``)."""
    rows = [i for i in infos if i.get("kind") == MODEL_KIND]
    out = []
    for model in sorted({i["model"] for i in rows}):
        out.append(f"{model}: us/step (median), fastest variant per framework (x own floor: its fused "
                   "pass over the step's matmuls); roofline: the model's FLOPs at the fastest floor's rate")
        for key in sorted({_model_key(i) for i in rows if i["model"] == model}):
            t, j, r = (model_fastest(rows, b, key) for b in ("torch", "jax", "reference"))
            cells = [f"{b}-{i['variant']} {_us(i['seconds_per_step'])} ({_x(i.get('floor_ratio'))} fl)"
                     for b, i in (("torch", t), ("jax", j)) if i is not None]
            if t and j:
                cells.append(f"jax/torch {_x(j['seconds_per_step'] / t['seconds_per_step'])}")
            if r:
                cells.append(f"numpy {_us(r['seconds_per_step'])}")
            best = min((i for i in (t, j, r) if i), key=lambda i: i["seconds_per_step"])
            if best.get("roofline_ratio"):
                cells.append(f"fastest {_x(best['roofline_ratio'])} roofline "
                             f"({best['matmul_flops_per_second'] / 1e9:.1f} GFLOP/s measured)")
            out.append(f"  {key[1]} {DTYPE_TAG[key[2]]} {key[3]} {key[4]}: " + ", ".join(cells))
    return out
