"""Launch P local processes of a data-parallel run and collect rank 0's trajectory (no framework here).

Each process is ``python -m impls.dist_worker`` with the torchrun variables set (RANK,
WORLD_SIZE, LOCAL_RANK, MASTER_ADDR=127.0.0.1, MASTER_PORT=a free port): torch.distributed's
env:// rendezvous and jax.distributed's coordinator both use them, so the same worker runs under
``torchrun`` on several hosts (docs/scale.md).

Bounded and clean: every process starts in its own session; the launcher polls them and, as soon
as one exits non-zero or ``timeout`` seconds pass, kills every process group and raises
``Failed`` (one line: which rank, its exit status, the last line it wrote). Workers also die with
the launcher (PR_SET_PDEATHSIG). Results are read only when every rank exited 0.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .spec import Trajectory

ROOT = Path(__file__).resolve().parents[1]


class Failed(RuntimeError):
    """A rank died, hung past the timeout, or wrote no result: the whole run is ended."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (bound to port 0, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _last_line(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def _kill(procs) -> None:
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def run(config: dict, processes: int, timeout: float = 300.0, env: dict | None = None) -> tuple[Trajectory, dict]:
    """Run ``config`` (dist_worker's CONFIG) on ``processes`` local ranks: (rank 0's trajectory,
    {"processes", "engine", "ranks_identical", "seconds" and "comm_seconds" per rank, "wall_seconds"})."""
    with tempfile.TemporaryDirectory(prefix="paritybench-dist-") as tmp:
        tmp = Path(tmp)
        (tmp / "config.json").write_text(json.dumps(dict(config, timeout=timeout)))
        port = free_port()
        procs, logs = [], []
        t0 = time.time()
        try:
            for rank in range(processes):
                e = dict(os.environ, **(env or {}), RANK=str(rank), LOCAL_RANK=str(rank),
                         WORLD_SIZE=str(processes), LOCAL_WORLD_SIZE=str(processes),
                         MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
                e["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), e.get("PYTHONPATH")]))
                log = tmp / f"rank{rank}.log"
                logs.append(log)
                with open(log, "w") as f:
                    procs.append(subprocess.Popen(
                        [sys.executable, "-m", "impls.dist_worker", str(tmp / "config.json"), str(tmp)],
                        cwd=ROOT, env=e, stdout=f, stderr=subprocess.STDOUT, start_new_session=True))
            while True:
                codes = [p.poll() for p in procs]
                bad = [(r, c) for r, c in enumerate(codes) if c not in (None, 0)]
                if bad:
                    r, c = bad[0]
                    last = _last_line(logs[r])
                    raise Failed(f"processes: rank {r} of {processes} exited with status {c}"
                                 + (f" ({last})" if last else "")
                                 + "; every other rank was stopped")
                if all(c == 0 for c in codes):
                    break
                if time.time() - t0 > timeout:
                    late = [r for r, c in enumerate(codes) if c is None]
                    raise Failed(f"processes: no result within {timeout:g} s (rank {', '.join(map(str, late))} "
                                 f"of {processes} still running); every rank was stopped")
                time.sleep(0.05)
        finally:
            _kill(procs)
        wall = time.time() - t0
        res = []
        for rank in range(processes):
            f = tmp / f"rank{rank}.npz"
            if not f.is_file():
                raise Failed(f"processes: rank {rank} exited 0 but wrote no result")
            with np.load(f) as z:
                res.append({k: z[k] for k in z.files})
    w0 = res[0]["w"]
    info = {"processes": processes, "engine": str(res[0]["engine"]),
            "ranks_identical": all(np.array_equal(r["w"], w0) for r in res),
            "seconds": [float(r["seconds"]) for r in res],
            "comm_seconds": [float(r["comm_seconds"]) for r in res], "wall_seconds": wall}
    traj = Trajectory(config["backend"], config["variant"], config["device"], config["recipe"]["dtype"], w0,
                      res[0]["loss"], seconds=float(res[0]["seconds"]), meta=info)
    return traj, info
