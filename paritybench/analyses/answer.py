"""The answer first: which framework is faster here, by how much, against what, and do they agree.

    answer(run) -> dict   (JSON-able; ``paritybench answer RUN --json``)
    lines(ans)  -> list   (at most ~17 lines: the opening of a bench run's summary)

Per device and size band (n <= 1e4: overhead-bound; n >= 1e6: throughput-bound; between: middle),
float32, E = 1, sgd: the fastest variant of torch and of jax by seconds per step (the median of
the processes' medians), the ratio of the two with a 95% bootstrap interval over processes and
rounds (``stats.ratio_ci``), and each against its own floor pass. Where the run has the tuned tier
(docs/gap.md), one line per throughput-bound band: the best JAX and torch variant of any tier, the
default tier's figures untouched. Agreement: how many cases ended as the float64 reference did,
and for those that did not, why: chaos (the ensembles agree) or disagreement. Time to train
(paritybench/analyses/time_to_train.py): for the seed's run (n = 1e3, 100 steps) or the user's, each
framework's fastest variant end to end, cold and warm, beside the per-step answer, and the
break-even steps of each compiled variant. Models other than the seed (impls/models; cases with
extra_info 'model', paritybench/analyses/model_results.py): per model and config the same per-step answer,
the fastest step against its roofline, the agreement runs and the time to solve, after the seed's.
"""
from __future__ import annotations

from pathlib import Path

from ..gate import stats
from ..text.tables import power10, us
from ..store.resultfile import Case, Run
from .per_step import _central, _fastest, _rounds


def band(n: int) -> str:
    return "overhead-bound" if n <= 10_000 else "throughput-bound" if n >= 1_000_000 else "middle"


def answer(run: Run, n: int | None = None, steps: int | None = None) -> dict:
    """The headline of ``run`` as a JSON-able dict (see the module docstring); ``time_to_train``
    answers for a run of ``steps`` steps at size ``n`` (default: the seed's, n = 1e3, 100 steps;
    ``paritybench.analyses.time_to_train.for_run``). A file without startup cases answers the rest and says
    so in ``time_to_train['lacks']``; ValueError (one line) for bad n or steps, or an n given that
    the file has no startup cases for."""
    from . import time_to_train as ttt
    size, count = ttt.SEED_N if n is None else n, ttt.SEED_STEPS if steps is None else steps
    ttt.check_args(size, count)
    asked = n is not None  # (n is reused by the loops below)
    tp = [c for c in run.of_kind("throughput") if c.get("dtype") == "float32" and c.get("E") == 1
          and c.get("optimizer") == "sgd"]
    out = {"file": run.path, "partial": bool(run.doc_extra.get("interrupted")),
           "not_run": len(run.doc_extra.get("not_run") or []),
           "cpu": (run.machine_info.get("numeric") or {}).get("cpu_model"),
           "threads": _threads(run.machine_info.get("threads")),
           "processes": run.doc_extra.get("processes") or 1, "bands": [], "agreement": None}
    for device, n in sorted({(c.get("device"), c.get("n")) for c in tp}):
        here = [c for c in tp if c.get("device") == device and c.get("n") == n]
        t, j = _fastest(here, "torch"), _fastest(here, "jax")
        row = {"device": device, "n": n, "band": band(n)}
        for name, c in (("torch", t), ("jax", j)):
            row[name] = None if c is None else {"variant": c.get("variant"), "seconds_per_step": _central(c),
                                                 "floor_ratio": c.get("floor_ratio")}
        if t is not None and j is not None:  # medians of the process medians, as the interval's
            row["jax_over_torch"] = _central(j) / _central(t)
            row["jax_over_torch_ci95"] = list(stats.ratio_ci(_rounds(t), _rounds(j)))
        out["bands"].append(row)
    tuned = [c for c in run.of_kind("tuned") if c.get("dtype") == "float32" and c.get("E") == 1
             and c.get("optimizer") == "sgd" and band(c.get("n") or 0) == "throughput-bound"]
    out["tuned"] = []
    for device, n in sorted({(c.get("device"), c.get("n")) for c in tuned}):
        pool = [c for c in tp + tuned if c.get("device") == device and c.get("n") == n]
        t, j = _fastest(pool, "torch"), _fastest(pool, "jax")
        if t is not None and j is not None:
            out["tuned"].append({"device": device, "n": n, "torch": t.label, "jax": j.label,
                                 "jax_seconds_per_step": _central(j), "jax_over_torch": _central(j) / _central(t)})
    try:
        out["time_to_train"] = ttt.for_run(run, size, count)
    except ValueError as e:  # the seed's size not in the run (a GPU-only run): said, not fatal
        if asked:
            raise
        out["time_to_train"] = {"n": size, "steps": count, "device": "cpu", "dtype": "float32", "lacks": str(e)}
    from . import model_results  # the models under impls/contract.py, beside the seed's figures
    out["models"] = model_results.answer(run)
    ag = run.of_kind("agreement")
    if ag:
        differ = [c for c in ag if c.get("outcome") != c.get("reference_outcome")]
        out["agreement"] = {
            "cases": len(ag), "same_outcome": len(ag) - len(differ),
            "failed": [c.name for c in ag if c.get("agree") is False],
            "differ": [{"case": c.name.split("[")[-1].rstrip("]"), "outcome": c.get("outcome"),
                        "reference": c.get("reference_outcome"),
                        "why": _why(c)} for c in differ]}
    return out


def _why(c: Case) -> str:
    """Why an agreement case ended otherwise than the reference."""
    if c.get("chaotic") and c.get("agree") is True:
        return "chaos: the ensembles agree"
    if c.get("chaotic") and c.get("agree") is None:
        return "chaos, not judged (a file without the ensemble verdict)"
    return "DISAGREEMENT"


def _threads(t):
    """machine_info threads: {'set': T, ...} since the suite records it; a bare number before."""
    return t.get("set") if isinstance(t, dict) else t


def lines(ans: dict) -> list[str]:
    """The verdict block: at most ~17 lines."""
    head = (f"paritybench answer: {ans.get('cpu') or '?'}, {ans.get('threads')} thread(s), "
            f"{ans.get('processes')} process(es) per case")
    out = [head + (f"; PARTIAL RUN: interrupted, {ans['not_run']} cases not run" if ans["partial"] else "")]
    if ans.get("models"):  # more than the seed's model in the run: each named
        out.append("  seed, sin(w x)^2 (one weight):")
    for r in ans["bands"][:6]:
        t, j = r.get("torch"), r.get("jax")
        where = f"{r['device']} n={power10(r['n'])} ({r['band']})"
        if not (t or j):
            continue  # only numpy ran at this size
        if not (t and j):
            only = t or j
            out.append(f"  {where}: only {'torch' if t else 'jax'}-{only['variant']} ran")
            continue
        q, (lo, hi) = r["jax_over_torch"], r["jax_over_torch_ci95"]
        who = f"jax {1 / q:.2f}x faster [{1 / hi:.2f}, {1 / lo:.2f}]" if q < 1 else \
            f"torch {q:.2f}x faster [{lo:.2f}, {hi:.2f}]"
        fl = lambda c: "-" if c.get("floor_ratio") is None else f"{c['floor_ratio']:.2f}x"  # noqa: E731
        out.append(f"  {where}: torch-{t['variant']} {us(t['seconds_per_step'])}, jax-{j['variant']} "
                   f"{us(j['seconds_per_step'])} per step: {who}; each / own floor: {fl(t)}, {fl(j)}")
    for r in ans.get("tuned") or []:
        out.append(f"  tuned tier, {r['device']} n={power10(r['n'])}: best jax {r['jax']} {us(r['jax_seconds_per_step'])}, "
                   f"{r['jax_over_torch']:.2f}x best torch ({r['torch']}); why: paritybench explain "
                   f"{Path(ans['file']).name}")
    a = ans.get("agreement")
    if a:
        if not a["differ"]:
            out.append(f"  agreement: all {a['cases']} cases end as the float64 reference does")
        else:
            chaos = sum(d["why"].startswith("chaos: the") for d in a["differ"])
            bad = sum(d["why"] == "DISAGREEMENT" for d in a["differ"])
            out.append(f"  agreement: {a['same_outcome']} of {a['cases']} cases end as the float64 reference "
                       f"does; {chaos} differ by chaos (ensembles agree), {bad} DISAGREE"
                       + (f", {len(a['differ']) - chaos - bad} chaotic, not judged" if len(a["differ"]) - chaos - bad else ""))
            for d in [d for d in a["differ"] if d["why"] == "DISAGREEMENT"][:2]:
                out.append(f"    {d['case']}: {d['outcome']} vs reference {d['reference']}")
    if ans.get("time_to_train"):
        from .time_to_train import lines as ttt_lines
        out += ttt_lines(ans["time_to_train"])
    if ans.get("models"):
        from . import model_results
        out += model_results.lines(ans["models"])
    out.append(f"  JSON: {ans['file']}  (detail: paritybench compare {Path(ans['file']).name})")
    return out
