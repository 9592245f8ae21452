"""How a run ended (solved / stuck / wandering / diverged), and when two runs part (the horizon).

The basin. Every solution is w* = pi/2 + k pi. Near one, w = w* + d, each sample's error is
sin^2(d x) (even x: f = sin^2(d x), y = 0; odd x: f = cos^2(d x), y = 1), so x is classified
correctly iff |d x| mod pi < pi/4. For every integer 0..X at once this holds iff
|d| < h(X) = pi / (4 X): the basin half-width (an exact statement, not an approximation: with
|d| < pi/2 the sequence d x, x = 1, 2, ..., cannot step over the band [pi/4, 3 pi/4]).
X is the largest training x; X = 0 gives h = inf (x = 0 is even, sin(0)^2 = 0 is right for any w).

The rules, applied per ensemble member to the trajectory's last window, first match wins:
  diverged   any w or loss is NaN or inf, or some |w_t| > w_limit (default 1e6). The gradient of
             this model is bounded (|g| <= 2 mean x), so w cannot blow up in a few hundred steps
             except by numerical failure; the matrix's largest |w| stays < 1e4 (measured 4.0e3-6.9e3 across CPU paths).
  solved     the final w classifies every training x (``metrics.correct`` in the trajectory's
             dtype) AND lies in a solution's basin, dist(w_T, pi/2 + k pi) < h. The second test
             rules out a w that fits a sparse training set by aliasing without being a solution;
             there the loss is at most mean_i sin^4(d x_i) < 1/4 (~0.057 at the basin edge for
             uniform x), against ~3/8 in the forest of local minima outside.
  stuck      not solved and w stopped moving: its span over the last ``window`` steps (default 20)
             is at most still_tol = max(h / 100, 4 ulp of w_T in the dtype). Local minima are
             ~pi / X = 4h apart, so moving less than 1% of h is standing still on the landscape's
             scale; the ulp floor lets a float32 run that rocks between a few representable values
             count as stopped (Adam at x_max 100 rocks over 3 ulp). A run of 0 steps never moved.
  wandering  not solved and still moving (a limit cycle, a slow drift or chaos).

Measured on the seed's data (docs/agreement.md): solved runs end at dist <= 0.35 h, stuck ones at
>= 5 h with spans of a few ulp, wandering ones have spans >= 3e-4 (AMD EPYC and Intel Xeon, every
CPU path): the thresholds sit in wide gaps.

The horizon of two trajectories is, per member, the first step t with |w_a[t] - w_b[t]| > tol (one
of them non-finite and the other not counts as parted; both NaN, or equal infinities, do not).
The suite's parting tolerance is ``part_tol(data, dtype)`` = max(h / 10, 2 ulp): trajectories closer than a tenth of
the basin end the same way; at x_max <= 32 backends stay within 1.4e-5 (<< h / 10) for 300 steps,
while chaotic cases exceed it: float32 runs within 10 steps, float64 runs later or never (the
step depends on the CPU path, docs/numerics.md).
"""
from __future__ import annotations

import math

import numpy as np

from . import metrics
from .spec import DTYPES, Data, Trajectory, invalid

OUTCOMES = ("solved", "stuck", "wandering", "diverged")
W_LIMIT = 1e6
WINDOW = 20


def basin_halfwidth(data: Data) -> float:
    """h = pi / (4 max x): the w within h of pi/2 + k pi classify every integer 0..max x."""
    top = int(np.max(data.x))
    return math.inf if top == 0 else math.pi / (4 * top)


def part_tol(data: Data, dtype: str = "float64") -> float:
    """The suite's parting tolerance max(h / 10, 2 ulp of pi/2 in ``dtype``); inf for max x = 0.

    h / 10 is 1e-3 ... 8e-8 over the matrix; in float32 the ulp of pi/2 (1.2e-7) is larger than
    h / 10 from x_max ~ 6.6e5 on, and two runs one rounding apart have not parted.
    """
    return max(basin_halfwidth(data) / 10, 2 * float(np.spacing(np.array(math.pi / 2, dtype))))


def solution_distance(w) -> np.ndarray:
    """float64, shape of w: distance from w to the nearest solution pi/2 + k pi (NaN stays NaN)."""
    d = np.mod(np.asarray(w, np.float64) - math.pi / 2, math.pi)
    return np.minimum(d, math.pi - d)


def _arrays(traj) -> tuple[np.ndarray, np.ndarray]:
    """(w, loss) float64 (steps+1, E) of a Trajectory or duck-typed object; ValueError if malformed."""
    w = np.asarray(getattr(traj, "w", None), dtype=np.float64)
    loss = np.asarray(getattr(traj, "loss", None), dtype=np.float64)
    if w.ndim == 1:
        w = w[:, None]
    if loss.ndim == 1:
        loss = loss[:, None]
    if w.ndim != 2 or w.shape[0] == 0 or w.shape[1] == 0:
        raise invalid("trajectory.w", f"shape {w.shape}", "a non-empty (steps+1, E) array")
    if loss.shape != w.shape:
        raise invalid("trajectory.loss", f"shape {loss.shape}", f"the shape of w, {w.shape}")
    return w, loss


def _ulp(w: np.ndarray, dtype: str) -> np.ndarray:
    dt = np.dtype(dtype)
    return np.spacing(np.abs(w).astype(dt)).astype(np.float64)


def classify(traj: Trajectory, data: Data, window: int = WINDOW, w_limit: float = W_LIMIT) -> list[str]:
    """One outcome of ``OUTCOMES`` per ensemble member (rules in the module docstring); never
    raises on NaN or inf (that is ``diverged``), raises ValueError on an empty or ragged trajectory."""
    w, loss = _arrays(traj)
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise invalid("window", window, "an integer >= 1")
    dtype = getattr(traj, "dtype", "float64")
    dtype = dtype if dtype in DTYPES else "float64"
    h = basin_halfwidth(data)
    last = w[-1]
    diverged = ~np.isfinite(w).all(axis=0) | ~np.isfinite(loss).all(axis=0)
    with np.errstate(invalid="ignore"):
        diverged |= (np.abs(w) > w_limit).any(axis=0)
    safe = np.where(diverged, 0.0, last)  # keep NaN away from the checks below
    solved = metrics.correct(data, safe, dtype).all(axis=0) & (solution_distance(safe) < h)
    tail = np.where(diverged[None, :], 0.0, w[-min(window, w.shape[0] - 1) - 1:])
    span = tail.max(axis=0) - tail.min(axis=0)
    still = span <= np.maximum(h / 100, 4 * _ulp(safe, dtype))
    out = []
    for e in range(w.shape[1]):
        out.append("diverged" if diverged[e] else "solved" if solved[e]
                   else "stuck" if still[e] else "wandering")
    return out


def horizon_arrays(wa, wb, tol: float) -> list[int | None]:
    """Per member, the first t with |wa[t] - wb[t]| > tol, None when never. wa, wb: (steps+1, E)."""
    a, b = np.asarray(wa, np.float64), np.asarray(wb, np.float64)
    a = a[:, None] if a.ndim == 1 else a
    b = b[:, None] if b.ndim == 1 else b
    try:
        tol = float(tol)
    except (TypeError, ValueError):
        raise invalid("tol", tol, "a number > 0") from None
    if not tol > 0:  # also rejects NaN
        raise invalid("tol", tol, "a number > 0")
    if a.ndim != 2 or a.size == 0 or b.ndim != 2 or b.size == 0:
        raise invalid("trajectory.w", f"shapes {a.shape} and {b.shape}", "non-empty (steps+1, E) arrays")
    if a.shape != b.shape:
        raise invalid("trajectories", f"shapes {a.shape} and {b.shape} (steps+1, E)",
                      "two trajectories of the same number of steps and ensemble size")
    with np.errstate(invalid="ignore"):
        same = (np.abs(a - b) <= tol) | (a == b) | (np.isnan(a) & np.isnan(b))
    parted = ~same
    first = parted.argmax(axis=0)
    return [int(first[e]) if parted[:, e].any() else None for e in range(a.shape[1])]


def horizon(a: Trajectory, b: Trajectory, tol: float) -> list[int | None]:
    """Per member, the first step t at which |w_a[t] - w_b[t]| > tol; None when never.

    ValueError (one line) for an empty trajectory, different lengths or ensemble sizes, or tol <= 0.
    """
    return horizon_arrays(_arrays(a)[0], _arrays(b)[0], tol)


def fractions(outcomes) -> dict[str, float]:
    """{outcome: fraction of members} over every name in OUTCOMES (zeros included)."""
    outcomes = list(outcomes)
    if not outcomes:
        raise invalid("outcomes", "[]", "a non-empty list of outcomes")
    bad = [o for o in outcomes if o not in OUTCOMES]
    if bad:
        raise invalid("outcomes", bad[0], "one of " + ", ".join(OUTCOMES))
    return {o: outcomes.count(o) / len(outcomes) for o in OUTCOMES}
