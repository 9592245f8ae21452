"""docs/time-to-train.md's time-to-train blocks (``paritybench report``), issue #21:

  startup     the baseline's startup cases: import, the run of S0 steps cold and warm, the first
              call, and where a cold compile's seconds go (torch: dynamo, AOTAutograd, inductor,
              code generation with the C++ compiler; JAX: tracing, lowering, XLA)
  ttt-answer  the baseline's answer for the seed's run and the break-even steps at each size
  ttt-study   the newest committed results/time-to-train-study-*.json
              (bench/studies/time_to_train_study.py): the model against whole runs, its error
  history-chunk  the newest committed results/history-chunk-probe-*.json
              (bench/studies/probe_history_chunk.py): torch eager at n = 1e6 over a long run, per
              history chunk: ms and minor page faults a step, block by block
  call-length the newest committed results/call-length-probe-*.json
              (bench/studies/probe_call_length.py): a step's cost against the steps per call
"""
from __future__ import annotations

from pathlib import Path

from ..analyses import time_to_train as ttt
from ..store.files import study_block
from ..text.tables import power10, us
from ..store.resultfile import Run


def _none(run: Run) -> str:
    return (f"`{Path(run.path).name}` has no startup cases (recorded since #21 by bench/test_startup.py): "
            "re-render after a baseline that has them (`paritybench report --write`).\n")


def _s(x) -> str:
    return "-" if x is None else f"{x:.2f} s"


def _where(rec: dict) -> str:
    """Where a start's compile seconds went, from the phases the child recorded."""
    tc, jc = rec.get("torch_compile"), rec.get("jax_compile")
    if tc:
        p = tc["phases"]
        frame, backend = p.get("entire_frame_compile", 0.0), p.get("backend_compile", 0.0)
        ind, gen = p.get("inductor_compile", 0.0), p.get("code_gen", 0.0)
        if not ind:  # a warm start: the FX graph cache answered inside backend_compile
            return f"dynamo {frame - backend:.2f} s, cached graph loaded {backend:.2f} s"
        return (f"dynamo {frame - backend:.2f} s, AOTAutograd {backend - ind:.2f} s, inductor {ind - gen:.2f} s, "
                f"code generation + C++ compile {gen:.2f} s")
    if jc:
        sec = jc["seconds"]
        return (f"trace {sec['trace']:.2f} s, lower {sec['lower']:.2f} s, XLA compile {sec['xla_compile']:.2f} s, "
                f"cache read {sec['cache_read']:.2f} s; {jc['cache_misses']} programs compiled, {jc['cache_hits']} read")
    return "nothing compiled"


def block_startup(run: Run) -> str:
    cases = ttt.startup_cases(run)
    if not cases:
        return _none(run)
    out = [f"`{Path(run.path).name}`: one fresh process per start, {cases[0].get('steps')} steps of the seed's "
           "recipe (float32 sgd); run = import + data + prepare + steps + trajectory; first call = the first "
           "step's call, compile included (a scan's: all its steps).", "",
           "| variant | n | import | cold run | warm run | cold first call | warm first call | cold: where the compile goes | warm |",
           "|---|---|---|---|---|---|---|---|---|"]
    for c in sorted(cases, key=lambda c: (c.get("n"), c.label)):
        cold, warm = c.get("cold"), c.get("warm")
        wm = c.get("warm_measured")
        out.append(f"| {c.label} | {power10(c.get('n'))} | {_s(cold['import_seconds'])} | {_s(cold['run_seconds'])} | "
                   f"{_s(warm['run_seconds']) if wm else 'no cache'} | {_s(cold['first_call_seconds'])} | "
                   f"{_s(warm['first_call_seconds']) if wm else '-'} | {_where(cold)} | {_where(warm) if wm else '-'} |")
    return "\n".join(out) + "\n"


def block_answer(run: Run) -> str:
    if not ttt.startup_cases(run):
        return _none(run)
    out = ["```", *[ln[2:] for ln in ttt.lines(ttt.for_run(run))], "```", "",
           "| size | compiled variant | beats | after steps, cold | after steps, warm |", "|---|---|---|---|---|"]
    for n in sorted({e["n"] for e in ttt.entries(run)}):
        for e in ttt.for_run(run, n, ttt.SEED_STEPS)["break_even"]:
            out.append(f"| n = {power10(n)} | {e['variant']} | {e['against']} | {ttt.fmt_steps(e['cold'])} | "
                       f"{ttt.fmt_steps(e['warm'])} |")
    return "\n".join(out) + "\n"


@study_block("time-to-train-study-*.json", "bench.studies.time_to_train_study")
def block_study(path: Path, doc: dict) -> str:
    v = doc.get("versions") or {}
    rows = doc["rows"]
    errs = [abs(r[k]["error"]) for r in rows for k in ttt.STARTS if k in r]
    out = [f"`results/{path.name}`: {doc.get('cpu_model')}, one thread, torch {v.get('torch')}, jax {v.get('jax')}; "
           f"model inputs from {doc['run']}; largest |error| {max(errs):.1%} over {len(errs)} runs.", "",
           "| variant | n | S | cold: measured | model | error | warm: measured | model | error |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "not_run" in r:
            out.append(f"| {r['backend']}-{r['variant']} | {power10(r['n'])} | {r['steps']:,} | not run: {r['not_run']} "
                       "| | | | | |")
            continue
        cells = []
        for k in ttt.STARTS:
            m = r.get(k)
            cells += ([_s(m["measured_seconds"]), _s(m["predicted_seconds"]), f"{m['error']:+.1%}"] if m
                      else ["cold only (long run)" if r.get("warm_not_run") else "no cache", "", ""])
        out.append(f"| {r['backend']}-{r['variant']} | {power10(r['n'])} | {r['steps']:,} | " + " | ".join(cells) + " |")
    ents = {(e["backend"], e["variant"], e["n"]): e for e in doc.get("entries") or []}
    big = [(r, k) for r in rows for k in ttt.STARTS if k in r and abs(r[k]["error"]) > ttt.ERROR_LIMIT]
    if big:
        out += ["", f"Beyond {ttt.ERROR_LIMIT:.0%} (why: below the table):", ""]
    for r, k in big:
        m, e = r[k], ents.get((r["backend"], r["variant"], r["n"]))
        line = (f"- {r['backend']}-{r['variant']} n = {power10(r['n'])}, S = {r['steps']:,}, {k}: {m['error']:+.1%}, "
                f"{m['predicted_seconds'] - m['measured_seconds']:+.3f} s")
        if (e is not None and m.get("rest_seconds") is not None and not r["variant"].startswith("scan")
                and e[k].get("trajectory_seconds") is not None):
            s0, st = e["steps0"], e[k]  # the run's parts against the start's (S0 steps) and the step case
            line += (f"; that run: import {m['import_seconds']:.2f} s (its start's {st['import_seconds']:.2f} s), "
                     f"steps after the first {us(m['rest_seconds'] / (r['steps'] - 1))} each (the model's "
                     f"{us(e['step_seconds'])}), trajectory {m['trajectory_seconds']:.3f} s (its start's "
                     f"{st['trajectory_seconds']:.3f} s after {s0} steps)")
        elif e is not None and m.get("rest_seconds") is not None and e[k].get("trajectory_seconds") is not None:
            s0, st = e["steps0"], e[k]  # a scan: its one call holds the compile and every step
            line += (f"; that run: import {m['import_seconds']:.2f} s (its start's {st['import_seconds']:.2f} s), its one "
                     f"call {m['first_call_seconds']:.3f} s (the model's: its start's {st['first_call_seconds']:.3f} s "
                     f"+ {r['steps'] - s0:,} x step = {st['first_call_seconds'] + (r['steps'] - s0) * e['step_seconds']:.3f} s), "
                     f"trajectory {m['trajectory_seconds']:.3f} s (its start's {st['trajectory_seconds']:.3f} s)")
        elif e is not None and r["steps"] >= 1000:  # the run's steps, their start taken as the model's
            per = (m["measured_seconds"] - e[k]["startup_seconds"]) / r["steps"]
            line += f"; that run's steps {us(per)} each against the model's {us(e['step_seconds'])}"
        elif e is not None:
            line += f"; the model's start {e[k]['startup_seconds']:.3f} s, its steps {r['steps'] * e['step_seconds']:.3f} s"
        out.append(line)
    if doc.get("train"):
        out += ["", "`paritybench train` (the seed's run) per variant in a fresh process, wall time spawn to exit "
                "(python, paritybench's imports and the exit included), and the time it prints (training alone):", "",
                "| variant | cold: process | printed | warm: process | printed |", "|---|---|---|---|---|"]
        for t in doc["train"]:
            out.append(f"| {t['backend']}-{t['variant']} | {_s(t['cold']['process_seconds'])} | {_s(t['cold']['train_seconds'])} "
                       f"| {_s(t['warm']['process_seconds'])} | {_s(t['warm']['train_seconds'])} |")
    return "\n".join(out) + "\n"


@study_block("history-chunk-probe-*.json", "bench.studies.probe_history_chunk")
def block_history_chunk(path: Path, doc: dict) -> str:
    v = doc.get("versions") or {}
    b = doc["block_steps"]
    out = [f"`results/{path.name}`: {doc.get('cpu_model')}, one thread, glibc malloc {doc.get('malloc')}, torch "
           f"{v.get('torch')}; torch eager, n = {power10(doc['n'])}, float32, sgd, one fresh process per chunk.", "",
           f"| steps live before a stack | run | first {b} steps | slowest {b} | last {b} |", "|---|---|---|---|---|"]
    for r in doc["runs"]:
        bl = r["blocks"]
        slow = max(bl, key=lambda x: x["ms_per_step"])

        def cell(x):
            return f"{us(x['ms_per_step'] / 1e3)}, {x['faults_per_step']:,.0f} faults a step"
        out.append(f"| {r['history_chunk']:,} | {r['run_seconds']:.1f} s for {r['steps']:,} steps | {cell(bl[0])} "
                   f"| {cell(slow)} (to step {slow['steps']:,}) | {cell(bl[-1])} |")
    return "\n".join(out) + "\n"


@study_block("call-length-probe-*.json", "bench.studies.probe_call_length")
def block_call_length(path: Path, doc: dict) -> str:
    v = doc.get("versions") or {}
    passes = doc["passes"]
    ks = list(dict.fromkeys(p["k"] for p in passes))
    first = doc["seconds_per_step"][str(ks[0])]
    out = [f"`results/{path.name}`: {doc.get('cpu_model')}, one thread, jax {v.get('jax')}; {doc['backend']}-"
           f"{doc['variant']}, n = {power10(doc['n'])}, float32, sgd; one process, each K in turn and then in "
           f"reverse order, {doc['steps_per_pass']:,} steps a pass.", "",
           "| steps per call (K) | per step, first pass | reverse pass | median of the two | against K = "
           f"{ks[0]} |", "|---|---|---|---|---|"]
    for k in ks:
        a, b = [p["median_seconds_per_step"] for p in passes if p["k"] == k][:2]
        m = doc["seconds_per_step"][str(k)]
        out.append(f"| {k:,} | {us(a)} | {us(b)} | {us(m)} | {m / first - 1:+.1%} |")
    return "\n".join(out) + "\n"


BLOCKS = {"startup": block_startup, "ttt-answer": block_answer, "ttt-study": block_study,
          "history-chunk": block_history_chunk, "call-length": block_call_length}
