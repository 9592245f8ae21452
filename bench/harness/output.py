"""The run's output and interrupts: where the new JSON goes (checked before anything runs), writing it
new (never over a file), SIGTERM taken as Ctrl-C, an interrupted run's cases kept to those that
finished, and a run whose JSON or replicas failed ending as failed."""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from bench.harness.state import _CONFIG, _PROGRESS, _SETTINGS


ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "results" / "runs"  # a user's runs (.gitignore); the committed baseline is named in results/BASELINE


def _output_path(config, s: dict):
    """(path or None, is_user_path). Checks that the JSON can be written new, before anything runs."""
    from paritybench.store.files import check_new

    user = config.getoption("benchmark_json")
    if hasattr(user, "write") and hasattr(user, "name"):  # pytest-benchmark 5.2.x: argparse opened it
        user = _reclaim(user)
    if user is not None:
        return check_new(user, "benchmark-json"), True
    d = s["results_dir"]
    if d == RUNS:
        d.mkdir(parents=True, exist_ok=True)
    if not d.is_dir() or not os.access(d, os.W_OK | os.X_OK):
        raise ValueError(f"results-dir: got {str(d)!r}; allowed: an existing, writable directory")
    return None, False


def _reclaim(f) -> str:
    """The path of a --benchmark-json that pytest-benchmark 5.2.x's argparse.FileType('wb') opened
    (and so created, or truncated) at parse time: closed and, being empty, removed, so that the
    suite writes it new like any path (5.3.x passes the path itself). A file that held data before
    was truncated by that parser, before this code ran: use 5.3.x, or a new path."""
    path = f.name
    f.close()
    p = Path(path)
    if p.is_file() and p.stat().st_size == 0:
        p.unlink()
    return path


def _terminate(signum, frame):
    """SIGTERM as Ctrl-C: pytest stops, and the cases measured so far are saved (marked interrupted)."""
    raise KeyboardInterrupt


def keep_finished(excinfo):
    """Keep only the cases that finished: pytest-benchmark lists a case before its first timed
    round, so the case being timed when the signal came would be saved empty or half-measured
    (and listed under not_run). A second Ctrl-C still ends the process at once."""
    _SETTINGS["interrupted"] = True
    bs = getattr(_CONFIG[0], "_benchmarksession", None) if _CONFIG else None
    if bs is not None:
        bs.benchmarks[:] = [b for b in bs.benchmarks if b.fullname in _PROGRESS["done"] and b]


def start(config, s: dict, path) -> None:
    """SIGTERM taken as Ctrl-C, and pytest-benchmark's JSON written by ``save_json`` below: new, to
    ``path`` (--benchmark-json) or a new results/runs/bench-<profile>-cpu<T>-<time>.json."""
    _CONFIG[:] = [config]
    config.paritybench_settings = s
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    bs = getattr(config, "_benchmarksession", None)
    if bs is None:
        return

    def save_json(output_json):  # replaces pytest-benchmark's open(path, 'wb'): never overwrite
        from pytest_benchmark.utils import safe_dumps

        from paritybench.store.files import new_path, write_new
        stamp = time.strftime("%Y%m%dT%H%M%S")
        where = f"cpu{s['threads']}" if "cpu" in s["devices"] else "gpu"  # a GPU-only run is not a CPU baseline
        target = path or new_path(s["results_dir"], f"bench-{s['profile']}-{where}-{stamp}")
        text = safe_dumps(output_json, ensure_ascii=True, indent=4)
        try:
            write_new(target, text, "benchmark-json")
        except (ValueError, OSError) as e:
            bs.logger.warning(f"result JSON not written: {e}")
            _SETTINGS["write_error"] = str(e)
            return
        _SETTINGS["written"] = str(target)
        bs.logger.info(f"Wrote benchmark data in: {target}", purple=True)

    if not bs.disabled and not config.option.collectonly:
        bs.json = path or (s["results_dir"] / "pending.json")  # truthy: makes handle_saving write
        bs.save_json = save_json


def fail_if_unsaved(session, exitstatus):
    """A run whose result JSON could not be written, or whose replicas failed, has failed."""
    if (_SETTINGS.get("write_error") or _SETTINGS.get("replica_errors")) and session.exitstatus == 0:
        session.exitstatus = 1
