"""The replica pass: after the last case, the replica processes (bench/replicas.py) time every
step case again, and their rounds join each case's extra_info; a replica's failure fails the run."""
from __future__ import annotations

import time

from bench import cache_repair, matrix, timing
from bench.harness.repairs import _repaired
from bench.harness.state import _PROGRESS, _SETTINGS


def after_last_case(session):
    """After the last case, the replica processes time every step case (throughput, tuned) again
    (bench/replicas.py); their rounds join each case's extra_info (``timing.process_info``).
    Not after an interrupt or a failed-first run (-x): a replica's failure fails the run."""
    result = yield
    bs = getattr(session.config, "_benchmarksession", None)
    n = _SETTINGS.get("processes", 1)
    if bs is None or n < 2 or session.shouldfail or session.shouldstop:
        return result
    todo = [b for b in bs.benchmarks if b.extra_info.get("kind") in matrix.REPLICATED
            and b.extra_info.get("paired_ratios")]
    if not todo:
        return result
    from bench import replicas
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    say = (lambda line: tr.write_line(line)) if tr else print
    cases = [(matrix.case_of(b.extra_info), b.extra_info.get("planted_slowdown"), b.extra_info.get("steps_per_call"),
              b.extra_info.get("floor_passes_per_call")) for b in todo]
    say(f"timing {len(cases)} throughput cases again in {n - 1} replica processes, one after the other")
    t0 = time.time()
    got, interrupted = replicas.run(cases, n - 1, _SETTINGS["threads"], timing.CASE_BUDGET[_SETTINGS["profile"]],
                                    say, _SETTINGS["malloc"], _SETTINGS.setdefault("replica_info", {}))
    _PROGRESS["phases"]["replicas"] = time.time() - t0
    for b, (c, *_) in zip(todo, cases):
        if not got[c.id]:
            continue  # interrupted before any replica reached it: the pytest process's rounds only
        e = b.extra_info
        own = {"paired_ratios": e["paired_ratios"], "round_seconds": e["round_seconds"],
               "compile_seconds": e.get("compile_seconds"), "memory": e.get("memory")}
        ok = [r for r in got[c.id] if isinstance(r, dict)]
        e.update(timing.process_info([own] + ok))
        for r in ok:  # what a replica removed from the run's JAX cache before its import
            _repaired([cache_repair.Repair(**x) for x in r.pop("cache_repairs", [])], f"replica {r.get('pid')}")
        errors = [r for r in got[c.id] if isinstance(r, str)]
        if errors:
            e["replica_errors"] = errors
            _SETTINGS.setdefault("replica_errors", []).append(f"{c.id}: {errors[0]}")
    for line in _SETTINGS.get("replica_errors", []):
        say(f"REPLICA FAILED {line}")
    if interrupted:  # pytest saves what was measured and ends as interrupted
        raise KeyboardInterrupt
    return result
