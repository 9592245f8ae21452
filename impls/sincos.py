"""The tuned tier's sin and cos: one shared range reduction, two short polynomials (numpy mirror).

Framework-free: the constants, the algorithm and a numpy implementation that the backends' own
versions (``jax_backend.poly_sincos``, ``torch_backend.poly_sincos``) mirror op for op.

For an argument t (float32 or float64 array, |t| < T_MAX):
  1. reduce in float64:  k = rint(t * 2/pi),  r = ((t - k P1) - k P2) - k P3
     P1, P2: pi/2's leading 2 x 26 bits, so k P1 and k P2 are exact for |k| < 2^27; P3 the rest,
     rounded (Cody and Waite's three-part reduction). |r| <= pi/4 (+ an ulp).
  2. evaluate on r (rounded to t's dtype): Taylor polynomials in z = r^2, Horner form,
       sin r = r (1 - z/3! + z^2/5! - ...)    float32: to r^9,  float64: to r^17
       cos r = 1 - z/2! + z^2/4! - ...          float32: to r^10, float64: to r^16
     truncation at |r| = pi/4 below 0.05 ulp of the result in both dtypes.
  3. quadrant q = k mod 4:  sin t = (s, c, -s, -c)[q],  cos t = (c, -s, -c, s)[q].
Both sin and cos come from one reduction: a step needs both (sin forward, cos in the gradient).

Measured error against a float64 (float32 arguments) or long double (float64) evaluation at the
same argument: ``max_ulp_error``; tests/test_sincos.py holds it to ULP_BOUND over [0, T_MAX) and on
the suite's own arguments, in numpy and in each framework. Beyond T_MAX the backends fall back to
their framework's sin and cos (one decision per step, from max|w| max|x|).
"""
from __future__ import annotations

from decimal import Decimal, getcontext
from math import factorial

import numpy as np

T_MAX = 2.0**26  # |t| below this: |k| < 2^26, k P1 and k P2 exact
# pi to 60 digits (enough for three parts of pi/2 to 78+ bits)
_PI = "3.14159265358979323846264338327950288419716939937510582097494"
SIN_TERMS = {"float32": 5, "float64": 9}  # odd powers r^1 .. r^(2 terms - 1)
COS_TERMS = {"float32": 6, "float64": 9}  # even powers r^0 .. r^(2 terms - 2)
ULP_BOUND = {"float32": 2.5, "float64": 2.5}  # tests/test_sincos.py holds every implementation to it (measured max: 1.97, 1.91)


def _parts() -> tuple[float, float, float]:
    getcontext().prec = 80
    half_pi = Decimal(_PI) / 2
    out, rest = [], half_pi
    for bits in (26, 26):
        m, e = np.frexp(float(rest))
        p = float(np.ldexp(np.round(np.ldexp(m, bits)), e - bits))  # rest rounded to `bits` bits
        out.append(p)
        rest -= Decimal(p)
    return out[0], out[1], float(rest)


P1, P2, P3 = _parts()
TWO_OVER_PI = float(2 / Decimal(_PI) * 1)  # 2/pi rounded to float64; k is rounded anyway


def check_range(w, x_max: float) -> None:
    """ValueError (the suite's one line) unless max|w| x_max < T_MAX: the tuned tier's ops take no
    fallback, so their arguments must lie in the polynomials' range."""
    if float(np.max(np.abs(w))) * float(x_max) >= T_MAX:
        from .spec import invalid
        raise invalid("w", w, f"|w| max(x) below {T_MAX:g} for the tuned tier's ops")


def sin_coefficients(dtype: str) -> list[float]:
    """(-1)^j / (2j+1)!, j = 0 .. SIN_TERMS - 1: sin r = r sum_j a_j z^j, z = r^2."""
    return [(-1) ** j / factorial(2 * j + 1) for j in range(SIN_TERMS[dtype])]


def cos_coefficients(dtype: str) -> list[float]:
    """(-1)^j / (2j)!, j = 0 .. COS_TERMS - 1: cos r = sum_j b_j z^j."""
    return [(-1) ** j / factorial(2 * j) for j in range(COS_TERMS[dtype])]


def horner(z, coefficients, one=None):
    """sum_j c_j z^j by Horner's rule, in z's dtype (``one``: a cast for each coefficient)."""
    cast = one or (lambda c: c)
    acc = cast(coefficients[-1])
    for c in reversed(coefficients[:-1]):
        acc = cast(c) + z * acc
    return acc


def sincos(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sin t, cos t) of a float32 or float64 array, |t| < T_MAX, in t's dtype (numpy mirror)."""
    t = np.asarray(t)
    dt = t.dtype
    name = dt.name
    t64 = t.astype(np.float64)
    k = np.rint(t64 * TWO_OVER_PI)
    r = (((t64 - k * P1) - k * P2) - k * P3).astype(dt)
    z = r * r
    one = dt.type
    s = r * horner(z, sin_coefficients(name), one)
    c = horner(z, cos_coefficients(name), one)
    q = k.astype(np.int64) & 3
    swap = (q & 1) == 1
    a, b = np.where(swap, c, s), np.where(swap, s, c)
    return np.where((q & 2) == 2, -a, a).astype(dt), np.where(((q + 1) & 2) == 2, -b, b).astype(dt)


def ulps(got: np.ndarray, t: np.ndarray, fn) -> np.ndarray:
    """|got - fn(t)| in ulps of the result's dtype at fn(t), fn evaluated one precision up
    (float32 results: float64; float64 results: np.longdouble, 64-bit mantissa on x86)."""
    got = np.asarray(got)
    wide = np.float64 if got.dtype == np.float32 else np.longdouble
    truth = fn(np.asarray(t).astype(wide))
    spacing = np.spacing(np.abs(truth).astype(got.dtype)).astype(wide)
    return np.asarray(np.abs(got.astype(wide) - truth) / spacing, dtype=np.float64)


def max_ulp_error(sincos_fn, t: np.ndarray) -> tuple[float, float]:
    """(max ulp error of sin, of cos) of ``sincos_fn`` at the arguments t (float32 or float64)."""
    s, c = (np.asarray(a) for a in sincos_fn(t))
    return float(ulps(s, t, np.sin).max()), float(ulps(c, t, np.cos).max())


def arguments(dtype: str, n: int = 1 << 20, seed: int = 0) -> np.ndarray:
    """Arguments covering the suite's range: uniform on [0, T_MAX) and on [0, 2000) (the seed's
    band), and fl(w x) for integers x < 2^24 and w in [0.5, 4) (the suite's x_max limit)."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    x = rng.integers(0, 2**24, n).astype(dt)
    w = rng.uniform(0.5, 4.0, n).astype(dt)
    wide = (x * w)
    wide = wide[np.abs(wide.astype(np.float64)) < T_MAX]
    return np.concatenate([rng.uniform(0, T_MAX, n).astype(dt), rng.uniform(0, 2000, n).astype(dt),
                           wide, -rng.uniform(0, 2000, n // 4).astype(dt)])
