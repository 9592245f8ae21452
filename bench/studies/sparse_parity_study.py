"""The paper's result, reproduced: steps-to-solve of a k-sparse parity against n, and the jump.

    .venv/bin/python -m bench.studies.sparse_parity_study [--ns 10,20,30,40,50,60,80,100] [--k 3]
        [--seeds 5] [--budget 40000] [--eval-every 64] [--backends torch,jax] [--jobs 2]
        [--jump-n 50] [--jump-steps 4096] [--out results/sparse-parity-study-<time>.json]

Barak, Edelman, Goel, Kakade, Malach, Zhang, "Hidden progress in deep learning: SGD learns parities
near the computational limit" (NeurIPS 2022, arXiv 2207.08799): a one-hidden-layer ReLU MLP of
width 1000, SGD lr 0.1, batch 32, weight decay 0.01, hinge loss, fresh samples every step
(impls/models/sparse_parity: the suite's model at its defaults). Two parts, per framework (torch's
and JAX's variant named by --torch-variant / --jax-variant: by default each framework's fastest
per step here, torch compiled and jax scan):

  scaling  for each n in --ns and seed 0 .. seeds-1 (the seed draws the secret, the initial weights
           and the batches, identical in both frameworks): one run of at most --budget steps,
           scored on the held-out set every --eval-every steps (impls.models.run.train), stopped at
           the first score >= 0.99. Recorded: steps-to-solve (an upper bound: the solve happened in
           the last eval block; None when the budget ran out), the run's seconds and s/step.
           Then a least-squares fit of log(steps) on log(n) over every solved run: the slope (the
           measured exponent, paritybench.analyses.sparse_parity.fit_slope) with a 95% interval by resampling
           the seeds within each n (2000 bootstrap draws, percentile interval). An n with an
           unsolved seed is left out of the fit (its steps are censored) and named.
  jump     one run at n = --jump-n, k, seed 0, of --jump-steps steps (not stopped at the solve):
           per eval block the held-out accuracy, the training loss (the block's mean batch hinge),
           the first layer's movement from its start ||W1_t - W1_0||_F (the paper's measure; here
           weight decay moves it as much as learning does), the RMS of W1's secret columns against
           the other columns', and per neuron the same ratio, its max and its top-10 mean over the
           neurons (the hidden progress: the leading neurons lean on the secret bits while the
           accuracy sits at chance).

Threads: each worker process runs one framework thread (torch.set_num_threads(1); XLA's
single-thread flags); --jobs workers run at once. Steps-to-solve do not depend on timing; the
seconds recorded do (run under ``flock -x`` for clean ones).
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

KIND = "sparse-parity-study"
BACKENDS = ("torch", "jax")
VARIANTS = {"torch": ("eager", "compiled"), "jax": ("jit", "scan")}
THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}


def _worker_init() -> None:
    """One framework thread per worker (before torch or jax is imported here)."""
    for k, v in THREAD_ENV.items():
        os.environ[k] = v
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")


def _set_torch_threads(backend: str) -> None:
    if backend == "torch":
        import torch
        torch.set_num_threads(1)


def _model_cfg(n: int, k: int, width: int, batch: int):
    from impls.models import get
    m = get("sparse-parity")
    return m, m.config(n_bits=n, k=k, width=width, batch=batch)


def scaling_run(task: dict) -> dict:
    """One (backend, n, seed) run to the first solve or the budget."""
    _worker_init()
    _set_torch_threads(task["backend"])
    from impls.contract import Train
    from impls.models import run
    m, cfg = _model_cfg(task["n"], task["k"], task["width"], task["batch"])
    t0 = time.perf_counter()
    tr = run.train(m, task["backend"], cfg, Train(optim=m.optim, seed=task["seed"], steps=task["budget"]),
                   variant=task["variant"], eval_every=task["eval_every"])
    steps = tr.meta["steps_run"]
    return {"backend": task["backend"], "variant": tr.variant, "n": task["n"], "k": task["k"],
            "seed": task["seed"], "steps_to_solve": tr.meta["steps_to_solve"], "stopped": tr.meta["stopped"],
            "steps_run": steps, "final_accuracy": tr.scores[max(tr.scores)] if tr.scores else None,
            "seconds": tr.seconds, "seconds_per_step": tr.seconds / steps if steps else None,
            "prepare_seconds": tr.meta["prepare_seconds"], "eval_seconds": tr.meta["eval_seconds"],
            "wall_seconds": time.perf_counter() - t0}


def _w1_slice(cfg) -> slice:
    """Where W1 sits in ``impls.contract.flatten``'s vector (names in sorted order, each raveled)."""
    start = 0
    for name in sorted(cfg.shapes):
        size = int(np.prod(cfg.shapes[name]))
        if name == "W1":
            return slice(start, start + size)
        start += size
    raise KeyError("W1")


def progress(cfg, secret: np.ndarray, snapshots: dict, top: int = 10) -> dict:
    """Per recorded step t, from W1_t (H, n):
      w1_movement       ||W1_t - W1_0||_F (the paper's measure; weight decay alone moves it by
                        ||W1_0|| (1 - (1 - lr wd)^t))
      secret_rms        RMS of W1's secret columns; other_rms: of the rest (every neuron pooled)
      neuron_ratio_max  max over neurons j of RMS(W1[j, S]) / RMS(W1[j, not S]): the neuron that
                        leans most on the secret bits; neuron_ratio_top: the mean of the top ``top``
    """
    sl, shape = _w1_slice(cfg), cfg.shapes["W1"]
    mask = np.zeros(cfg.n, bool)
    mask[secret] = True
    w0 = snapshots[0][sl].reshape(shape)
    steps = sorted(snapshots)
    out = {"steps": steps, "w1_norm0": float(np.linalg.norm(w0)), "top": top, "w1_movement": [],
           "secret_rms": [], "other_rms": [], "neuron_ratio_max": [], "neuron_ratio_top": []}
    for t in steps:
        w = snapshots[t][sl].reshape(shape)
        out["w1_movement"].append(float(np.linalg.norm(w - w0)))
        out["secret_rms"].append(float(np.sqrt(np.mean(w[:, mask] ** 2))))
        if (~mask).any():
            out["other_rms"].append(float(np.sqrt(np.mean(w[:, ~mask] ** 2))))
            ratio = np.sqrt(np.mean(w[:, mask] ** 2, axis=1) / np.maximum(np.mean(w[:, ~mask] ** 2, axis=1), 1e-300))
            ratio = np.sort(ratio)[::-1]
            out["neuron_ratio_max"].append(float(ratio[0]))
            out["neuron_ratio_top"].append(float(ratio[:top].mean()))
        else:
            for key in ("other_rms", "neuron_ratio_max", "neuron_ratio_top"):
                out[key].append(None)
    return out


def jump_run(task: dict) -> dict:
    """One run of ``steps`` steps (not stopped at the solve), its progress measures per eval block."""
    _worker_init()
    _set_torch_threads(task["backend"])
    from impls.contract import Train
    from impls.models import run
    from impls.models.sparse_parity import secret
    m, cfg = _model_cfg(task["n"], task["k"], task["width"], task["batch"])
    e = task["eval_every"]
    tr = run.train(m, task["backend"], cfg, Train(optim=m.optim, seed=task["seed"], steps=task["steps"]),
                   variant=task["variant"], eval_every=e, record_every=e, stop_when_solved=False)
    s = secret(cfg, task["seed"])
    prog = progress(cfg, s, tr.snapshots)
    loss = np.asarray(tr.loss)
    block_loss = [None] + [float(loss[max(t - e, 0):t].mean()) for t in prog["steps"][1:]]
    acc = [float(m.evaluate(cfg, task["seed"], m.init(cfg, task["seed"])))] + \
          [tr.scores.get(t) for t in prog["steps"][1:]]
    return {"backend": task["backend"], "variant": tr.variant, "n": task["n"], "k": task["k"],
            "seed": task["seed"], "secret": [int(v) for v in s], "eval_every": e, "steps_run": tr.meta["steps_run"],
            "steps_to_solve": tr.meta["steps_to_solve"], "stopped": tr.meta["stopped"],
            "accuracy": acc, "train_loss": block_loss, **prog, "seconds": tr.seconds}


def check_backend(backend: str, variant: str) -> str | None:
    """None when ``backend``'s sparse-parity module imports here, else why not."""
    from impls.models import get, get_backend
    try:
        get_backend(get("sparse-parity"), backend)
    except ValueError as e:
        return str(e)
    return None


def _parser():
    from bench.studies import study

    ap = study.parser(__doc__, KIND)

    def fail(msg):  # one line, exit 2 (argparse's own prints the usage first)
        print(f"{KIND}: error: {msg}", file=sys.stderr)
        raise SystemExit(2)

    ap.error = fail
    ap.add_argument("--ns", type=study.positive_ints, default=[10, 20, 30, 40, 50, 60, 80, 100],
                    help="input bits n, comma-separated")
    ap.add_argument("--k", type=study.positive_int, default=3, help="secret bits k (<= every n)")
    ap.add_argument("--seeds", type=study.positive_int, default=5, help="seeds 0 .. seeds-1 at each n")
    ap.add_argument("--budget", type=study.positive_int, default=40_000, help="steps at most per run")
    ap.add_argument("--eval-every", type=study.positive_int, default=64, help="steps between scores")
    ap.add_argument("--width", type=study.positive_int, default=1000)
    ap.add_argument("--batch", type=study.positive_int, default=32)
    ap.add_argument("--backends", default="torch,jax", help="comma-separated: torch, jax")
    ap.add_argument("--torch-variant", default="compiled", choices=VARIANTS["torch"])
    ap.add_argument("--jax-variant", default="scan", choices=VARIANTS["jax"])
    ap.add_argument("--jump-n", type=study.positive_int, default=50, help="n of the jump's run")
    ap.add_argument("--jump-steps", type=study.positive_int, default=4096, help="steps of the jump's run")
    ap.add_argument("--jobs", type=study.positive_int, default=1, help="worker processes at once")
    return ap


def main(argv=None) -> int:
    from bench.studies import study

    _worker_init()  # before check_backend imports a framework here
    ap = _parser()
    a = ap.parse_args(argv)
    backends = [b.strip() for b in a.backends.split(",")]
    if not backends or any(b not in BACKENDS for b in backends) or len(set(backends)) != len(backends):
        ap.error(f"argument --backends: got {a.backends!r}; allowed: torch, jax, comma-separated, each once")
    if a.k > min(a.ns + [a.jump_n]):
        ap.error(f"argument --k: got {a.k}; allowed: an integer <= every n (--ns, --jump-n: {min(a.ns + [a.jump_n])})")
    if a.eval_every > a.budget:
        ap.error(f"argument --eval-every: got {a.eval_every}; allowed: <= --budget ({a.budget})")
    if a.jump_steps < 2 * a.eval_every:
        ap.error(f"argument --jump-steps: got {a.jump_steps}; allowed: >= 2 eval blocks ({2 * a.eval_every})")
    variants = {"torch": a.torch_variant, "jax": a.jax_variant}
    for b in backends:
        why = check_backend(b, variants[b])
        if why:
            ap.error(f"argument --backends: {b}: {why}")
    out = study.out_path(a.out, KIND)

    common = {"k": a.k, "width": a.width, "batch": a.batch, "eval_every": a.eval_every}
    tasks = [("scaling", {**common, "backend": b, "variant": variants[b], "n": n, "seed": s, "budget": a.budget})
             for n in sorted(a.ns, reverse=True) for s in range(a.seeds) for b in backends]
    tasks = [("jump", {**common, "backend": b, "variant": variants[b], "n": a.jump_n, "seed": 0,
                       "steps": a.jump_steps}) for b in backends] + tasks  # long ones first
    t0 = time.perf_counter()
    results = _run_all(tasks, a.jobs)
    wall = time.perf_counter() - t0
    scaling = sorted((r for kind, r in results if kind == "scaling"), key=lambda r: (r["backend"], r["n"], r["seed"]))
    jumps = [r for kind, r in results if kind == "jump"]
    from paritybench.analyses.sparse_parity import fit_slope
    fits = {b: fit_slope([r for r in scaling if r["backend"] == b]) for b in backends}
    fits["pooled"] = fit_slope(scaling)

    from bench import frameworks
    from impls import numenv
    m, cfg = _model_cfg(a.jump_n, a.k, a.width, a.batch)
    doc = {"kind": KIND, "datetime": time.strftime("%Y-%m-%dT%H:%M:%S"),
           "command": "python -m bench.studies.sparse_parity_study " + " ".join(sys.argv[1:] if argv is None else argv),
           "paper": "Barak et al., Hidden progress in deep learning (NeurIPS 2022, arXiv 2207.08799)",
           "recipe": {"model": m.name, "width": a.width, "batch": a.batch, "k": a.k, "dtype": "float32",
                      "optim": {"optimizer": m.optim.optimizer, "lr": m.optim.lr, "weight_decay": m.optim.weight_decay},
                      "loss": "hinge", "solved": "held-out accuracy >= 0.99",
                      "eval_size": __import__("impls.models.sparse_parity.spec", fromlist=["EVAL_SIZE"]).EVAL_SIZE},
           "ns": sorted(a.ns), "seeds": a.seeds, "budget": a.budget, "eval_every": a.eval_every,
           "variants": {b: variants[b] for b in backends}, "jobs": a.jobs, "threads_per_job": 1,
           "wall_seconds": wall, "cpus": os.cpu_count(), "versions": frameworks.versions(),
           "cpu_model": numenv.machine_part().get("cpu_model"),
           "scaling": scaling, "fit": fits, "jump": jumps}
    for b in backends:
        f = fits[b]
        print(f"{b}: slope {f['slope']} 95% {f['slope_ci95']} over n = {f['ns']} (censored {f['censored_ns']})")
    study.save(out, doc)
    return 0


def _run_all(tasks: list, jobs: int) -> list:
    fns = {"scaling": scaling_run, "jump": jump_run}

    def say(kind, r):
        sts = r["steps_to_solve"]
        print(f"{kind} {r['backend']}-{r['variant']} n={r['n']} seed={r['seed']}: steps_to_solve={sts} "
              f"({r['stopped']}, {r['seconds']:.1f} s)", flush=True)

    if jobs == 1:
        _worker_init()
        out = []
        for kind, t in tasks:
            out.append((kind, fns[kind](t)))
            say(kind, out[-1][1])
        return out
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn"), initializer=_worker_init) as ex:
        futs = [(kind, ex.submit(fns[kind], t)) for kind, t in tasks]
        out = []
        for kind, f in futs:
            out.append((kind, f.result()))
            say(kind, out[-1][1])
        return out


if __name__ == "__main__":
    sys.exit(main())
