"""An interleaved A/B of two Python environments on this machine (``paritybench ab``).

Did upgrading torch or jax make this model slower here? One bench selection runs in processes that
alternate A, B, A, B, ... (``processes`` per side), each process timing the whole selection with
``--processes 1``, so that a drift of the machine hits both sides alike. Each side's processes are
merged into one result JSON (its own versions in machine_info) whose step and floor cases carry
one list of rounds per process, as replicas give (``process_round_seconds``, ...). The verdicts are
``compare.compare_runs(A, B)``: with other framework versions on the same hardware, the changed
framework's cases are judged on absolute times over a drift control whose software did not change
(numpy's floor rounds; the selection always includes numpy's steps for it), with the floor ratios
beside them as information.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from statistics import median

from ..store import resultfile

ROOT = Path(__file__).resolve().parents[2]
CONTROL = "(test_step and reference-numpy)"  # numpy's steps: their paired floor rounds are the drift control
DEFAULT_SELECTION = "test_step or test_floor"  # the throughput matrix: steps and floors
PROCESS_TIMEOUT = 3600.0  # seconds one side's process may take
PACKAGES = ("torch", "jax", "jaxlib", "optax", "numpy", "pytest", "pytest_benchmark", "paritybench", "impls")
PROBE = ("import json\nout = {}\nfor m in %r:\n    try:\n        out[m] = getattr(__import__(m), "
         "'__version__', 'importable')\n    except Exception as e:\n        out[m] = None\n"
         "        out['error'] = out.get('error') or f'{m}: {type(e).__name__}: {e}'\n"
         "print(json.dumps(out))") % (PACKAGES,)


def probe(field: str, python: str) -> dict:
    """{package: version} of ``python`` run in the checkout; ValueError naming ``field`` when the
    path is no Python, or torch, jax, optax, pytest-benchmark or this project does not import."""
    path = Path(python)
    if not path.is_file() or not os.access(path, os.X_OK):
        raise ValueError(f"{field}: got {python!r}; allowed: the path of an existing Python executable")
    try:
        p = subprocess.run([str(path), "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=180)
        got = json.loads(p.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, OSError, ValueError, IndexError):
        raise ValueError(f"{field}: got {python!r} (it did not run the import check); allowed: a Python "
                         "3 executable") from None
    if got.get("error"):
        raise ValueError(f"{field}: got {python!r}, which cannot import {got['error']}; allowed: a Python "
                         "with torch, jax, optax, pytest-benchmark and this project importable")
    return got


def bench_command(python: str, profile: str, selection: str, device: str | None) -> list[str]:
    cmd = [python, "-m", "pytest", "bench", "--benchmark-only", "-q", "-p", "no:cacheprovider",
           "--profile", profile, "--processes", "1", "-k", selection]
    return cmd + (["--device", device] if device else [])


def collect(python: str, profile: str, expr: str, device: str | None) -> list[str]:
    """The case ids ``expr`` selects (ValueError when none: the 'k' field)."""
    cmd = bench_command(python, profile, expr, device) + ["--collect-only"]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    ids = [line.strip() for line in p.stdout.splitlines() if "::" in line]
    if p.returncode not in (0, 5) or not ids:
        last = (p.stderr.strip().splitlines() or p.stdout.strip().splitlines() or ["nothing"])[-1]
        raise ValueError(f"k: got {expr!r}, which selects no bench case of profile {profile} ({last[:120]}); "
                         "allowed: a pytest -k expression matching case ids, e.g. 'jax-scan and n1000000'")
    return ids


def out_dir(text: str | None) -> Path:
    """A new directory for the results (default results/ab-<UTC time>); never an existing one."""
    d = Path(text) if text else ROOT / "results" / time.strftime("ab-%Y%m%dT%H%M%S", time.gmtime())
    if d.exists():
        raise ValueError(f"out: got {str(d)!r}, which exists; allowed: a new directory (nothing is overwritten)")
    return d


def run_one(cmd: list[str], log: Path, env: dict) -> int:
    """Run ``cmd`` in its own process group, output to ``log``; on timeout or Ctrl-C the whole
    group is stopped (SIGTERM, then SIGKILL) and nothing is left behind."""
    with open(log, "w") as f:
        p = subprocess.Popen(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            return p.wait(timeout=PROCESS_TIMEOUT)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                try:
                    os.killpg(p.pid, sig)
                    p.wait(timeout=wait)
                    break
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    continue
            raise


def merge(paths: list[Path]) -> dict:
    """One result JSON from one side's process JSONs: the first process's document, with every
    step and floor case's rounds as one list per process and the stats' median the median of the
    process medians per step (per call of the first process's K). Cases missing from a process
    keep the processes that have them."""
    docs = [json.loads(p.read_text()) for p in paths]
    by = [{b["fullname"]: b for b in d["benchmarks"]} for d in docs]
    out = docs[0]
    for b in out["benchmarks"]:
        e = b["extra_info"]
        if e.get("kind") not in ("throughput", "tuned", "floor", "op"):
            continue
        same = [m[b["fullname"]] for m in by if b["fullname"] in m]
        infos = [s["extra_info"] for s in same]
        e["process_round_seconds"] = [i["round_seconds"] for i in infos]
        if all(i.get("paired_ratios") for i in infos):  # steps: the replicas' fields
            e.update(resultfile.process_info(infos))
        e["processes"] = len(same)
        per = lambda x: x["extra_info"].get("passes_per_call" if e["kind"] in ("floor", "op") else "steps_per_call") or 1
        b["stats"]["median"] = median(s["stats"]["median"] / per(s) for s in same) * per(b)  # K differs by process
    return out


def run(a: str, b: str, profile: str, expr: str | None, out: Path, processes: int, device: str | None,
        plant_b: str | None, say=print) -> tuple[Path, Path]:
    """Time the selection in ``processes`` processes per side, A and B alternating; write
    ``out``/a.json and ``out``/b.json (and every process's JSON and log under ``out``/raw)."""
    selection = f"({expr or DEFAULT_SELECTION}) or {CONTROL}"
    raw = out / "raw"
    raw.mkdir(parents=True)
    sides = {"a": a, "b": b}
    got: dict[str, list[Path]] = {"a": [], "b": []}
    t0 = time.time()
    for i in range(processes):
        for side, python in sides.items():
            env = dict(os.environ)
            env.pop("PARITYBENCH_PLANT", None)
            if side == "b" and plant_b:
                env["PARITYBENCH_PLANT"] = plant_b
            path = raw / f"{side}{i}.json"
            cmd = bench_command(python, profile, selection, device) + ["--benchmark-json", str(path)]
            t = time.time()
            rc = run_one(cmd, raw / f"{side}{i}.log", env)
            if rc != 0 or not path.is_file():
                raise RuntimeError(f"side {side.upper()} process {i + 1}: pytest exited {rc}; see {raw / f'{side}{i}.log'}")
            got[side].append(path)
            say(f"ab: {side.upper()} {i + 1}/{processes} in {time.time() - t:.0f} s (total {time.time() - t0:.0f} s)")
    written = []
    for side, python in sides.items():
        doc = merge(got[side])
        doc.setdefault("paritybench", {})["ab"] = {
            "side": side.upper(), "python": python, "processes": processes, "order": "A, B, A, B, ...",
            "profile": profile, "selection": selection, "planted": plant_b if side == "b" else None,
            "raw": [str(p.relative_to(out)) for p in got[side]], "wall_seconds": time.time() - t0}
        path = out / f"{side}.json"
        with open(path, "x") as f:  # never overwrite
            json.dump(doc, f, indent=1)
        written.append(path)
    return written[0], written[1]


def save_verdicts(out: Path, d) -> Path:
    """``out``/verdicts.json (new): compare's verdict, change, threshold and resolution per case of
    B against A, and the run's resolution summary (``compare.resolution_summary``)."""
    path = out / "verdicts.json"
    doc = {"basis": d.basis, "header": d.header, "regressions": d.regressions, "resolution": d.resolution,
           "rows": [{"case": r.case, "verdict": r.verdict, "effect": r.effect, "p": r.p,
                     "threshold": r.threshold, "resolution": r.resolution, "why": r.why} for r in d.rows]}
    with open(path, "x") as f:  # never overwrite
        json.dump(doc, f, indent=1)
    return path
