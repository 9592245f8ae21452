"""What a result file says about the models under impls/contract.py (impls/models), beside the seed's.

Three kinds of case, each with ``extra_info['model']`` naming the model (bench/):
  model-throughput  one training step per backend x variant x config, paired with the framework's
                    floor (its fused pass over the step's matmuls) and a roofline: the model's FLOPs
                    at the fastest floor's measured rate (bench/timing.py ``add_model_rooflines``)
  model-agreement   a run trained to solved (or its budget) in float32 against the float64
                    reference: outcome, steps to solve, horizon (bench/test_model_agreement.py)
  time-to-solve     a fresh process's run to solved, cold and warm compile caches
                    (bench/test_model_agreement.py, bench/startup.py)

  answer(run)  -> {model: {"throughput": [...], "agreement": {...}, "time_to_solve": [...]}}
  lines(ans)   -> the answer block's lines per model (paritybench/analyses/answer.py appends them)
  tables(run)  -> compare's tables of one run (paritybench/render/one_run.py appends them)
The seed's figures never read these cases: its own are kinds throughput, agreement and startup.
"""
from __future__ import annotations

from ..gate import stats
from .per_step import _fastest, _rounds, central
from ..text.tables import Column, Table, pct, times, us
from ..store.resultfile import Case, Run

KINDS = ("model-throughput", "model-agreement", "time-to-solve")


def of_kind(run: Run, kind: str) -> list[Case]:
    """Cases of ``kind`` (read from extra_info: a reader that does not know the kind still has them)."""
    return [c for c in run.cases.values() if c.get("kind") == kind and c.get("model")]


def _key(c: Case) -> tuple:
    return tuple(str(c.get(k)) for k in ("model", "device", "dtype", "config_id", "optimizer"))


def _cell(c: Case | None) -> dict | None:
    return None if c is None else {"variant": c.get("variant"), "seconds_per_step": central(c),
                                   "floor_ratio": c.get("floor_ratio"), "roofline_ratio": c.get("roofline_ratio")}


def answer(run: Run) -> dict:
    """Per model: per (device, dtype, config, optimizer) the fastest torch and jax variants, jax/torch
    with a 95% bootstrap interval over processes and rounds (``stats.ratio_ci``), each against its own
    floor and the fastest against the roofline; the agreement runs; the time to solve. {} when the
    file has no model case."""
    out: dict = {}
    groups: dict[tuple, list[Case]] = {}
    for c in of_kind(run, "model-throughput"):
        groups.setdefault(_key(c), []).append(c)
    for key in sorted(groups):
        model, device, dtype, config_id, opt = key
        here = groups[key]
        t, j, r = (_fastest(here, b) for b in ("torch", "jax", "reference"))
        best = min((c for c in (t, j, r) if c), key=central)
        row = {"device": device, "dtype": dtype, "config": here[0].get("config"), "config_id": config_id,
               "optimizer": opt, "torch": _cell(t), "jax": _cell(j), "numpy": _cell(r),
               "fastest": f"{best.get('backend')}-{best.get('variant')}",
               "roofline_ratio": best.get("roofline_ratio"),
               "matmul_flops_per_second": best.get("matmul_flops_per_second"),
               "flops_per_step": best.get("flops_per_step")}
        if t is not None and j is not None:
            row["jax_over_torch"] = central(j) / central(t)
            row["jax_over_torch_ci95"] = list(stats.ratio_ci(_rounds(t), _rounds(j)))
        out.setdefault(model, {"throughput": [], "agreement": None, "time_to_solve": []})["throughput"].append(row)
    ag: dict[str, list[Case]] = {}
    for c in of_kind(run, "model-agreement"):
        ag.setdefault(c.get("model"), []).append(c)
    for model, cases in sorted(ag.items()):
        entry = out.setdefault(model, {"throughput": [], "agreement": None, "time_to_solve": []})
        entry["agreement"] = {
            "cases": len(cases), "agree": sum(c.get("agree") is True for c in cases),
            "config_id": cases[0].get("config_id"), "dtype": sorted({str(c.get("dtype")) for c in cases}),
            "reference_outcome": cases[0].get("reference_outcome"),
            "reference_steps_to_solve": cases[0].get("reference_steps_to_solve"),
            "eval_every": cases[0].get("eval_every"),
            "runs": [{"label": c.label, "dtype": c.get("dtype"), "outcome": c.get("outcome"),
                      "steps_to_solve": c.get("steps_to_solve"), "horizon": c.get("horizon"),
                      "agree": c.get("agree")} for c in cases]}
    for c in of_kind(run, "time-to-solve"):
        entry = out.setdefault(c.get("model"), {"throughput": [], "agreement": None, "time_to_solve": []})
        cold, warm = c.get("cold") or {}, c.get("warm") or {}
        entry["time_to_solve"].append({
            "label": c.label, "device": c.get("device"), "config_id": c.get("config_id"),
            "steps_to_solve": cold.get("steps_to_solve"), "cold_seconds": cold.get("run_seconds"),
            "warm_seconds": warm.get("run_seconds"), "warm_measured": c.get("warm_measured")})
    return out


def _x(v) -> str:
    return "-" if v is None else f"{v:.2f}x"


def _s(v) -> str:
    return "-" if v is None else f"{v:.1f} s"


def lines(models: dict) -> list[str]:
    """The answer block's lines of each model: a line per config, agreement, time to solve."""
    out = []
    for model, m in models.items():
        out.append(f"  {model}:")
        for r in m["throughput"]:
            t, j = r.get("torch"), r.get("jax")
            where = f"{r['device']} {r['config_id']} {r['optimizer']}"
            if t and j:
                q, (lo, hi) = r["jax_over_torch"], r["jax_over_torch_ci95"]
                who = f"jax {1 / q:.2f}x faster [{1 / hi:.2f}, {1 / lo:.2f}]" if q < 1 else \
                    f"torch {q:.2f}x faster [{lo:.2f}, {hi:.2f}]"
                out.append(f"    {where}: torch-{t['variant']} {us(t['seconds_per_step'])}, jax-{j['variant']} "
                           f"{us(j['seconds_per_step'])} per step: {who}; each / own floor: "
                           f"{_x(t['floor_ratio'])}, {_x(j['floor_ratio'])}; fastest ({r['fastest']}) "
                           f"{_x(r['roofline_ratio'])} the roofline")
            else:
                only = t or j or r.get("numpy")
                out.append(f"    {where}: only {r['fastest'].split('-')[0] if not (t or j) else 'torch' if t else 'jax'}"
                           f"-{only['variant']} ran, {us(only['seconds_per_step'])} per step; "
                           f"{_x(r['roofline_ratio'])} the roofline")
        a = m.get("agreement")
        if a:
            ref = a["reference_outcome"] + (f" at step {a['reference_steps_to_solve']}"
                                            if a.get("reference_steps_to_solve") else "")
            bad = [x for x in a["runs"] if x["agree"] is not True]
            out.append(f"    agreement ({a['config_id']}): {a['agree']} of {a['cases']} runs end as the float64 "
                       f"reference ({ref}), steps to solve within one eval block ({a['eval_every']})"
                       + ("" if not bad else "; DISAGREE: " + ", ".join(
                           f"{x['label']} {x['dtype']} {x['outcome']}@{x['steps_to_solve']}" for x in bad[:3])))
        tts = m.get("time_to_solve") or []
        if tts:
            out.append(f"    time to solve ({tts[0]['config_id']}, a fresh process, cold / warm caches): " + ", ".join(
                f"{e['label']} {_s(e['cold_seconds'])} / {_s(e['warm_seconds'])}" for e in tts)
                       + f" ({tts[0]['steps_to_solve']} steps)")
    return out


def tables(run: Run) -> list[Table]:
    """compare's tables of one run, per model: the steps (as the seed's throughput tables: fastest
    first, x floor = the paired ratio to the framework's own floor, x roofline), the agreement runs,
    the times to solve."""
    out = []
    groups: dict[tuple, list[Case]] = {}
    for c in of_kind(run, "model-throughput"):
        groups.setdefault(_key(c), []).append(c)
    for key in sorted(groups):
        model, device, dtype, config_id, opt = key
        t = Table(f"{model} {config_id} {opt} {dtype} {device} (x roofline: the model's FLOPs at the "
                  "fastest floor's measured rate)", [
                      Column("case", align="<"), Column("us/step", lambda v: f"{v * 1e6:.1f}"),
                      Column("x floor", times), Column("x roofline", times),
                      Column("GFLOP/s", lambda v: f"{v / 1e9:.1f}"), Column("compile s", lambda v: f"{v:.2f}"),
                      Column("spread", pct)])
        for c in sorted(groups[key], key=central):
            sps = central(c)
            f = c.get("flops_per_step")
            t.rows.append([c.label, sps, c.get("floor_ratio"), c.get("roofline_ratio"),
                           f / sps if isinstance(f, (int, float)) and sps > 0 else None,
                           c.get("compile_seconds"), c.spread])
        out.append(t)
    ag = of_kind(run, "model-agreement")
    if ag:
        t = Table("model agreement: float32 runs against the float64 reference (outcome@steps to solve; "
                  "horizon: the first recorded step the parameters part)", [
                      Column("model", align="<"), Column("config", align="<"), Column("case", align="<"),
                      Column("dtype", align="<"), Column("outcome", align="<"), Column("reference", align="<"),
                      Column("horizon", str), Column("agree", align="<")])
        for c in ag:
            t.rows.append([c.get("model"), c.get("config_id"), c.label, c.get("dtype"),
                           f"{c.get('outcome')}@{c.get('steps_to_solve')}",
                           f"{c.get('reference_outcome')}@{c.get('reference_steps_to_solve')}",
                           c.get("horizon"), "yes" if c.get("agree") else "NO"])
        out.append(t)
    tts = of_kind(run, "time-to-solve")
    if tts:
        t = Table("time to solve: a fresh process's run to solved (import, prepare, compile, steps, scores)", [
            Column("model", align="<"), Column("config", align="<"), Column("case", align="<"),
            Column("steps", str), Column("cold s", lambda v: f"{v:.2f}"), Column("warm s", lambda v: f"{v:.2f}")])
        for c in tts:
            cold, warm = c.get("cold") or {}, c.get("warm") or {}
            t.rows.append([c.get("model"), c.get("config_id"), c.label, cold.get("steps_to_solve"),
                           cold.get("run_seconds"), warm.get("run_seconds")])
        out.append(t)
    return out
