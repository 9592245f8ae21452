"""Replica processes: every throughput case timed again in P - 1 other processes, right after the
pytest process timed it (``--processes P``, default 4).

Why: the rounds of one process share its memory placement, allocator state and code layout, so
they cannot see how much those move a case: timed in fresh processes seconds apart, one case's
paired ratio moved by more than its own 95% interval (``python -m bench.process_noise``,
docs/compare.md). A verdict needs that spread measured in each run; the gate then compares
process medians (paritybench/verdict.py).

Engine: one ``concurrent.futures.ProcessPoolExecutor(max_workers=1)`` per replica, 'spawn' start
(a fresh interpreter: nothing inherited from the pytest process but the environment and the CPU
affinity), its initializer pins threads as the pytest process did before any framework is imported.
A case runs in one process at a time: the pytest process, then replica 1, 2, ... (never two
together, so they do not load each other). ``close`` shuts every replica down; none outlives the run.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os

from bench import frameworks, runners, timing

CASE_TIMEOUT = 600.0  # seconds one replica may take for one case (compile included)


def _init(threads: int) -> None:
    frameworks.pin_threads(threads)


def time_case(case: timing.Case, budget: float, plant: float | None) -> dict:
    """Build, warm and time ``case`` in paired rounds in this process (what a replica runs):
    {pid, k, kf, calls, floor_calls, compile_seconds}. RuntimeError if the variant ran
    uncompiled or recompiled inside the timed rounds (the pytest process's checks)."""
    step, floor = runners.build(case, plant)
    c0 = frameworks.compile_events(case.backend)
    k, call, compile_seconds = runners.warm(step)
    kf, floor_call, _ = runners.warm(floor)
    if case.variant in ("compiled", "jit", "scan") and frameworks.compile_events(case.backend) == c0:
        raise RuntimeError(f"{case.backend}: no compile event during warm-up in replica {os.getpid()}")
    before = frameworks.compile_events(case.backend)
    calls, floors = runners.paired_rounds(step, k, floor, kf, timing.choose_rounds(call + floor_call, budget))
    after = frameworks.compile_events(case.backend)
    if after != before:
        raise RuntimeError(f"{case.backend}: {after - before} trace/compile events inside the timed "
                           f"region of replica {os.getpid()} (K={k})")
    return {"pid": os.getpid(), "k": k, "kf": kf, "calls": calls, "floor_calls": floors,
            "compile_seconds": compile_seconds}


class Replicas:
    """``count`` replica processes, started on first use."""

    def __init__(self, count: int, threads: int):
        self.count, self.threads = count, threads
        self._pools: list[cf.ProcessPoolExecutor] = []

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._pools = [cf.ProcessPoolExecutor(1, mp_context=ctx, initializer=_init, initargs=(self.threads,))
                       for _ in range(self.count)]

    def time_case(self, case: timing.Case, budget: float, plant: float | None) -> list[dict]:
        """``time_case`` in each replica in turn; a replica's error is raised here."""
        if self.count and not self._pools:
            self._start()
        return [p.submit(time_case, case, budget, plant).result(timeout=CASE_TIMEOUT) for p in self._pools]

    def close(self) -> None:
        """Shut every replica down: asked to exit, then stopped if it has not within 10 s."""
        for p in self._pools:
            procs = list((getattr(p, "_processes", None) or {}).values())
            p.shutdown(wait=False, cancel_futures=True)
            for proc in procs:
                proc.join(10)
                if proc.is_alive():
                    proc.terminate()
                    proc.join(5)
        self._pools = []
