"""The classification horizon: the first non-negative integer x that sin(w x)^2 >= 0.5 gets wrong.

The error model. Let w* = pi/2 + k pi be the solution nearest to w (w already rounded to the
dtype) and D = w - w* (float32: fl32(pi/2) - pi/2 = +4.37e-8; float64: -6.12e-17). A backend
computes a = fl(w x) (one correctly rounded product; x exact below 2^24 / 2^53) and then sin(a):
    a = w* x + e(x),   e(x) = D x + delta(x),   |delta(x)| <= spacing(w x) / 2.
Since w* x is a multiple of pi for even x and pi/2 off one for odd x, x is classified correctly
iff dist(e(x), pi Z) < pi/4 (with an exact sin). Two errors grow with x: D x, linearly, and the
rounding delta of the product, which jumps with every binade of w x (float32: 1/2 once
w x >= 2^23; float64: 1/2 once w x >= 2^52). So:
  * proof-backed lower bound (``safe_bound``): every x with |D| x + spacing(w x)/2 < pi/4 is
    classified correctly (given sin accurate to far better than the margin); per binade of w x
    the spacing is constant, so the bound is solved binade by binade;
  * above it, e(x) is computed exactly for each x (``model_errors``: the product's rounding error
    by Dekker's two-product, exact in float64) until the first failure (``model_first``);
  * the backend itself is then asked (``backend_first``): exhaustively in float32 (x = 0..2^24+1;
    2^24+1 is not a float32, it rounds to 2^24, so the horizon is at most 2^24+1), and in float64
    on the scanned window, the candidate and samples below (the model's proof holds for an exact
    sin; the samples check that the backend's sin is that accurate at these arguments).
"""
from __future__ import annotations

import math
from functools import lru_cache
from dataclasses import dataclass, field

import mpmath
import numpy as np

from . import registry
from .spec import DTYPES, invalid

PRECISION = {"float32": 24, "float64": 53}   # significand bits
CHUNK = 1 << 22
MAX_SCAN = 1 << 28                           # float64 candidates scanned above the safe bound


def _check_dtype(dtype: str) -> np.dtype:
    if dtype not in DTYPES:
        raise invalid("dtype", dtype, "one of " + ", ".join(DTYPES))
    return np.dtype(dtype)


def best_pi_half(dtype: str) -> float:
    """fl_dtype(pi/2), the representable w nearest to pi/2, as a Python float."""
    return float(np.asarray(mpmath.mpf(mpmath.pi) / 2, dtype=np.float64).astype(_check_dtype(dtype)))


def rounded(w: float, dtype: str) -> float:
    """w rounded to ``dtype`` (what every backend trains and predicts with)."""
    try:
        wf = float(w)
    except (TypeError, ValueError):
        raise invalid("w", w, "a finite number") from None
    dt = _check_dtype(dtype)
    with np.errstate(over="ignore", under="ignore"):
        wd = float(np.float64(wf).astype(dt)) if math.isfinite(wf) else wf
    if not math.isfinite(wd) or wd == 0:
        raise invalid("w", w, f"a finite number whose {dtype} rounding is finite and non-zero")
    return wd


def offset(w: float, dtype: str) -> tuple[float, int]:
    """(D, k): D = w - (pi/2 + k pi) for the nearest k, w rounded to dtype; D to float64 accuracy."""
    mpmath.mp.prec = 200
    wm = mpmath.mpf(rounded(w, dtype))
    k = int(mpmath.nint((wm - mpmath.pi / 2) / mpmath.pi))
    return float(wm - (mpmath.pi / 2 + k * mpmath.pi)), k


def safe_bound(w: float, dtype: str) -> int:
    """Smallest x at which |D| x + spacing(w x)/2 >= pi/4: every 0 <= x below it is correct (exact sin)."""
    D, _ = offset(w, dtype)
    p, aw = PRECISION[dtype], abs(rounded(w, dtype))
    quarter = math.pi / 4 * (1 - 1e-12)      # margin for rounding in this float64 arithmetic
    k = math.floor(math.log2(aw)) - 1          # the binade of w x at x = 1, and one below
    while True:
        lo, hi = 2.0 ** k / aw, 2.0 ** (k + 1) / aw       # x with w x in [2^k, 2^(k+1))
        half = 2.0 ** (k - p)                              # half the spacing there
        need = (quarter - half) / abs(D) if D else math.inf
        x = max(math.ceil(lo), math.ceil(need), 0)
        if x < hi:
            return int(x)
        k += 1


def two_product(a, b):
    """(p, err) with p = fl(a b) and a b = p + err exactly (Dekker/Veltkamp, float64, no FMA)."""
    p = a * b
    c = 134217729.0  # 2^27 + 1
    ta, tb = c * a, c * b
    ah, bh = ta - (ta - a), tb - (tb - b)
    al, bl = a - ah, b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def model_errors(x: np.ndarray, w: float, dtype: str) -> np.ndarray:
    """float64 (n,): e(x) = fl(w fl(x)) - w* x, reduced to (-pi/2, pi/2] modulo pi.

    float32: fl32(w x) and the exact w x (49 bits) are both float64 numbers, so delta is exact;
    float64: delta = -err of ``two_product``. D x is rounded once (relative 1e-16).
    """
    D, _ = offset(w, dtype)
    wr = rounded(w, dtype)
    xf = np.asarray(x, np.int64).astype(np.float64)
    if dtype == "float32":
        p = (xf.astype(np.float32) * np.float32(wr)).astype(np.float64)
        delta = p - xf * wr
    else:
        _, err = two_product(np.float64(wr), xf)
        delta = -err
    e = D * xf + delta
    return e - math.pi * np.round(e / math.pi)


def model_wrong(x: np.ndarray, w: float, dtype: str) -> np.ndarray:
    """bool (n,): x misclassified by an exact sin of fl(w x); near-ties settled with mpmath."""
    e = np.abs(model_errors(x, w, dtype))
    wrong = e > math.pi / 4
    close = np.nonzero(np.abs(e - math.pi / 4) < 1e-9)[0]
    if close.size:
        mpmath.mp.prec = 200
        wr, dt = rounded(w, dtype), _check_dtype(dtype)
        for i in close:
            xi = int(x[i])
            a = float((np.float64(xi).astype(dt) * dt.type(wr)))
            odd = mpmath.sin(mpmath.mpf(a)) ** 2 >= mpmath.mpf(1) / 2
            wrong[i] = bool(odd) != (xi % 2 == 1)
    return wrong


@lru_cache(maxsize=64)
def model_first(w: float, dtype: str, start: int = 0, max_scan: int = MAX_SCAN) -> int | None:
    """First x >= start that the exact-sin model gets wrong, scanning at most ``max_scan`` x."""
    top = (1 << 24) + 1 if dtype == "float32" else (1 << 53) + 1
    x0 = start
    while x0 <= top and x0 - start < max_scan:
        x = np.arange(x0, min(x0 + CHUNK, top + 1), dtype=np.int64)
        bad = np.nonzero(model_wrong(x, w, dtype))[0]
        if bad.size:
            return int(x[bad[0]])
        x0 = int(x[-1]) + 1
    return None


def backend_first(backend: str, w: float, dtype: str, xs: np.ndarray, device: str = "cpu") -> int | None:
    """The first x of the sorted integers ``xs`` that the backend's own ``predict`` gets wrong."""
    mod = registry.get(backend)
    wr = rounded(w, dtype)
    for i in range(0, xs.size, CHUNK):
        x = xs[i:i + CHUNK]
        bad = np.nonzero(mod.predict(x, wr, dtype, device) != (x % 2 == 1))[0]
        if bad.size:
            return int(x[bad[0]])
    return None


@dataclass
class Horizon:
    """One backend's horizon for one w and dtype, with how it was established."""

    backend: str
    dtype: str
    w: float            # rounded to dtype
    offset: float       # D = w - (pi/2 + k pi)
    first: int | None   # first misclassified x (None: none up to the dtype's integer range)
    model_first: int | None
    safe_bound: int
    how: str
    checks: dict = field(default_factory=dict)


def horizon(backend: str, w: float, dtype: str = "float32", device: str = "cpu",
            samples: int = 1 << 18, seed: int = 0) -> Horizon:
    """The first non-negative integer misclassified by w in ``backend`` and ``dtype``.

    float32: every x in 0..2^24+1 through the backend. float64: the model above ``safe_bound``,
    then the backend on the scanned window (its last 2^22 x when longer), on the model's answer,
    and on ``samples`` log-uniform x below it; any disagreement is reported in ``checks`` and the
    backend's own first failure found that way is returned.
    """
    _check_dtype(dtype)
    wr = rounded(w, dtype)
    D, _ = offset(wr, dtype)
    safe = safe_bound(wr, dtype)
    m = model_first(wr, dtype, start=safe)
    if dtype == "float32":
        xs = np.arange(0, (1 << 24) + 2, dtype=np.int64)
        first = backend_first(backend, wr, dtype, xs, device)
        return Horizon(backend, dtype, wr, D, first, m, safe, "exhaustive: x = 0..2^24+1",
                       {"agrees_with_model": first == m})
    if m is None:
        raise invalid("w", w, f"a w whose float64 horizon lies within {MAX_SCAN} integers of its bound {safe}")
    rng = np.random.default_rng(seed)
    below = np.unique(np.exp(rng.uniform(0, math.log(max(m, 2)), samples)).astype(np.int64))
    below = below[below < m]
    window = np.arange(max(safe, m - CHUNK), m + 1, dtype=np.int64)
    xs = np.unique(np.concatenate([below, window]))
    first = backend_first(backend, wr, dtype, xs, device)
    model_below = model_wrong(below, wr, dtype)
    checks = {"samples_below": int(below.size), "window": [int(window[0]), int(window[-1])],
              "model_wrong_in_samples": int(model_below.sum()), "agrees_with_model": first == m}
    how = "bound + exact scan (model), backend checked on window and samples"
    return Horizon(backend, dtype, wr, D, first, m, safe, how, checks)
