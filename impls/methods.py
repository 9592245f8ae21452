"""Training methods on the contract: plain, scaled (gradient reshaping), curriculum (continuation).

Every method is orchestration over ``registry.get(backend).prepare(...)`` / ``advance``: each
backend and variant runs it with its own framework code, and a method returns one ``Trajectory``.

Why plain gradient descent fails. Near a solution w = pi/2 + d (also pi/2 + k pi) every sample's
error is r_i^2 = sin^4(d x_i), so L(d) = mean_i sin^4(d x_i) and all of [0, X) is classified iff
|d| < pi / (4 (X - 1)). Write u = d X (the phase error at the top of the range). For x = X t,
t ~ U[0, 1):   dL/dd = 2 X g(u),   g(u) = E_t[t sin^2(u t) sin(2 u t)] ~ (2/5) u^3  (small u).
A gradient step d' = d - lr dL/dd is, in u,   u' = u - 2 (lr X^2) g(u).
So a step size is scale-free only as eta = lr X^2, and the loss is a function of u alone: away from
|u| < ~1 it is a forest of local minima near 3/8 (what the seed saw). From w0 = 1.5 (d = -0.0708)
the seed's X = 1000 puts u at -70.8: far outside; at X <= 8 it is inside (the asker's x in 0..5).

Methods (``METHODS``; ``lr`` means, per method):
  plain       the recipe as it is: lr is the step size, ``recipe.steps`` steps.
  scaled      gradient reshaping: loss="scaled", L = mean q_i r_i^2, q_i = 1/max(x_i,1)^2, so each
              per-sample gradient 4 r s c x q is O(1/x) instead of O(x). lr is the step size.
              Verdict (measured, docs/answer.md): it does not remove the forest, because every term
              still oscillates in w with period pi/x_i; it only re-weights towards the smallest x in
              the data. It solves x_max = 1000 (the seed's data holds x < 10) and fails at 1e4 and
              1e6, where the smallest drawn x is ~10 and ~1000.
  curriculum  continuation over growing ranges X_0 < X_1 < ... < X_K = x_max (``Stage``): stage k
              trains on ``Problem(n, X_k, seed)`` drawn by ``impls.data`` (the last stage on the
              problem's own data), with sgd at lr_k = eta / X_k^2, so every stage is the same
              dimensionless map u' = u - 2 eta g(u). lr is eta.

Default schedule (``default_schedule``), derived:
  * enter each stage with |u| <= U_IN = 0.6 (the classification basin is pi/4 ~ 0.785 and the
    attraction basin of u' = u - 2 eta g(u) is wider): X_0 = floor(U_IN / |d0|) (8 from w0 = 1.5);
  * stage k+1 multiplies u by G = X_{k+1} / X_k, so stage k must end at |u| <= U_IN / G;
  * small-u dynamics: 1/u^2 grows by 8 eta / 5 per step, so the steps per stage are
      T = (5 / (8 eta)) (G^2 - 1) / U_IN^2, times 1.5 for the non-asymptotic start and sampling;
  * stability: 1 - 2 eta g'(u) > -1 for |u| <= U_IN, g'(0.6) ~ 0.43, so eta < 2.3; eta = 1;
  * total steps ~ (G^2 - 1) / ln G per decade: G = 4 (T = 40) keeps both stages and steps few:
    x_max = 1e6 from w0 = 1.5 is 10 stages, 400 steps.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from . import data as datamod
from . import registry
from .outcome import solution_distance
from .spec import Data, Problem, Recipe, Trajectory, canonical_device, invalid

METHODS = ("plain", "scaled", "curriculum")
DEFAULT_LR = {"plain": 4e-4, "scaled": 1.0, "curriculum": 1.0}  # curriculum: eta = lr X^2
U_IN = 0.6      # |d| X at a stage's start
GROWTH = 4      # X_{k+1} / X_k
SAFETY = 1.5    # on the asymptotic step count


@dataclass(frozen=True)
class Stage:
    """One curriculum stage: x drawn from [0, x_max), ``steps`` sgd steps at ``lr``."""

    x_max: int
    lr: float
    steps: int


def check_method(method: str) -> str:
    if method not in METHODS:
        raise invalid("method", method, "one of " + ", ".join(METHODS))
    return method


def stage_steps(eta: float = 1.0, growth: float = GROWTH, u_in: float = U_IN) -> int:
    """T = SAFETY * (5 / (8 eta)) * (G^2 - 1) / u_in^2: steps to shrink |u| from u_in to u_in / G."""
    return int(math.ceil(SAFETY * 5 / (8 * eta) * (growth ** 2 - 1) / u_in ** 2))


def default_schedule(x_max: int, w0=1.5, eta: float = 1.0, growth: int = GROWTH) -> tuple[Stage, ...]:
    """Stages X_0 = clip(floor(U_IN / max|d0|), 2, x_max), X_{k+1} = G X_k, ..., last X = x_max."""
    x_max = Problem(x_max=x_max).x_max
    d0 = float(np.max(solution_distance(np.atleast_1d(w0))))
    x0 = int(np.clip(math.floor(U_IN / d0) if d0 > 0 else x_max, 2, x_max))
    ranges = [x0]
    while ranges[-1] * growth < x_max:
        ranges.append(ranges[-1] * growth)
    if ranges[-1] != x_max:
        ranges.append(x_max)
    return schedule_from_ranges(ranges, x_max, eta, growth)


def schedule_from_ranges(ranges, x_max: int, eta: float = 1.0, growth: float | None = None) -> tuple[Stage, ...]:
    """Stages over the given increasing ranges, lr_k = eta / X_k^2, T from the largest growth."""
    ranges = check_ranges(ranges, x_max)
    if growth is None:
        growth = max([b / a for a, b in zip(ranges, ranges[1:])] or [1.0])
    T = stage_steps(eta, max(growth, 1.0))
    return tuple(Stage(X, eta / X ** 2, max(T, 1)) for X in ranges)


def check_ranges(ranges, x_max: int) -> list[int]:
    """The schedule's ranges: non-empty, integers >= 2, strictly increasing, last <= x_max."""
    try:
        values = [int(r) for r in ranges]
        if any(int(r) != r for r in ranges):
            raise TypeError
    except (TypeError, ValueError):
        raise invalid("schedule", ranges, "integers >= 2") from None
    if not values:
        raise invalid("schedule", values, "a non-empty list of increasing ranges")
    if any(v < 2 for v in values):
        raise invalid("schedule", values, "integers >= 2")
    if any(b <= a for a, b in zip(values, values[1:])):
        raise invalid("schedule", values, "strictly increasing ranges")
    if values[-1] > x_max:
        raise invalid("schedule", values, f"ranges <= the data's x_max = {x_max}")
    return values


def data_range(data: Data) -> int:
    """The smallest x_max consistent with ``data``: max(x) + 1 (at least 2)."""
    return max(int(data.x.max()) + 1, 2)


def train(method: str, backend: str, data: Data, recipe: Recipe, variant: str | None = None,
          device: str = "cpu", schedule=None, x_max: int | None = None, seed: int = 0) -> Trajectory:
    """Train with ``method``; ``meta`` records the method and, for the curriculum, the stages.

    data: the problem's training set. For the curriculum, x_max (default: ``data_range(data)``)
    and seed set the generator of the early stages; schedule is a tuple of ``Stage`` or a list of
    ranges (default: ``default_schedule``); recipe.lr is eta, recipe.optimizer must be sgd.
    """
    check_method(method)
    variant = registry.check_variant(backend, variant)
    if method == "plain":
        return _tag(registry.train(backend, data, recipe, variant, device), method)
    if method == "scaled":
        return _tag(registry.train(backend, data, replace(recipe, loss="scaled"), variant, device), method)
    return curriculum(backend, data, recipe, variant, device, schedule, x_max, seed)


def _tag(traj: Trajectory, method: str, **more) -> Trajectory:
    meta = dict(traj.meta)
    meta.update(method=method, **more)
    return replace(traj, meta=meta)


def resolve_schedule(schedule, data: Data, recipe: Recipe, x_max: int | None) -> tuple[Stage, ...]:
    """A tuple of Stage from None (default), a list of ranges, or Stages; validated."""
    top = data_range(data) if x_max is None else int(x_max)
    if top < data_range(data):
        raise invalid("x_max", top, f"at least the data's range, {data_range(data)}")
    if schedule is None:
        return default_schedule(top, recipe.w0_array, recipe.lr)
    items = list(schedule)
    if items and all(isinstance(s, Stage) for s in items):
        check_ranges([s.x_max for s in items], top)
        return tuple(items)
    return schedule_from_ranges(items, top, recipe.lr)


def stage_data(stage: Stage, last: bool, data: Data, top: int, seed: int) -> Data:
    """The last stage at the problem's range trains on ``data``; others on the generator at X_k."""
    if last and stage.x_max == top:
        return data
    return datamod.generate(Problem(n=data.n, x_max=stage.x_max, seed=seed))


def curriculum(backend: str, data: Data, recipe: Recipe, variant: str | None = None, device: str = "cpu",
               schedule=None, x_max: int | None = None, seed: int = 0) -> Trajectory:
    """Continuation over ``schedule``: one prepared runner per stage, w carried from stage to stage.

    Returns w, loss of shape (sum T_k + 1, E), the loss of each row measured on its stage's data;
    meta["stages"] lists x_max, lr, steps and first row of every stage.
    """
    if recipe.optimizer != "sgd":
        raise invalid("optimizer", recipe.optimizer, "sgd for the curriculum (its lr_k = eta / X_k^2 is derived for sgd)")
    variant = registry.check_variant(backend, variant)
    device = canonical_device(device)
    top = data_range(data) if x_max is None else int(x_max)
    stages = resolve_schedule(schedule, data, recipe, top)
    ok, why = registry.available(backend, device)
    if not ok:
        raise invalid("backend", backend, f"one that runs on {device} here ({why})")
    mod = registry.get(backend)
    w = recipe.w0_array
    ws, losses, meta_stages = [], [], []
    seconds = 0.0
    row = 0
    for k, st in enumerate(stages):
        d = stage_data(st, k == len(stages) - 1, data, top, seed)
        r = replace(recipe, lr=st.lr, steps=st.steps, w0=tuple(w) if recipe.ensemble > 1 else float(w[0]))
        runner = mod.prepare(d, r, variant, device)
        runner.advance(st.steps)
        t = runner.trajectory()
        ws.append(t.w[:-1])
        losses.append(t.loss[:-1])
        w = t.w[-1]
        seconds += t.seconds
        meta_stages.append({"x_max": st.x_max, "lr": st.lr, "steps": st.steps, "first_row": row,
                            "seconds": t.seconds, "data": "problem" if d is data else "generated"})
        row += st.steps
    ws.append(t.w[-1:])
    losses.append(t.loss[-1:])
    return Trajectory(t.backend, t.variant, t.device, t.dtype, np.concatenate(ws), np.concatenate(losses),
                      seconds=seconds,
                      meta={"method": "curriculum", "eta": recipe.lr, "stages": meta_stages})


def solved(traj: Trajectory, data: Data) -> np.ndarray:
    """bool (E,): outcome "solved" (``impls.outcome.classify``: every training x right, w in the basin)."""
    from .outcome import classify
    return np.array([c == "solved" for c in classify(traj, data)])


def convergence_map(backend: str, x_maxes, lrs, methods, variant: str | None = None, ensemble: int = 4096,
                    steps: int = 100, n: int = 1000, dtype: str = "float32", seed: int = 0,
                    device: str = "cpu", w_range: tuple[float, float] = (1.0, 2.1),
                    processes: int = 1, timeout: float = 600.0) -> list[dict]:
    """Fraction solved per cell (x_max, method, lr) over ``ensemble`` starting weights.

    w0 = linspace(*w_range, ensemble) trained as one ensemble (the backend's batched form:
    torch broadcasting over Linear(1, E), jax.vmap), so a cell is ``ensemble`` trainings.
    plain and scaled run ``steps`` steps; the curriculum runs its default schedule (lr = eta).
    processes > 1 (torch, jax): each cell's members split over that many local processes of the
    framework's own engine (``impls.launch``, shard "ensemble"), gathered before scoring.
    """
    for name, values in (("x_maxes", x_maxes), ("lrs", lrs), ("methods", methods)):
        if not list(values):
            raise invalid(name, list(values), "a non-empty list (the sweep grid has no cells)")
    for m in methods:
        check_method(m)
    w0 = tuple(np.linspace(w_range[0], w_range[1], _int_ensemble(ensemble)))
    cells = []
    for X in x_maxes:
        data = datamod.generate(Problem(n=n, x_max=X, seed=seed))
        for m in methods:
            for lr in lrs:
                recipe = Recipe(lr=lr, w0=w0, steps=steps, dtype=dtype)
                if processes > 1 and backend != "reference":
                    t = _sharded(backend, variant, device, recipe, m, n, X, seed, processes, timeout)
                else:
                    t = train(m, backend, data, recipe, variant, device, x_max=X, seed=seed)
                ok = solved(t, data)
                cells.append({"x_max": X, "method": m, "lr": lr, "ensemble": len(w0), "steps": t.steps,
                              "solved": float(ok.mean()), "seconds": t.seconds})
    return cells


def _sharded(backend, variant, device, recipe: Recipe, method: str, n: int, x_max: int, seed: int,
             processes: int, timeout: float) -> Trajectory:
    """One cell's ensemble split over ``processes`` local processes (``impls.launch``)."""
    from . import launch
    cfg = {"backend": backend, "variant": registry.check_variant(backend, variant), "device": device,
           "problem": {"n": n, "x_max": x_max, "seed": seed}, "recipe": recipe.to_dict(), "shard": "ensemble",
           "method": method, "x_max": x_max, "seed": seed}
    traj, _ = launch.run(cfg, processes, timeout)
    return traj


def _int_ensemble(e) -> int:
    if isinstance(e, bool) or not isinstance(e, (int, np.integer)) or e < 1:
        raise invalid("ensemble", e, "an integer >= 1")
    return int(e)
