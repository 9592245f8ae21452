"""Replica processes: after the pytest process has timed every throughput case, P - 1 fresh
processes time the same cases again, one process after the other (``--processes P``, default 4).

Why: the rounds of one process share its memory placement, allocator state and code layout, and
the minute they ran in: a neighbour's burst on the shared machine can slow the floor more than the
step for tens of seconds, which pairing does not cancel (docs/compare.md). Each process times the
whole list in turn, so a case's P measurements lie about one matrix apart (a minute or more) and
in P different processes; the gate compares their medians (paritybench/gate/rules.py).

Engine: ``concurrent.futures.ProcessPoolExecutor(max_workers=1)`` with the 'spawn' start method, one
pool per replica: a fresh interpreter that inherits nothing but the environment and the CPU
affinity; its initializer pins threads and sets malloc as the pytest process did, before any
framework import.
JAX's persistent compilation cache is on in the replicas, in a directory of this run's own (created
empty, removed after): the first replica compiles every program and fills it, the others load them
(7 s of XLA compiles a replica here). A replica's ``compile_seconds`` is therefore not a cold
compile; the pytest process, whose compile_seconds the results report, never uses the cache.
One replica runs at a time, never beside the pytest process's timing, and each is shut down
before the next starts: none outlives the run.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import shutil
import signal
import tempfile
import time

from bench import cache_repair, frameworks, matrix, runners, timing
from bench.memory import PeakRSS

CASE_TIMEOUT = 600.0  # seconds one replica may take for one case (compile included)


_REPAIRS: list[dict] = []  # what this replica removed from the run's JAX cache, reported with its first case


def _init(threads: int, malloc: str, jax_cache: str | None = None) -> None:
    if jax_cache:  # read by jax at its import, which comes later
        os.environ.update(frameworks.jax_cache_env(jax_cache))
        # an earlier replica stopped mid-write (timed out, killed) leaves an entry cut short,
        # which jax would warn about and compile anew in every later replica
        _REPAIRS.extend(r.as_dict() for r in cache_repair.repair("jax", jax_cache))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the pytest process's to handle: it stops us
    try:  # Linux: die with the pytest process, even if it is killed without a chance to stop us
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    frameworks.pin_threads(threads)
    frameworks.set_malloc(malloc)


def time_case(case: matrix.Case, budget: float, plant: float | None, k: int | None = None,
              kf: int | None = None) -> dict:
    """Build, warm and time ``case`` in paired rounds in this process (what a replica runs):
    {pid, k, kf, paired_ratios, round_seconds, compile_seconds, jax_cache_hits, memory}. ``k``, ``kf``: the steps
    and floor passes per call the pytest process chose (else calibrated here). The rounds stop
    once the median ratio's CI is ``timing.CI_TARGET`` tight (at most ``budget`` seconds of rounds,
    ``timing.ROUNDS_MAX``). RuntimeError if the variant ran uncompiled or recompiled inside the
    timed rounds (the pytest process's checks)."""
    hits = frameworks.jax_cache_hits() if case.backend == "jax" else 0
    floor = runners.build_floor(case)
    with PeakRSS() as mem:
        _, step = runners.build_step(case, plant)
        c0 = frameworks.compile_events(case.backend)
        k, call, compile_seconds = runners.warm(step, k)
        kf, floor_call, _ = runners.warm(floor, kf)
        if case.compiles and frameworks.compile_events(case.backend) == c0:
            raise RuntimeError(f"{case.backend}: no compile event during warm-up in replica {os.getpid()}")
        before = frameworks.compile_events(case.backend)
        calls, floors = runners.paired_rounds(step, k, floor, kf, timing.choose_rounds(call + floor_call, budget),
                                              timing.CI_TARGET)
        after = frameworks.compile_events(case.backend)
    if after != before:
        raise RuntimeError(f"{case.backend}: {after - before} trace/compile events inside the timed "
                           f"region of replica {os.getpid()} (K={k})")
    return {"pid": os.getpid(), "k": k, "kf": kf, "paired_ratios": timing.paired_ratios(calls, k, floors, kf),
            "round_seconds": [c / k for c in calls], "compile_seconds": compile_seconds,
            "jax_cache_hits": frameworks.jax_cache_hits() - hits if case.backend == "jax" else 0,
            "cache_repairs": [_REPAIRS.pop() for _ in range(len(_REPAIRS))][::-1],
            # the RSS figure only: the framework's own report (jax lowers and compiles the step again
            # for it) is the same in every process and is taken once, in the pytest process
            "memory": {"peak_rss_increase_bytes": mem.increase_bytes}}


def run(cases: list[tuple], replicas: int, threads: int, budget: float,
        say=print, malloc: str = "steady", info: dict | None = None) -> tuple[dict[str, list], bool]:
    """Time every (case, plant factor[, k, kf]) in ``replicas`` fresh processes, one after the other
    (k, kf: the pytest process's steps and floor passes per call, reused; ``time_case``).

    Returns ({case id: [result or error text, one per replica that reached it]}, interrupted):
    Ctrl-C or SIGTERM (KeyboardInterrupt) stops the replica at once and returns what was measured.
    ``say`` gets the progress lines; ``info``, if given, gets what the run's JAX cache held
    (``jax_compile_cache``).
    """
    cache = tempfile.mkdtemp(prefix="paritybench-replica-jax-cache-")
    try:
        return _run(cases, replicas, threads, budget, say, malloc, cache)
    finally:
        if info is not None:
            files = [os.path.join(d, f) for d, _, fs in os.walk(cache) for f in fs]
            info["jax_compile_cache"] = {
                "dir": cache, "files": len(files), "bytes": sum(os.path.getsize(f) for f in files),
                "how": "JAX's persistent compilation cache in a directory of the run's own: the first "
                       "replica fills it, the others load from it; the pytest process does not use it"}
        shutil.rmtree(cache, ignore_errors=True)


def _run(cases, replicas, threads, budget, say, malloc, cache):
    out: dict[str, list] = {c[0].id: [] for c in cases}
    ctx = multiprocessing.get_context("spawn")
    start, last = time.time(), time.time()
    for r in range(replicas):
        t0 = time.time()
        pool = cf.ProcessPoolExecutor(1, mp_context=ctx, initializer=_init, initargs=(threads, malloc, cache))
        procs = []
        try:
            for i, (c, plant, *calls) in enumerate(cases):
                if time.time() - last >= 5.0:  # a plain progress line at most every 5 s
                    done = r * len(cases) + i
                    left = (time.time() - start) / done * (replicas * len(cases) - done)
                    say(f"replica {r + 1}/{replicas}: {i}/{len(cases)} cases, about "
                        f"{int(left) // 60}:{int(left) % 60:02d} left: {c.id}")
                    last = time.time()
                try:
                    fut = pool.submit(time_case, c, budget, plant, *calls)
                    procs = procs or list(pool._processes.values())
                    out[c.id].append(fut.result(timeout=CASE_TIMEOUT))
                except cf.TimeoutError:
                    out[c.id].append(f"replica {r + 1}: no result within {CASE_TIMEOUT:.0f} s")
                    break  # the replica is stuck: stopped below, its other cases missing
                except cf.process.BrokenProcessPool as e:  # the replica died (a crash, OOM): its other cases missing
                    out[c.id].append(f"replica {r + 1}: the process died ({e})")
                    break
                except Exception as e:  # the case failed in this replica: recorded, the others go on
                    out[c.id].append(f"replica {r + 1}: {type(e).__name__}: {e}")
        except KeyboardInterrupt:
            shut(pool, procs, wait=0.0)  # stopped at once: its case would take seconds to finish
            say(f"replica {r + 1}/{replicas}: interrupted; the cases measured so far are kept")
            return out, True
        finally:
            shut(pool, procs)  # a no-op after an interrupt: the process has exited
        say(f"replica {r + 1}/{replicas}: {len(cases)} cases in {time.time() - t0:.0f} s")
    return out, False


def shut(pool: cf.ProcessPoolExecutor, procs, wait: float = 10.0) -> None:
    """Shut ``pool`` down: its process asked to exit and waited for (``wait`` s), then terminated,
    then killed. Waits for the exit code itself: a closed sentinel alone can precede the exit."""
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        for stop in (None, proc.terminate, proc.kill):
            if stop is not None and proc.exitcode is None:
                stop()
            deadline = time.time() + (wait if stop is None else 5)
            while proc.exitcode is None and time.time() < deadline:
                proc.join(0.05)
                time.sleep(0.01)
            if proc.exitcode is not None:
                break
