"""Progress: one plain line per case (done/total, elapsed, an ETA from the finished cases) in place of
pytest's dots, the seconds of each phase of the run, and the skipped cases with their reasons."""
from __future__ import annotations

import time

from bench.harness.state import _PROGRESS, _SETTINGS, _SKIPPED, _SKIPPED_IDS, _STARTED, _TR


# Seconds per case before any case of the kind has finished (measured on the 2-core machine at
# 1 thread, default profile); replaced by the mean of the finished cases as they come in.
PRIOR_SECONDS = {"test_step": 1.6, "test_floor": 0.8, "test_op": 1.0, "test_agreement": 8.0, "test_time_to_solution": 3.0,
                 "test_sweep": 15.0, "test_compare": 4.0, "test_plot": 45.0}


# The run's phases (``paritybench.phase_seconds`` in the JSON: where the wall time went), by test function.
PHASES = {"test_agreement": "agreement", "test_time_to_solution": "methods", "test_sweep": "methods",
          "test_step": "steps", "test_floor": "floors", "test_op": "ops", "test_compare": "tools",
          "test_plot": "tools", "test_scale": "scale"}


def phase_of(test: str, nodeid: str) -> str:
    """The phase a case's seconds count to: PHASES, tuned-tier steps apart ("tuned"), else the test's name."""
    phase = PHASES.get(test, test.removeprefix("test_"))
    return "tuned" if phase == "steps" and "-tuned-" in nodeid else phase


def record_items(session):
    _PROGRESS["items"] = {i.nodeid: i.originalname for i in session.items}


def eta_seconds(remaining: list[str], took: dict, replicas: int) -> float:
    """Seconds left: each remaining case at the mean of its kind's finished cases (else its prior),
    plus the replica processes' pass over the throughput cases (``replicas`` x every test_step)."""
    def per(kind):
        t = took.get(kind)
        return sum(t) / len(t) if t else PRIOR_SECONDS.get(kind, 5.0)
    steps = sum(k == "test_step" for k in remaining) + len(took.get("test_step", []))
    return sum(per(k) for k in remaining) + replicas * steps * per("test_step")


def _clock(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


def case_finished(nodeid, location):
    items = _PROGRESS["items"]
    if not items:
        return
    kind = items.get(nodeid, "?")
    took = time.time() - _PROGRESS.pop("start", time.time())
    _PROGRESS["done"][nodeid] = True
    if nodeid not in _SKIPPED_IDS:
        _PROGRESS["took"].setdefault(kind, []).append(took)
    phase = phase_of(kind, nodeid)
    _PROGRESS["phases"][phase] = _PROGRESS["phases"].get(phase, 0.0) + took
    done = len(_PROGRESS["done"])
    elapsed = time.time() - _STARTED[0]
    remaining = [k for n, k in items.items() if n not in _PROGRESS["done"]]
    eta = eta_seconds(remaining, _PROGRESS["took"], max(0, _SETTINGS.get("processes", 1) - 1))
    line = (f"[{done}/{len(items)}] {_clock(elapsed)} elapsed, about {_clock(eta)} left: "
            f"{nodeid.split('::')[-1]} " + ("skipped" if nodeid in _SKIPPED_IDS else f"{took:.1f} s"))
    tr = _TR[0]
    if tr is not None:  # after pytest's "path/to/file.py " header when a file starts, else a line of its own
        tr.write(line + "\n", flush=True)


def case_started(nodeid, location):
    _PROGRESS["start"] = time.time()


def session_started(session):
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None and hasattr(tr, "_tw"):
        _TR[0] = tr
        tr._show_progress_info = False  # our lines carry done/total; pytest's [ 22%] would split them
    for text in _SETTINGS.pop("cache_lines", []):
        (tr.write_line if tr is not None else print)(text)


def teststatus(report, config):
    """No progress dots: the progress lines above say more. Failures keep their letter."""
    if report.when == "call" and report.passed:
        return "passed", "", "PASSED"
    if report.skipped and report.when in ("setup", "call"):
        return "skipped", "", "SKIPPED"
    return None


def record_skip(report):
    if report.skipped and report.when in ("setup", "call"):
        _SKIPPED_IDS.add(report.nodeid)
        longrepr = report.longrepr
        why = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        why = why.removeprefix("Skipped: ")
        _SKIPPED.append((report.nodeid.split("[")[-1].rstrip("]"), why))
