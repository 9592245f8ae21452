"""The accuracy of each framework's arithmetic on a device, against float64, over the suite's
arguments: what the GPU tolerances (tests/tolerances.py POW_ULP) and the horizon differences
between devices (docs/gpu.md) rest on.

  python -m bench.studies.device_ulps [--device cpu|gpu] [--out PATH]   (a few seconds; bench/gpu_host.py runs it)

For torch (eager, and compiled: inductor generates its own code) and JAX (jit), float32, on the
device, max and mean error in ulps of float32 (|got - truth| / spacing(fl32(truth))) of:
  sin, cos   at theta = fl32(w) x, w in {1.4, 1.5, pi/2, 1.7}, the seed's x (integers < 1000)
  sqrt, div  at 4096 log-uniform positives (1e-12 .. 1e12)
  pow        beta^t, beta in {0.9, 0.999}, t = 1..700 (Adam's bias corrections; beta^t stays a
             normal float32, 0.9^700 = 1e-32: XLA on a CPU flushes subnormals to zero)
  grad       the seed's gradient dL/dw at w = 1.5 (n = 1000) against float64 at the same rounded
             arguments: |G32 - G64| / |G64|, the error each step starts from (its sum order shows)
The truth is numpy float64 of the same float32 inputs (float64 sin, sqrt, pow: within 1 ulp of
float64, 2^-29 of a float32 ulp).
"""
from __future__ import annotations

import math
import sys

import numpy as np

from bench.studies import study

W = (1.4, 1.5, math.pi / 2, 1.7)
BETAS = (0.9, 0.999)


def inputs() -> dict:
    x = np.arange(1000, dtype=np.float32)
    theta = np.concatenate([np.float32(w) * x for w in W]).astype(np.float32)
    rng = np.random.RandomState(0)
    a = np.exp(rng.uniform(np.log(1e-12), np.log(1e12), 4096)).astype(np.float32)
    b = np.exp(rng.uniform(np.log(1e-12), np.log(1e12), 4096)).astype(np.float32)
    t = np.arange(1, 701, dtype=np.float32)
    return {"theta": theta, "a": a, "b": b, "t": t}


def truths(v: dict) -> dict:
    th = v["theta"].astype(np.float64)
    a, b, t = (v[k].astype(np.float64) for k in ("a", "b", "t"))
    out = {"sin": np.sin(th), "cos": np.cos(th), "sqrt": np.sqrt(a), "div": a / b}
    for beta in BETAS:
        out[f"pow{beta}"] = np.float64(np.float32(beta)) ** t
    return out


def ulps(got: np.ndarray, truth: np.ndarray) -> dict:
    sp = np.spacing(np.abs(truth).astype(np.float32)).astype(np.float64)
    e = np.abs(got.astype(np.float64) - truth) / sp
    return {"max": float(e.max()), "mean": float(e.mean())}


def torch_results(v: dict, device: str) -> dict:
    import torch

    from impls import torch_backend as tb
    dev = tb.torch_device(device)
    T = {k: torch.as_tensor(a, device=dev) for k, a in v.items()}
    fns = {"sin": lambda d: torch.sin(d["theta"]), "cos": lambda d: torch.cos(d["theta"]),
           "sqrt": lambda d: torch.sqrt(d["a"]), "div": lambda d: d["a"] / d["b"]}
    for beta in BETAS:
        fns[f"pow{beta}"] = lambda d, beta=beta: torch.pow(torch.tensor(beta, dtype=torch.float32, device=dev), d["t"])
    out = {}
    for variant, wrap in (("eager", lambda f: f), ("compiled", lambda f: torch.compile(f, dynamic=False))):
        out[variant] = {k: wrap(f)(T).cpu().numpy() for k, f in fns.items()}
    return out


def jax_results(v: dict, device: str) -> dict:
    import jax
    import jax.numpy as jnp

    from impls import jax_backend as jb
    dev = jb.jax_device(device)
    J = {k: jax.device_put(a, dev) for k, a in v.items()}
    fns = {"sin": lambda d: jnp.sin(d["theta"]), "cos": lambda d: jnp.cos(d["theta"]),
           "sqrt": lambda d: jnp.sqrt(d["a"]), "div": lambda d: d["a"] / d["b"]}
    for beta in BETAS:
        fns[f"pow{beta}"] = lambda d, beta=beta: jnp.power(jnp.float32(beta), d["t"])
    return {"jit": {k: np.asarray(jax.jit(f)(J)) for k, f in fns.items()}}


def gradient_errors(device: str) -> dict:
    """|G32 - G64(theta~)| / |G64| of each backend's loss_and_grad on the seed's data at w = 1.5."""
    import impls
    from impls import Problem
    sys.path.insert(0, str(study.ROOT / "tests"))
    from tolerances import loss_grad_truth
    d = impls.generate(Problem())
    _, G0, _, tol = loss_grad_truth(d, [1.5], "float32")
    out = {"truth": float(G0[0]), "derived_bound": float(tol[0] / abs(G0[0]))}
    for b in ("torch", "jax"):
        if impls.available(b, device)[0]:
            _, G = impls.get(b).loss_and_grad(d, np.array([1.5]), "float32", device)
            out[b] = float(abs(G[0] - G0[0]) / abs(G0[0]))
    return out


def measure(device: str) -> dict:
    import impls
    from bench import frameworks
    from impls import numenv
    v = inputs()
    truth = truths(v)
    got = {}
    if impls.available("torch", device)[0]:
        got.update({f"torch-{k}": r for k, r in torch_results(v, device).items()})
    if impls.available("jax", device)[0]:
        got.update({f"jax-{k}": r for k, r in jax_results(v, device).items()})
    table = {name: {op: ulps(r[op], truth[op]) for op in truth} for name, r in got.items()}
    return {"device": device, "ulps": table, "gradient_relative_error": gradient_errors(device),
            "machine": {**frameworks.versions(), "devices": frameworks.device_names(),
                        "gpu": frameworks.gpu_info(), "numeric": numenv.describe(["torch", "jax"])}}


def main(argv=None) -> int:
    ap = study.parser(__doc__, "device-ulps")
    ap.add_argument("--device", default="cpu", choices=("cpu", "gpu"))
    args = ap.parse_args(argv)
    out = study.out_path(args.out, f"device-ulps-{args.device}")
    doc = measure(args.device)
    for name, ops in doc["ulps"].items():
        print(f"{name:16} " + "  ".join(f"{op} {r['max']:.2f}" for op, r in ops.items()))
    print("gradient relative error:", doc["gradient_relative_error"])
    study.save(out, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
