"""docs/scale.md's generated block (``paritybench report``): the newest committed
results/scale-study-*.json (bench/studies/scale_study.py): step time against P, the all-reduce's share,
the latency model's prediction beside the measurement."""
from __future__ import annotations

from pathlib import Path

from ..store.files import study_block
from ..text.tables import power10, us


@study_block("scale-study-*.json", "bench.studies.scale_study")
def block_scale_study(path: Path, doc: dict) -> str:
    v = doc.get("versions") or {}
    dp = [r for r in doc["rows"] if r.get("shard", "data") == "data"]
    ens = [r for r in doc["rows"] if r.get("shard") == "ensemble"]
    out = [f"`results/{path.name}`: {doc.get('cpu_model')}, {doc['cpus']} CPUs, each rank pinned to its own CPU, "
           f"float32 SGD on the seed's problem, {dp[0]['steps']} timed steps after one warm-up step; "
           f"torch {v.get('torch')}, jax {v.get('jax')}.", "",
           "| framework | n | P | per step (slowest rank) | speedup vs P = 1 | all-reduce per step | "
           "model: (step(1) - c(1))/P + c(P) | ranks bit-identical |", "|---|---|---|---|---|---|---|---|"]
    base = {(r["backend"], r["n"]): r for r in dp if r["processes"] == 1}
    for r in dp:
        comm = r.get("comm_seconds_per_step")
        pred = _model(r, base.get((r["backend"], r["n"])))
        out.append(f"| {r['backend']} | {power10(r['n'])} | {r['processes']} | {us(r['seconds_per_step'])} | "
                   f"{r['speedup']:.2f}x | {us(comm) if comm is not None else 'not measurable (inside XLA)'} | "
                   f"{us(pred) if pred is not None else '-'} | {'yes' if r['ranks_identical'] else 'NO'} |")
    if ens:
        out += ["", f"Sharded ensemble: E = {ens[0]['E']} members at n = {power10(ens[0]['n'])}, "
                f"{ens[0]['steps']} steps, split over P processes (torch eager, jax jit; each rank's "
                "training after one warm-up step, then the engine's gather):", "",
                "| framework | P | per step (slowest rank) | speedup vs P = 1 | gather (once) |", "|---|---|---|---|---|"]
        for r in ens:
            out.append(f"| {r['backend']} | {r['processes']} | {us(r['seconds_per_step'])} | {r['speedup']:.2f}x | "
                       f"{us(r['comm_seconds_per_step'] * r['steps']) if r.get('comm_seconds_per_step') is not None else '-'} |")
    return "\n".join(out) + "\n"


def _model(r: dict, base: dict | None) -> float | None:
    """step(P) = (step(1) - c(1)) / P + c(P) (bench/studies/scale_study.py ``predicted``), from the rows."""
    c, c1 = r.get("comm_seconds_per_step"), (base or {}).get("comm_seconds_per_step")
    if base is None or c is None or c1 is None:
        return None
    return (base["seconds_per_step"] - c1) / r["processes"] + c


BLOCKS = {"scale-study": block_scale_study}
