"""The generic numpy runner of a user's model (impls/models/user): the file's ``loss_numpy``
(loss and gradient written out) and torch.optim's rules written out. In float64 it is the
reference every backend is held to. Mirrors torch_backend.py and jax_backend.py.

Optimizer (impls.contract.Optim), per parameter p with gradient g, in the run's dtype:
  g' = g + wd p; sgd p <- p - lr g'; momentum b <- mu b + g' (b_1 = g'), d = g' + mu b (nesterov)
  or b, p <- p - lr d; adam as torch.optim.Adam (L2 weight decay, bias-corrected moments).
"""
from __future__ import annotations

import time

import numpy as np

from ...contract import NumpyOptimizer, Train, canonical_device, check_prepare, invalid
from . import call, check_params

name = "reference"
variants = ("numpy",)


def available(device: str = "cpu") -> tuple[bool, str]:
    if canonical_device(device) != "cpu":
        return False, "the numpy reference runs on the CPU only"
    return True, ""


def cast_batch(arrays, dtype: str) -> tuple:
    """Floating arrays to ``dtype``; integer and bool arrays as they are."""
    dt = np.dtype(dtype)
    return tuple(a.astype(dt) if np.issubdtype(a.dtype, np.floating) else a for a in arrays)


def _loss_grad(cfg, p: dict, batch: tuple, dtype: str):
    out = call(cfg, "loss_numpy", p, *batch)
    field = f"{cfg.source}.loss_numpy"
    if not (isinstance(out, tuple) and len(out) == 2):
        raise invalid(field, type(out).__name__, "a tuple (loss, {name: gradient})")
    L, g = out
    if np.ndim(L) != 0:
        raise invalid(f"{field}: loss", f"shape {np.shape(L)}", "a scalar")
    if not isinstance(g, dict) or set(g) != set(p):
        got = sorted(g) if isinstance(g, dict) else type(g).__name__
        raise invalid(f"{field}: gradient names", got, "the parameters' names: " + ", ".join(sorted(p)))
    grads = {}
    for k in p:
        a = np.asarray(g[k])
        if a.shape != p[k].shape:
            raise invalid(f"{field}: gradient {k!r}", f"shape {a.shape}", f"the parameter's shape {p[k].shape}")
        grads[k] = a.astype(np.dtype(dtype))
    return L, grads


def loss_and_grad(cfg, params, batch, dtype: str, device: str = "cpu"):
    """The loss and gradient of one step's batch (the arrays of ``batches`` without the leading k)
    at ``params`` rounded to ``dtype``: (float loss, name -> float64 gradient)."""
    dt = np.dtype(dtype)
    p = {k: np.asarray(params[k], np.float64).astype(dt) for k in sorted(params)}
    L, g = _loss_grad(cfg, p, cast_batch(batch, dtype), dtype)
    return float(L), {k: v.astype(np.float64) for k, v in g.items()}


class Runner:
    """The reference's loop; ``advance(k)`` draws the k steps' batches and runs them."""

    def __init__(self, cfg, train: Train, seed_params=None):
        self.cfg, self.train, self.dtype = cfg, train, train.dtype
        dt = np.dtype(train.dtype)
        start = cfg.model.init(cfg, train.seed) if seed_params is None else seed_params
        self.p = {k: np.asarray(start[k], np.float64).astype(dt) for k in sorted(start)}
        self.opt = NumpyOptimizer(train.optim, dt)
        self.step, self._losses, self.seconds = 0, [], 0.0

    def advance(self, k: int) -> None:
        t0 = time.perf_counter()
        arrays = cast_batch(self.cfg.model.batches(self.cfg, self.train.seed, self.step, k), self.dtype)
        for i in range(k):
            L, g = _loss_grad(self.cfg, self.p, tuple(a[i] for a in arrays), self.dtype)
            self._losses.append(float(L))
            self.p = self.opt.update(self.p, g)
        self.step += k
        self.seconds += time.perf_counter() - t0

    def params(self) -> dict[str, np.ndarray]:
        return {k: v.astype(np.float64) for k, v in self.p.items()}

    def losses(self) -> np.ndarray:
        return np.array(self._losses, np.float64)

    def memory(self) -> dict:
        return {}


def prepare(cfg, train: Train, variant: str = "numpy", device: str = "cpu", seed_params=None) -> Runner:
    check_prepare(name, variants, variant, available(device), device)
    return Runner(cfg, train, seed_params)


__all__ = ["available", "check_params", "loss_and_grad", "prepare"]


def floor(cfg, dtype: str, device: str = "cpu"):
    """k -> None: k calls of ``loss_numpy`` (loss and gradient) at the initial parameters on step
    0's batch: the step's essential work without the update and the data draw, so below the step."""
    ok, why = available(device)
    if not ok:
        raise invalid("device", device, f"for backend {name}: cpu ({why})")
    dt = np.dtype(dtype)
    p = {k: v.astype(dt) for k, v in cfg.model.init(cfg, 0).items()}
    batch = cast_batch([a[0] for a in cfg.model.batches(cfg, 0, 0, 1)], dtype)

    def run(k: int) -> None:
        for _ in range(k):
            call(cfg, "loss_numpy", p, *batch)

    return run
