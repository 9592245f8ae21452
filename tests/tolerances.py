"""Error bounds for comparing a backend against the float64 reference, derived, not measured.

Loss and gradient at weights w (E,), data x, y (n,), computed in ``dtype`` with unit roundoff u
(2^-24 for float32, 2^-53 for float64). Every backend feeds sin/cos the argument
theta~ = fl(fl(w) * x): one IEEE multiply (x < 2^24 is exact in float32), identical in numpy,
torch and XLA. So the truth we compare with is the float64 formula evaluated *at theta~* (for
float32, theta~ differs from w x by up to |w x| 2^-24, ~0.09 rad at x = 1e6: that part is
not an error of the backend, it is what float32 means). What remains, per term i:
  sin, cos      |error| <= a u each, a = TRIG_ULP[tier]: the default tier a = 4: SLEEF's vectorised
                float32 sin/cos (torch eager and inductor) are documented to 3.5 ulp
                (Sleef_sinf16_u35), glibc's and XLA's to ~1 ulp; an ulp of a value below 1 is at
                most u. Measured max on an Intel Xeon: 1.79u (inductor, AVX2/AVX-512), 0.6u
                elsewhere. The tuned tier's polynomials: a = impls.sincos.ULP_BOUND, the bound
                tests/test_sincos.py holds them to over the whole argument range.
  r = s^2 - y   |dr| <= 2|s| a u + 2u <= (2a + 2)u                          (a = 4: 10u)
  t_L = r^2     |dt_L| <= 2|r| (2a + 2)u + u <= (4a + 5)u                   (a = 4: 21u)
  t_G = 4 r s c x  |dt_G| <= 4x ((2a + 2)u + 2a u + 4 roundings u) = 4(4a + 6) u x  (a = 4: 88 u x)
  scaled loss   q = 1/max(x,1)^2 rounded (<= 2u relative): add 3u |t q| per term
and the mean of n terms summed in any order (Higham's bound for recursive summation, which
covers pairwise and blocked orders too) adds (n - 1) u mean|t|. The float64 truth has the same
kind of error with u = 2^-53, so a tolerance is bound(dtype) + bound(float64).
"""
from __future__ import annotations

import numpy as np

from impls import sincos
from impls.reference import _Optimizer
from impls.spec import Data, Recipe

U = {"float32": 2.0**-24, "float64": 2.0**-53}
TRIG_ULP = 4.0  # the default tier's sin/cos error bound, in ulps


def trig_ulp(tier: str, dtype: str) -> float:
    """a: the sin/cos error bound in ulps of a tier's variants (see the module docstring)."""
    return sincos.ULP_BOUND[dtype] if tier == "tuned" else TRIG_ULP


def rounded_arguments(x: np.ndarray, w, dtype: str) -> np.ndarray:
    """theta~ (n, E) float64: the rounded products fl(fl(w) x) a ``dtype`` backend computes."""
    dt = np.dtype(dtype)
    w = np.atleast_1d(np.asarray(w, np.float64)).astype(dt)
    return (x.astype(dt)[:, None] * w[None, :]).astype(np.float64)


def _q(x: np.ndarray, loss: str):
    return None if loss == "mse" else 1.0 / np.maximum(x, 1.0)[:, None] ** 2


def terms(data: Data, theta: np.ndarray, loss: str = "mse"):
    """Per-sample float64 loss and gradient terms (n, E) at arguments theta (n, E)."""
    x, y = data.x.astype(np.float64)[:, None], data.y[:, None]
    s, c = np.sin(theta), np.cos(theta)
    r = s * s - y
    tl, tg = r * r, 4 * r * s * c * x
    q = _q(data.x.astype(np.float64), loss)
    return (tl, tg) if q is None else (tl * q, tg * q)


def bound(data: Data, tl: np.ndarray, tg: np.ndarray, u: float, loss: str = "mse", trig: float = TRIG_ULP):
    """(bound on |dL|, bound on |dG|), each (E,), for terms tl, tg computed with roundoff u and
    sin/cos within ``trig`` ulps."""
    x, n = data.x.astype(np.float64)[:, None], data.n
    el, eg = np.full_like(tl, (4 * trig + 5) * u), 4 * (4 * trig + 6) * u * x * np.ones_like(tg)
    q = _q(data.x.astype(np.float64), loss)
    if q is not None:
        el, eg = el * q + 3 * u * np.abs(tl), eg * q + 3 * u * np.abs(tg)
    return (el.mean(0) + (n - 1) * u * np.abs(tl).mean(0),
            eg.mean(0) + (n - 1) * u * np.abs(tg).mean(0))


def loss_grad_truth(data: Data, w, dtype: str, loss: str = "mse", trig: float = TRIG_ULP):
    """(L, G, tol_L, tol_G), each (E,): the float64 truth at theta~ and the tolerances."""
    theta = rounded_arguments(data.x, w, dtype)
    tl, tg = terms(data, theta, loss)
    bl, bg = bound(data, tl, tg, U[dtype], loss, trig)
    bl64, bg64 = bound(data, tl, tg, U["float64"], loss)
    return tl.mean(0), tg.mean(0), bl + bl64, bg + bg64


# --- trajectories -------------------------------------------------------------------------------
C_OPT = 32  # roundings inside one optimizer update, counted generously (see trajectory_truth)
# pow's error bound in ulps, per device, for Adam's bias corrections 1 - beta^t (trajectory_truth):
# on a CPU, SLEEF's powf (Sleef_powf_u10, torch) and glibc's powf (XLA, numpy) are documented to
# 1 ulp; on a GPU, CUDA's powf to 4 ulps (CUDA C++ Programming Guide, math appendix, "pow"),
# pow (float64) to 2. docs/gpu.md §tolerances: a 1-ulp pow reproduces the H200's first Adam step.
POW_ULP = {"cpu": 1.0, "gpu": 4.0}


def bias_correction_error(beta: float, t: int, u: float, pow_ulp: float) -> float:
    """Relative error bound of 1 - fl(beta)^t computed with a pow within ``pow_ulp`` ulps: the
    absolute error of the power (beta rounded to the dtype, <= u/2 as beta < 1, raised to t:
    t beta^(t-1) u/2; pow's own <= pow_ulp ulp(beta^t) <= pow_ulp 2u beta^t) over 1 - beta^t,
    which the subtraction leaves exact while beta^t >= 1/2 (Sterbenz) and so amplifies by
    1 / (1 - beta^t): 1000x for beta = 0.999 at t = 1. Past that (beta = 0.9: t >= 7) the
    subtraction rounds once more, <= u, one of C_OPT's roundings."""
    power = beta ** t
    return (t * beta ** (t - 1) * u / 2 + pow_ulp * 2 * u * power) / (1 - power)


def _grad(data: Data, w: np.ndarray, loss: str) -> np.ndarray:
    """float64 (or complex, for the complex step) gradient at w (1,), theta = w x unrounded."""
    x, y = data.x.astype(np.float64), data.y
    th = x * w[0]
    s, c = np.sin(th), np.cos(th)
    t = 4 * (s * s - y) * s * c * x
    q = _q(x, loss)
    return np.array([(t if q is None else t * q[:, 0]).mean()])


def _run(data: Data, recipe: Recipe, kick_w: int = -1, kick_g: int = -1, h: float = 1e-30):
    """float64 (complex) run of the reference optimizer; +i h added to w at the start of step
    ``kick_w`` or to the gradient of step ``kick_g`` (0-based). Returns w (steps+1,) complex."""
    opt = _Optimizer(recipe, np.dtype(np.float64))
    w = recipe.w0_array[:1].astype(complex)
    ws = [w[0]]
    for s in range(recipe.steps):
        if s == kick_w:
            w = w + 1j * h
        g = _grad(data, w, recipe.loss)
        if s == kick_g:
            g = g + 1j * h
        w = opt.update(w, g)
        ws.append(w[0])
    return np.array(ws)


def sensitivities(data: Data, recipe: Recipe):
    """S_w[s, t] = dw_t/dw_s (a kick to w at the start of step s) and S_g[s, t] = dw_t/dg_s,
    exact derivatives by the complex step (Im f(a + i h) / h, no cancellation), (steps+1, steps+1)."""
    T, h = recipe.steps, 1e-30
    Sw, Sg = np.zeros((T + 1, T + 1)), np.zeros((T + 1, T + 1))
    for s in range(T):
        Sw[s] = _run(data, recipe, kick_w=s, h=h).imag / h
        Sg[s] = _run(data, recipe, kick_g=s, h=h).imag / h
    np.fill_diagonal(Sw, 1.0)  # w_s is recorded before the kick at the start of step s
    return Sw, Sg


def trajectory_truth(data: Data, recipe: Recipe, w_ref: np.ndarray, trig: float = TRIG_ULP,
                     pow_ulp: float = POW_ULP["cpu"]):
    """(tol_w, tol_L, amplification), tol (steps+1,): first-order error bounds of a ``recipe.dtype``
    run against the float64 reference trajectory ``w_ref`` (steps+1,) (E = 1).

    Errors made at step s reach w_t through the linearized dynamics, computed exactly:
      e_w(t) <= S_w[0,t] |fl(w0) - w0| + sum_{s<t} |S_g[s,t]| eps_g(s) + |S_w[s+1,t]| eps_w(s)
      eps_g(s) = |G64(theta~_s) - G64(w_s x)| + tol_G(w_s)      (rounded arguments + evaluation)
      eps_w(s) = u (|w_{s+1}| + C_OPT lr |d_s|), d_s = (w_s - w_{s+1}) / lr the update direction:
                 the rounding of w plus <= C_OPT roundings of the update (lr itself, momentum
                 buffer accumulated over <= 1/(1-mu) = 10 steps, Adam's m, v, sqrt, bias terms);
                 Adam adds lr |d_s| (e1 + e2 / 2), e = ``bias_correction_error`` of beta1, beta2 at
                 t = s + 1 with pow within ``pow_ulp`` ulps (POW_ULP: the device's): m-hat is
                 divided by 1 - beta1^t, v-hat's square root by sqrt(1 - beta2^t).
    The bound is doubled (the linearization's slack; float64: the reference's own roundings).
    tol_L(t) = |L'(w_t)| tol_w(t) + |L64(theta~_t) - L64(w_t x)| + 2 tol_L(w_t).
    ``amplification`` = max |S|: the problems chosen must keep it small (not chaotic), or a
    first-order bound says nothing.
    """
    dtype, u, T = recipe.dtype, U[recipe.dtype], recipe.steps
    Sw, Sg = sensitivities(data, recipe)
    w = w_ref
    eps_g, eps_L, dL = np.zeros(T + 1), np.zeros(T + 1), np.zeros(T + 1)
    for t in range(T + 1):
        L_r, G_r, tl, tg = loss_grad_truth(data, w[t], dtype, recipe.loss, trig)
        tl64, tg64 = terms(data, w[t] * data.x.astype(np.float64)[:, None], recipe.loss)
        eps_g[t] = abs(G_r[0] - tg64.mean()) + tg[0]
        eps_L[t] = abs(L_r[0] - tl64.mean()) + 2 * tl[0]
        dL[t] = abs(tg64.mean())
    d = (w[:-1] - w[1:]) / recipe.lr
    eps_w = u * (np.abs(w[1:]) + C_OPT * recipe.lr * np.abs(d))
    if recipe.optimizer == "adam":
        t = np.arange(1, T + 1)
        eps_w += recipe.lr * np.abs(d) * (bias_correction_error(recipe.beta1, t, u, pow_ulp)
                                          + bias_correction_error(recipe.beta2, t, u, pow_ulp) / 2)
    e0 = abs(float(np.float32(w[0])) - w[0]) if dtype == "float32" else 0.0
    tol_w = np.zeros(T + 1)
    for t in range(T + 1):
        tot = abs(Sw[0, t]) * e0
        for s in range(t):
            tot += abs(Sg[s, t]) * eps_g[s] + abs(Sw[s + 1, t]) * eps_w[s]
        tol_w[t] = 2 * tot
    tol_L = dL * tol_w + eps_L
    return tol_w, tol_L, float(max(np.abs(Sw).max(), np.abs(Sg).max()))
