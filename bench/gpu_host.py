"""One command for a GPU host: the GPU tests, the GPU agreement cases and the GPU bench profile,
with the packages the host has, within a time budget (``make gpu``; README "On a GPU host").

  python -m bench.gpu_host [--budget 330] [--results-dir results] [--dry-run]

0. (after 1) ``python -m bench.studies.device_ulps --device gpu``: each framework's sin, cos, sqrt, div,
   pow and gradient error against float64 on the GPU (the tolerances' and the horizon's facts),
   results/device-ulps-gpu-<stamp>.json; a few seconds.
1. Prints the versions (python, torch and its CUDA, jax and its CUDA plugin, optax, numpy, pytest,
   pytest-benchmark), the GPU and driver, and whether each framework sees a GPU (else why not).
   No framework sees one: exit 2 with that line.
2. ``pytest tests/test_gpu.py`` (in 4 processes with pytest-xdist when installed), bounded.
3. ``pytest bench --benchmark-only --device gpu`` of the GPU profile (bench/matrix.py: n up to 1e8
   in float32, 1e7 in float64) without the tuned tier, one process per case, every thread,
   ``--deadline`` set so that the run ends within the budget (cases past it skip with the reason,
   listed in the JSON); writes one new result JSON, results/bench-gpu-<stamp>.json. Its
   ``machine_info.gpu_host`` holds step 1's versions and step 2's outcome.
4. Prints the JSON's path and ends non-zero if the tests or the bench failed.

The default budget (330 s) fits a 15-minute device window with a rerun; the H200 took 80 s for the
GPU tests in one process (../shared/measurements/h200-2026-11-26/README.md).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench import frameworks

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("torch", "jax", "jaxlib", "optax", "numpy", "pytest", "pytest-benchmark", "pytest-xdist",
            "hypothesis", "matplotlib")
TESTS_SHARE = 0.3      # of the budget, at most, for the GPU tests
RESERVE_SECONDS = 60   # the last case (a cold compile at n = 1e8), the bandwidth and writing the JSON
GRACE_SECONDS = 20     # after SIGTERM (a bench saves what it measured), before SIGKILL
BENCH_SELECT = "(test_step or test_floor or test_agreement or test_time_to_solution) and not tuned"


def probe_gpus() -> dict:
    """{backend: {"ok", "why", "device"}} for torch and jax, in a child process (this one stays
    free of both frameworks, so the pytest runs start clean)."""
    code = ("import json, impls\nout = {}\n"
            "for b in ('torch', 'jax'):\n"
            "    ok, why = impls.available(b, 'gpu')\n"
            "    out[b] = {'ok': ok, 'why': why}\n"
            "from bench import frameworks\n"
            "out['devices'] = frameworks.device_names()\nout['gpu'] = frameworks.gpu_info()\n"
            "print('PROBE ' + json.dumps(out))\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=90, env=_env())
    line = [s for s in p.stdout.splitlines() if s.startswith("PROBE ")]
    if p.returncode != 0 or not line:
        raise RuntimeError(f"probe failed (exit {p.returncode}): {p.stderr.strip().splitlines()[-1:]}")
    return json.loads(line[0][6:])


def _env(extra: dict | None = None) -> dict:
    env = dict(os.environ, XLA_PYTHON_CLIENT_PREALLOCATE="false",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.update(extra or {})
    return env


def outcome(text: str) -> str:
    """pytest's last summary line ('39 passed, 1 failed in 80.1s'), or '' if none."""
    lines = [s.strip("= ") for s in text.splitlines() if re.search(r"\b(passed|failed|error|skipped)\b", s)
             and " in " in s]
    return lines[-1] if lines else ""


def run_bounded(cmd: list[str], env: dict, limit: float) -> tuple[int, str]:
    """(exit status, output) of ``cmd`` in its own process group, stopped after ``limit`` seconds:
    SIGTERM to the whole group first (pytest's workers too; a bench then saves the cases it
    measured, marked interrupted), SIGKILL after GRACE_SECONDS; 124 when it had to be stopped."""
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=max(1.0, limit))
        return p.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            out, _ = p.communicate(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
        return 124, (out or "") + f"\nstopped after {limit:.0f} s (the budget)"


def plan(budget: float, results: Path, stamp: str, xdist: bool) -> list[tuple[str, list[str], float]]:
    """[(name, argv, timeout seconds)]: the GPU tests, then the bench with the time left."""
    tests = [sys.executable, "-m", "pytest", "tests/test_gpu.py", "-q", "-p", "no:cacheprovider", "-rs"]
    if xdist:
        tests += ["-n", "4"]
    out = results / f"bench-gpu-{stamp}.json"
    # the throughput matrix first (its goal sizes first: bench/matrix.py shapes), then agreement:
    # what a deadline cuts is the least needed
    bench = [sys.executable, "-m", "pytest", "bench/test_throughput.py", "bench/test_agreement.py",
             "bench/test_methods.py", "--benchmark-only", "--device", "gpu",
             "--processes", "1", "--threads", "all", "-k", BENCH_SELECT, "-p", "no:cacheprovider",
             "--benchmark-json", str(out)]
    ulps = [sys.executable, "-m", "bench.studies.device_ulps", "--device", "gpu",
            "--out", str(results / f"device-ulps-gpu-{stamp}.json")]
    return [("gpu ulps", ulps, 120.0), ("gpu tests", tests, TESTS_SHARE * budget), ("gpu bench", bench, budget)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.gpu_host", description=__doc__.split("\n\n")[0])
    p.add_argument("--budget", type=float, default=330.0, help="seconds for the whole command (default 330)")
    p.add_argument("--results-dir", default=str(ROOT / "results"), help="where the result JSON goes")
    p.add_argument("--dry-run", action="store_true", help="print the versions and the plan, run nothing")
    args = p.parse_args(argv)
    if not 60 <= args.budget <= 3600:
        print(f"gpu_host: budget: got {args.budget:g}; allowed: 60 to 3600 seconds", file=sys.stderr)
        return 2
    results = Path(args.results_dir)
    if not results.is_dir():
        print(f"gpu_host: results-dir: got {str(results)!r}; allowed: an existing directory", file=sys.stderr)
        return 2
    t0 = time.time()
    v = frameworks.versions(PACKAGES)
    print("versions: " + ", ".join(f"{k} {val or '-'}" for k, val in v.items()), flush=True)
    steps = plan(args.budget, results, time.strftime("%Y%m%dT%H%M%S"), bool(v.get("pytest-xdist")))
    if args.dry_run:
        for name, cmd, limit in steps:
            print(f"plan: {name} (at most {limit:.0f} s): {' '.join(cmd)}")
        return 0
    probe = probe_gpus()
    print(f"devices: {probe['devices']}  gpu: {probe['gpu']}", flush=True)
    for b in ("torch", "jax"):
        print(f"{b} on gpu: " + ("yes" if probe[b]["ok"] else f"skipped ({probe[b]['why']})"), flush=True)
    if not (probe["torch"]["ok"] or probe["jax"]["ok"]):
        print("gpu_host: device: no framework sees a GPU here (torch: "
              f"{probe['torch']['why']}; jax: {probe['jax']['why']})", file=sys.stderr)
        return 2
    host = {"versions": v, "gpus": {b: probe[b] for b in ("torch", "jax")}, "budget_seconds": args.budget}
    codes = {}
    for name, cmd, limit in steps:
        left = args.budget - (time.time() - t0)
        if name == "gpu bench":
            if left < 2 * RESERVE_SECONDS:
                print(f"== {name}: skipped: {left:.0f} s of the budget left, {2 * RESERVE_SECONDS} s needed", flush=True)
                codes[name] = 1
                continue
            cmd = cmd + ["--deadline", f"{left - RESERVE_SECONDS:.0f}"]
        else:
            limit = min(limit, left - 2 * RESERVE_SECONDS)  # the bench keeps its share
        print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
        env = _env({"PARITYBENCH_GPU_HOST": json.dumps(host)} if name == "gpu bench" else None)
        codes[name], text = run_bounded(cmd, env, min(limit, left))
        sys.stdout.write(text[-20000:])
        host[name.replace(" ", "_")] = {"exit": codes[name], "outcome": outcome(text),
                                        "seconds": round(time.time() - t0, 1)}
        print(f"== {name}: exit {codes[name]}, {outcome(text) or 'no summary'}", flush=True)
    wall = time.time() - t0
    print(f"gpu_host: {wall:.0f} s of a {args.budget:.0f} s budget; "
          + ", ".join(f"{k} exit {c}" for k, c in codes.items()))
    return 0 if all(c == 0 for c in codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
