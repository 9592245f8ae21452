"""Sparse parity's numpy reference: forward and backward written out, torch.optim's rules written
out. Run in float64 it is the ground truth every backend is held to; in float32 it is numpy's own
float32 rounding (BLAS sgemm), a third opinion. Mirrors torch_model.py and jax_model.py.

Shapes (B = batch, n = bits, H = width); every array in the run's dtype
  x (B, n) from int8 {-1, +1},  y (B,) from int8 {-1, +1}
  z = x W1^T + b1            (B, H)      W1 (H, n), b1 (H,)
  h = relu(z)                (B, H)
  f = h w2 + b2              (B,)        w2 (H,), b2 (1,)
  L = mean_b max(0, 1 - y_b f_b)                                  (hinge)
Backward, subgradient 0 at every kink (the convention of all three backends):
  a   = [1 - y f > 0]        (B,)        hinge active (d/df max(0, 1 - y f) = -y there, else 0)
  g_f = -y a / B             (B,)        dL/df
  dw2 = h^T g_f              (H,)        db2 = sum_b g_f    (1,)
  g_z = (g_f w2^T) [z > 0]   (B, H)      relu'(z) = 1 for z > 0, 0 for z <= 0
  dW1 = g_z^T x              (H, n)      db1 = sum_b g_z    (H,)
torch's ``torch.relu`` and ``jax.nn.relu`` take the same subgradient (0 at 0); ``torch.clamp(.,
min=0)`` would pass 1 at 0 and ``jnp.maximum(., 0)`` 0.5, so neither is used for the hinge.

Optimizer (impls.contract.Optim, torch.optim's definitions), per tensor p with gradient g:
  g' = g + wd p                                         (weight decay added to the gradient)
  sgd       p <- p - lr g'
  momentum  b_1 = g'_1, b_t = mu b_{t-1} + g'_t; d = g' + mu b (nesterov) or b; p <- p - lr d
  adam      m <- m + (g' - m)(1 - beta1); v <- beta2 v + (1 - beta2) g'^2;
            p <- p - (lr / (1 - beta1^t)) m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
"""
from __future__ import annotations

import time

import numpy as np

from ...contract import NumpyOptimizer, Train, canonical_device, check_prepare, invalid
from . import spec
from .spec import PARAMS, Config

name = "reference"
variants = ("numpy",)


def available(device: str = "cpu") -> tuple[bool, str]:
    if canonical_device(device) != "cpu":
        return False, "the numpy reference runs on the CPU only"
    return True, ""


class HostBatches:
    """The run's batches on the host, drawn with ``spec.batches`` one generator chunk
    (``spec.CHUNK`` steps) at a time and kept until the run moves past it: a run split into any
    ``advance`` calls draws each chunk once and sees the batches ``spec.batches`` gives.
    Shared by the three backends (numpy only)."""

    def __init__(self, cfg: Config, seed: int):
        self.cfg, self.seed = cfg, seed
        self._c, self._xy = -1, None

    def chunk(self, c: int) -> tuple[np.ndarray, np.ndarray]:
        """x int8 (CHUNK, B, n), y int8 (CHUNK, B): the batches of steps c CHUNK .. (c+1) CHUNK - 1."""
        if c != self._c:
            self._xy, self._c = spec.batches(self.cfg, self.seed, c * spec.CHUNK, spec.CHUNK), c
        return self._xy

    def take(self, start: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """x int8 (k, B, n), y int8 (k, B): the batches of steps start .. start+k-1."""
        xs, ys = [], []
        for c in range(start // spec.CHUNK, (start + k - 1) // spec.CHUNK + 1 if k else 0):
            x, y = self.chunk(c)
            lo, hi = max(start - c * spec.CHUNK, 0), min(start + k - c * spec.CHUNK, spec.CHUNK)
            xs.append(x[lo:hi])
            ys.append(y[lo:hi])
        if not xs:
            return (np.zeros((0, self.cfg.batch, self.cfg.n), np.int8),
                    np.zeros((0, self.cfg.batch), np.int8))
        return np.concatenate(xs), np.concatenate(ys)


def _loss_grad(p: dict, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, dict]:
    """p: name -> array of dtype; x (B, n), y (B,) of dtype -> (L (scalar of dtype), grads)."""
    dt = x.dtype.type
    B = x.shape[0]
    z = x @ p["W1"].T + p["b1"]                    # (B, H)
    h = np.maximum(z, dt(0))
    f = h @ p["w2"] + p["b2"][0]                   # (B,)
    m = dt(1) - y * f
    active = m > 0
    L = np.where(active, m, dt(0)).sum(dtype=x.dtype) / dt(B)
    g_f = np.where(active, -y, dt(0)) / dt(B)      # dL/df
    g_z = np.outer(g_f, p["w2"]) * (z > 0)         # (B, H)
    grads = {"W1": g_z.T @ x, "b1": g_z.sum(axis=0), "w2": h.T @ g_f,
             "b2": np.atleast_1d(g_f.sum(dtype=x.dtype))}
    return L, grads


def loss_and_grad(cfg: Config, params, x: np.ndarray, y: np.ndarray, dtype: str, device: str = "cpu"):
    """The loss and gradient of one batch, x int8 (B, n), y int8 (B,), at ``params`` (name ->
    array, rounded to ``dtype``): (float loss, name -> float64 gradient of shape cfg.shapes)."""
    dt = np.dtype(dtype)
    p = {k: np.asarray(params[k]).astype(dt).reshape(cfg.shapes[k]) for k in PARAMS}
    L, g = _loss_grad(p, np.asarray(x).astype(dt), np.asarray(y).astype(dt))
    return float(L), {k: v.astype(np.float64) for k, v in g.items()}


class Runner:
    """The reference's training loop; ``advance(k)`` runs k steps on the batches of the run."""

    def __init__(self, cfg: Config, train: Train, seed_params=None):
        self.cfg, self.train, self.dtype = cfg, train, train.dtype
        dt = np.dtype(train.dtype)
        start = spec.init(cfg, train.seed) if seed_params is None else seed_params
        self.p = {k: np.asarray(start[k], np.float64).reshape(cfg.shapes[k]).astype(dt) for k in PARAMS}
        self.opt = NumpyOptimizer(train.optim, dt)
        self.data = HostBatches(cfg, train.seed)
        self.step, self._losses, self.seconds = 0, [], 0.0

    def advance(self, k: int) -> None:
        t0 = time.perf_counter()
        dt = np.dtype(self.dtype)
        xs, ys = self.data.take(self.step, k)
        for i in range(k):
            L, g = _loss_grad(self.p, xs[i].astype(dt), ys[i].astype(dt))
            self._losses.append(L)
            self.p = self.opt.update(self.p, g)
        self.step += k
        self.seconds += time.perf_counter() - t0

    def params(self) -> dict[str, np.ndarray]:
        return {k: v.astype(np.float64) for k, v in self.p.items()}

    def losses(self) -> np.ndarray:
        return np.array(self._losses, np.float64)

    def memory(self) -> dict:
        """numpy reports nothing of its own (the bench's peak RSS covers it)."""
        return {}


def prepare(cfg: Config, train: Train, variant: str = "numpy", device: str = "cpu",
            seed_params=None) -> Runner:
    """A run of ``train`` on ``cfg`` from ``spec.init(cfg, train.seed)`` (or ``seed_params``,
    name -> array, rounded to the run's dtype)."""
    check_prepare(name, variants, variant, available(device), device)
    return Runner(cfg, train, seed_params)


def floor(cfg: Config, dtype: str, device: str = "cpu"):
    """k -> None: k passes of the step's three matmuls at its shapes, numpy's own way (BLAS):
    z = x W1^T (B, n)x(n, H), z w2 (B, H)x(H,), and z^T x (H, B)x(B, n) (dW1's product, z
    standing in for g_z). ``spec.flops(cfg)`` counts the step's matmul FLOPs for a roofline."""
    ok, why = available(device)
    if not ok:
        raise invalid("device", device, f"for backend {name}: cpu ({why})")
    dt = np.dtype(dtype)
    p = spec.init(cfg, 0)
    W1, w2 = p["W1"].astype(dt), p["w2"].astype(dt)
    x = spec.batches(cfg, 0, 0, 1)[0][0].astype(dt)

    def run(k: int) -> None:
        for _ in range(k):
            z = x @ W1.T
            z @ w2
            z.T @ x

    return run
