"""numpy reference: closed-form loss and gradient, the three optimizers written out. The ground truth.

Shapes: x, y (n, 1) against w (1, E) broadcast to (n, E). Computed in the recipe's dtype
(float64 is the ground truth; float32 is numpy's own float32 rounding, a third opinion).
  s = sin(w x), c = cos(w x), f = s^2, r = f - y
  L = mean_i q_i r_i^2,  dL/dw = mean_i q_i 2 r_i 2 s_i c_i x_i,  q_i = 1 (mse) or 1/max(x_i,1)^2 (scaled)
"""
from __future__ import annotations

import time

import numpy as np

from . import sincos as poly
from .spec import OPS, Data, Recipe, Trajectory, canonical_device, invalid

name = "reference"
variants = ("numpy",)
_CHUNK = 1 << 22  # elements of the (n, E) temporaries held at once


def available(device: str = "cpu") -> tuple[bool, str]:
    if canonical_device(device) != "cpu":
        return False, "the numpy reference runs on the CPU only"
    return True, ""


def loss_weights(x: np.ndarray, loss: str) -> np.ndarray | None:
    """q_i of the loss: None for mse, 1/max(x,1)^2 for scaled (same dtype as x)."""
    if loss == "mse":
        return None
    return (1 / np.maximum(x, 1) ** 2).astype(x.dtype)


def _loss_grad(x, y, q, w):
    """x, y, q: (n,) of dtype; w: (E,) of dtype -> (L, dL/dw), each (E,) of dtype."""
    n, E = x.size, w.size
    L = np.zeros(E, x.dtype)
    G = np.zeros(E, x.dtype)
    rows = max(1, _CHUNK // max(E, 1))
    for i in range(0, n, rows):
        xs, ys = x[i:i + rows, None], y[i:i + rows, None]
        wx = xs * w[None, :]
        s, c = np.sin(wx), np.cos(wx)
        r = s * s - ys
        term, gterm = r * r, 4 * r * s * c * xs
        if q is not None:
            term, gterm = term * q[i:i + rows, None], gterm * q[i:i + rows, None]
        L += term.sum(axis=0)
        G += gterm.sum(axis=0)
    return L / x.dtype.type(n), G / x.dtype.type(n)


def loss_and_grad(data: Data, w, dtype: str, device: str = "cpu", loss: str = "mse"):
    x, y = data.as_dtype(dtype)
    L, G = _loss_grad(x, y, loss_weights(x, loss), np.atleast_1d(np.asarray(w)).astype(x.dtype))
    return L.astype(np.float64), G.astype(np.float64)


class _Optimizer:
    """torch.optim's update rules, element-wise over the E weights, in the weights' dtype."""

    def __init__(self, recipe: Recipe, dtype):
        self.r, self.t, self.dt = recipe, 0, dtype
        self.b = self.m = self.v = None

    def update(self, w, g):
        r, dt = self.r, self.dt
        lr = dt.type(r.lr)
        self.t += 1
        if r.optimizer == "sgd":
            return w - lr * g
        if r.optimizer == "momentum":
            mu = dt.type(r.momentum)
            self.b = g.copy() if self.b is None else mu * self.b + g
            d = g + mu * self.b if r.nesterov else self.b
            return w - lr * d
        b1, b2 = dt.type(r.beta1), dt.type(r.beta2)
        if self.m is None:
            self.m, self.v = np.zeros_like(w), np.zeros_like(w)
        self.m = self.m + (g - self.m) * (1 - b1)
        self.v = self.v * b2 + (1 - b2) * g * g
        bc1, bc2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        denom = np.sqrt(self.v) / np.sqrt(bc2) + dt.type(r.eps)
        return w - (lr / bc1) * (self.m / denom)


class _Runner:
    def __init__(self, data: Data, recipe: Recipe, dtype: str):
        self.recipe, self.dtype = recipe, dtype
        self.x, self.y = data.as_dtype(dtype)
        self.q = loss_weights(self.x, recipe.loss)
        self.w = recipe.w0_array.astype(self.x.dtype)
        self.opt = _Optimizer(recipe, self.x.dtype)
        self.ws, self.losses, self.seconds = [], [], 0.0

    def advance(self, k: int) -> None:
        t0 = time.perf_counter()
        for _ in range(k):
            L, G = _loss_grad(self.x, self.y, self.q, self.w)
            self.ws.append(self.w.copy())
            self.losses.append(L)
            self.w = self.opt.update(self.w, G)
        self.seconds += time.perf_counter() - t0

    def memory(self) -> dict:
        """numpy reports nothing of its own (the bench's peak RSS covers it)."""
        return {}

    def trajectory(self) -> Trajectory:
        L, _ = _loss_grad(self.x, self.y, self.q, self.w)
        return Trajectory(name, "numpy", "cpu", self.dtype, np.array(self.ws + [self.w]),
                          np.array(self.losses + [L]), seconds=self.seconds)


def prepare(data: Data, recipe: Recipe, variant: str = "numpy", device: str = "cpu") -> _Runner:
    if variant not in variants:
        raise invalid("variant", variant, f"for backend {name}: one of " + ", ".join(variants))
    ok, why = available(device)
    if not ok:
        raise invalid("device", device, f"for backend {name}: cpu ({why})")
    return _Runner(data, recipe, recipe.dtype)


def floor(data: Data, w, dtype: str, device: str = "cpu"):
    """k passes of sum(sin(w x) + cos(w x)) over the data: numpy's cheapest equivalent."""
    return op(data, w, dtype, device, "sincos")


def op(data: Data, w, dtype: str, device: str = "cpu", name: str = "sincos", tier: str = "default"):
    """k -> None: k passes of building block ``name`` (spec.OPS) over the data, numpy's own way
    (temporaries, no fusion); the tuned tier's sin and cos are impls/sincos.py's numpy mirror."""
    if name not in OPS:
        raise invalid("op", name, "one of " + ", ".join(OPS))
    if tier == "tuned":
        poly.check_range(w, data.x.max())
    x, y = data.as_dtype(dtype)
    x, y = x[:, None], y[:, None]
    wv = np.atleast_1d(np.asarray(w)).astype(x.dtype)[None, :]
    sin, cos = ((lambda t: poly.sincos(t)[0]), (lambda t: poly.sincos(t)[1])) if tier == "tuned" \
        else (np.sin, np.cos)
    one = {"read": lambda t: t, "sin": sin, "cos": cos, "sincos": lambda t: sin(t) + cos(t),
           "rest": lambda t: (t * t - y) ** 2 + 4 * (t * t - y) * t * t * x}[name]

    def run(k: int) -> None:
        for _ in range(k):
            one(x * wv).sum(axis=0)

    return run


def copy(nbytes: int, device: str = "cpu"):
    """k -> None: k ``np.copyto`` of an nbytes buffer (float32, pages touched) into another."""
    if canonical_device(device) != "cpu":
        raise invalid("device", device, "cpu (the numpy reference runs on the CPU only)")
    src = np.ones(nbytes // 4, np.float32)
    dst = np.zeros_like(src)

    def run(k: int) -> None:
        for _ in range(k):
            np.copyto(dst, src)

    return run


def predict(x: np.ndarray, w: float, dtype: str, device: str = "cpu") -> np.ndarray:
    """bool (n,): sin(w x)^2 >= 0.5 ("odd") for integers x (n,), evaluated in numpy's ``dtype``."""
    dt = np.dtype(dtype)
    s = np.sin(np.asarray(x).astype(dt) * dt.type(w))
    return s * s >= dt.type(0.5)
