"""Does the step/floor drift of the noisy cases follow the machine's memory system? (issue #31: the
spread that limits the gate's resolution.) In ``--processes`` fresh processes, one after another,
each for ``--seconds``, the cases of ``CASES`` are built once and timed round-robin, one round of
each in turn: a floor call, a step call, a 4 MiB copy (``l3``: in the 32 MiB L3), a 64 MiB copy
(``dram``) and a floor call again (one thread, malloc steady, as the bench times them). Per case, the
medians of log(step / floor) over ``--window``-second windows give:

  window sd     the spread between the windows of one process: drift over seconds
  process sd    the between-process part beyond it (moment estimate over the processes' means)
  lag-1         the windows' autocorrelation within a process: drift slower than one window
  adjusted      log step less b . (log floor, log l3, log dram), b fitted within the other processes
                (leave one process out): how much of the drift a memory-bound control beside the
                floor would take out, within a process (against the window sd) and between the
                processes' means (against the sd of their step/floor means)

    .venv/bin/python -m bench.studies.memory_control [--processes 4] [--seconds 60] [--window 5] [--out F]

Run it alone on the machine (an exclusive lock): a neighbour's load is what it measures.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from statistics import median

from bench.studies import study

CASES = ("torch-eager-cpu-f32-n100000-sgd-E1", "torch-eager-cpu-f32-n100000-adam-E1",
         "torch-eager-cpu-f64-n100000-sgd-E1", "torch-compiled-cpu-f32-n1000000-sgd-E1",
         "reference-numpy-cpu-f32-n1000000-sgd-E1", "jax-jit-cpu-f32-n100000-sgd-E1")
L3_BYTES, DRAM_BYTES = 4 << 20, 64 << 20
CALL_SECONDS = 0.004  # each copy control's call


def child(seconds: float, out: str) -> None:
    """One process: CASES round-robin for ``seconds``; writes its rounds to ``out`` (JSON list)."""
    from bench import frameworks, matrix, runners
    frameworks.pin_threads(1)
    frameworks.set_malloc("steady")
    import numpy as np
    by_id = {c.id: c for c in matrix.cases("full", devices=("cpu",))}
    built = []
    for cid in CASES:
        c = by_id[cid]
        floor = runners.build_floor(c)
        _, step = runners.build_step(c)
        k, _, _ = runners.warm(step)
        kf, _, _ = runners.warm(floor)
        built.append((cid, step, k, floor, kf))
    bufs = {name: (np.ones(b // 8), np.empty(b // 8)) for name, b in (("l3", L3_BYTES), ("dram", DRAM_BYTES))}

    def copies(name):
        src, dst = bufs[name]
        return lambda k: [np.copyto(dst, src) for _ in range(k)]

    controls = {}
    for name in bufs:
        fn = copies(name)
        per = runners.timed(fn, 4) / 4
        controls[name] = (fn, max(1, int(CALL_SECONDS / per)))
    rounds, t0 = [], time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for cid, step, k, floor, kf in built:
            a = runners.timed(floor, kf) / kf
            s = runners.timed(step, k) / k
            got = {name: runners.timed(fn, kc) / kc for name, (fn, kc) in controls.items()}
            b = runners.timed(floor, kf) / kf
            rounds.append({"case": cid, "t": time.perf_counter() - t0, "step": s, "floor": (a + b) / 2, **got})
    with open(out, "w") as f:
        json.dump(rounds, f)


def _sd(xs: list[float]) -> float:
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def windows(rounds: list[dict], case: str, width: float) -> list[dict]:
    """Per ``width``-second window with >= 3 rounds of ``case``: the medians of the logs."""
    rs = [r for r in rounds if r["case"] == case]
    out = []
    for w in range(int(max(r["t"] for r in rs) // width) + 1):
        g = [r for r in rs if w * width <= r["t"] < (w + 1) * width]
        if len(g) >= 3:
            out.append({key: median(math.log(r[key]) for r in g) for key in ("step", "floor", "l3", "dram")})
    return out


def analyse(per: list[list[dict]]) -> dict:
    """The module docstring's figures for one case from its windows per process (sds of logs). The
    control's coefficients are fitted within processes (each process's windows about its own means),
    on all processes but the one judged: within it, the windows' residual sd; across processes, the
    sd of the processes' means of log step - b . (log floor, log l3, log dram)."""
    import numpy as np
    keys = ("floor", "l3", "dram")
    ratio = [[w["step"] - w["floor"] for w in p] for p in per]
    within = sum((x - sum(p) / len(p)) ** 2 for p in ratio for x in p) / sum(len(p) - 1 for p in ratio)
    means = [sum(p) / len(p) for p in ratio]
    k = sum(len(p) for p in ratio) / len(ratio)
    between = max(0.0, _sd(means) ** 2 - within / k)
    lag1 = []
    for p in ratio:
        m = sum(p) / len(p)
        lag1.append(sum((p[i] - m) * (p[i + 1] - m) for i in range(len(p) - 1)) / sum((x - m) ** 2 for x in p))

    def centred(ws):
        x, y = np.array([[w[c] for c in keys] for w in ws]), np.array([w["step"] for w in ws])
        return x - x.mean(0), y - y.mean(), x.mean(0), y.mean()

    resid, levels, coefs = [], [], []
    cent = [centred(p) for p in per]
    gx = np.mean([c[2] for c in cent], axis=0)  # the processes' levels about their mean
    gy = float(np.mean([c[3] for c in cent]))
    for i in range(len(per)):  # leave one process out: fit on the others, judge on it
        parts = [c for j, c in enumerate(cent) if j != i]
        beta, *_ = np.linalg.lstsq(np.vstack([q[0] for q in parts]), np.concatenate([q[1] for q in parts]),
                                   rcond=None)
        x, y, xm, ym = cent[i]
        resid += list(y - x @ beta)
        levels.append(float((ym - gy) - (xm - gx) @ beta))
        coefs.append([float(b) for b in beta])
    return {"windows": [len(p) for p in per], "window_sd": math.sqrt(within), "process_sd": math.sqrt(between),
            "lag1": sum(lag1) / len(lag1), "process_means": [math.exp(m) for m in means],
            "process_means_sd": _sd(means), "adjusted_window_sd": _sd(resid),
            "adjusted_process_means_sd": _sd(levels), "coefficients_floor_l3_dram": coefs,
            "sd_dram": _sd([w["dram"] for p in per for w in p]), "sd_l3": _sd([w["l3"] for p in per for w in p])}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child(float(argv[1]), argv[2])
        return 0
    ap = study.parser(__doc__, "memory-control")
    ap.add_argument("--processes", type=study.positive_int, default=4)
    ap.add_argument("--seconds", type=study.positive_int, default=60)
    ap.add_argument("--window", type=study.positive_int, default=5)
    a = ap.parse_args(argv)
    if a.processes < 2 or a.seconds < 3 * a.window:
        ap.error(f"processes, seconds: got {a.processes}, {a.seconds}; allowed: at least 2 processes "
                 f"and at least 3 windows ({3 * a.window} s) each")
    out = study.out_path(a.out, "memory-control")
    procs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.processes):
            t = time.time()
            subprocess.run([sys.executable, "-m", "bench.studies.memory_control", "--child", str(a.seconds),
                            f"{tmp}/p{i}.json"], cwd=study.ROOT, check=True, timeout=a.seconds + 600)
            procs.append(json.loads(open(f"{tmp}/p{i}.json").read()))
            print(f"process {i}: {time.time() - t:.0f} s", flush=True)
    wins = {c: [windows(p, c, a.window) for p in procs] for c in CASES}
    result = {c: analyse(w) for c, w in wins.items()}
    from paritybench.report.gate_noise import memory_control_table
    for line in memory_control_table(result):
        print(line)
    from bench import frameworks
    study.save(out, {"kind": "memory-control", "processes": a.processes, "seconds": a.seconds,
                     "window": a.window, "cases": list(CASES), "l3_bytes": L3_BYTES, "dram_bytes": DRAM_BYTES,
                     "cpu": frameworks.device_names()["cpu"],
                     "result": result, "windows": wins})
    return 0


if __name__ == "__main__":
    sys.exit(main())
