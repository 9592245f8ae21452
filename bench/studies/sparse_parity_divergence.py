"""Where float32 parts from float64 on sparse parity (#29): every backend's float32 run against the
float64 numpy reference, step by step.

    .venv/bin/python -m bench.studies.sparse_parity_divergence [--steps 2000] [--n 30 --k 3
        --width 1000 --batch 32 --lr 0.1 --wd 0.01 --seed 0] [--runs ref32,torch-eager,...] [--out FILE]

For each run (float32 unless named ``...@float64``) and the float64 reference, both from the same
canonical parameters and batches, after every step t: the relative L2 distance of the flattened
parameters, ||p_t - p64_t|| / ||p64_t||. A kink flip at step t: on step t's batch, at the
parameters each run holds before the step, the set of active hinge terms (1 - y f > 0) or of
positive ReLU pre-activations (z > 0) differs from the reference's. Prints, per run: the distance at
a few steps, the first kink flip, and the first step past 1e-6, 1e-5, 1e-4, 1e-3, 1e-2; writes a
JSON if --out. Not a timing: any lock mode.
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from impls.contract import Optim, Train, flatten
from impls.models import get_backend
from impls.models.sparse_parity import spec
from impls.models.sparse_parity.reference import HostBatches

RUNS = ("ref32", "torch-eager", "torch-compiled", "jax-jit", "jax-scan", "torch-eager@float64",
        "jax-scan@float64")
THRESHOLDS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2)


def masks(params, x, y):
    """(hinge active (B,), relu active (B, H)) of float64 params on one batch."""
    z = x.astype(np.float64) @ params["W1"].T + params["b1"]
    f = np.maximum(z, 0) @ params["w2"] + params["b2"][0]
    return 1 - y * f > 0, z > 0


def trace(run: str, cfg, train: Train, steps: int):
    """Per step: parameters after it (flattened float64) and kink masks before it."""
    label, _, dtype = run.partition("@")
    dtype = dtype or "float32"
    backend, variant = ("reference", "numpy") if label.startswith("ref") else label.split("-", 1)
    mod = get_backend(spec.MODEL, backend)
    r = mod.prepare(cfg, Train(train.optim, seed=train.seed, steps=steps, dtype=dtype), variant)
    data = HostBatches(cfg, train.seed)
    flat, kinks = [], []
    for t in range(steps):
        x, y = data.take(t, 1)
        kinks.append(masks(r.params(), x[0], y[0]))
        r.advance(1)
        flat.append(flatten(r.params()))
    return np.array(flat), kinks, r.losses()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--width", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--wd", type=float, default=0.01)
    ap.add_argument("--optimizer", default="sgd")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", default=",".join(RUNS))
    ap.add_argument("--out")
    a = ap.parse_args(argv)
    cfg = spec.config(a.n, a.k, a.width, a.batch)
    train = Train(Optim(a.optimizer, lr=a.lr, weight_decay=a.wd), seed=a.seed, steps=a.steps, dtype="float64")
    ref, ref_kinks, ref_loss = trace("ref@float64", cfg, train, a.steps)
    norms = np.linalg.norm(ref, axis=1)
    out = {"config": cfg.id, "optim": train.optim.__dict__, "seed": a.seed, "steps": a.steps, "runs": {}}
    marks = [t for t in (1, 10, 100, 300, 1000, 2000, 5000) if t <= a.steps]
    print(f"{cfg.id} {a.optimizer} lr {a.lr} wd {a.wd} seed {a.seed}: relative L2 distance to the "
          f"float64 reference after step t")
    print(f"{'run':22}" + "".join(f"{'t=' + str(t):>10}" for t in marks) + "  first flip"
          + "".join(f"{'>' + format(th, '.0e'):>8}" for th in THRESHOLDS))
    for run in a.runs.split(","):
        flat, kinks, loss = trace(run, cfg, train, a.steps)
        d = np.linalg.norm(flat - ref, axis=1) / norms
        flips = [t + 1 for t, ((h, z), (h0, z0)) in enumerate(zip(kinks, ref_kinks))
                 if (h != h0).any() or (z != z0).any()]
        first = {th: next((t + 1 for t in range(a.steps) if d[t] > th), None) for th in THRESHOLDS}
        print(f"{run:22}" + "".join(f"{d[t - 1]:10.2e}" for t in marks)
              + f"  {flips[0] if flips else '-':>10}" + "".join(f"{str(first[th] or '-'):>8}" for th in THRESHOLDS))
        out["runs"][run] = {"distance": d.tolist(), "flip_steps": flips[:50],
                            "first_above": {str(k): v for k, v in first.items()},
                            "max_loss_difference": float(np.abs(loss - ref_loss).max())}
    acc = spec.evaluate(cfg, a.seed, dict(zip(spec.PARAMS, _unflatten(cfg, ref[-1]))))
    print(f"reference float64 held-out accuracy after {a.steps} steps: {acc:.3f}")
    if a.out:
        with open(a.out, "x") as f:
            json.dump(out, f)
    return 0


def _unflatten(cfg, flat):
    """flatten's inverse (sorted names) -> arrays in spec.PARAMS order."""
    parts, i = {}, 0
    for k in sorted(cfg.shapes):
        size = int(np.prod(cfg.shapes[k]))
        parts[k] = flat[i:i + size].reshape(cfg.shapes[k])
        i += size
    return [parts[k] for k in spec.PARAMS]


if __name__ == "__main__":
    raise SystemExit(main())
