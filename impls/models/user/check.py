"""The same-model check: before anything is timed or trained, the torch and JAX implementations
of a user's model must be the model the reference computes.

  1. init is a function of (config, seed): two calls give the same names, shapes and values
     (else each backend, which calls it on its own, would start somewhere else);
  2. batches is a function of (seed, step): steps 0 and 1 drawn together equal them drawn apart;
  3. the reference's gradient has the parameters' names and shapes;
  4. at the initial parameters, on step 0's batch, each backend's loss and the gradient of each
     parameter agree with the float64 reference's within ``tol``;
  5. one step of each backend's eager runner (torch eager, jax jit) moves each parameter as the
     reference's step does, within ``tol`` (the optimizer and the data path in the runner).

The distance (4, 5) is relative L2 per quantity: ||a - r|| / max(||r||, sqrt(eps) ||r_all||),
r the float64 reference's, r_all the whole gradient (so a parameter whose gradient is zero is
measured against the gradient's scale, not divided by 0).

The tolerance is derived from the run's dtype: tol = max(sqrt(eps), 16 self_gap), where eps is the
dtype's machine epsilon (float32 1.19e-7: sqrt 3.45e-4; float64 2.2e-16: sqrt 1.49e-8) and
self_gap is the reference implementation's own distance from itself in float64 when run in the
run's dtype (the rounding of this model's loss at this dtype, measured). sqrt(eps) leaves ~2,900
float32 rounding units for an honest implementation's accumulated rounding (inputs rounded once,
eps/2 per operation, reductions growing like sqrt(N)); the planted mistakes a user makes (a sign, a
factor, a sum for a mean, a transposed weight, a weight-decay term twice) are relative changes of
order 1, or of the size of the extra term. A model whose own rounding is larger (ill-conditioned at
the start) widens the tolerance to 16 times what was measured, and the report says so.

A mismatch raises one ValueError line naming the backend, the quantity (loss or parameter), the
gap and the tolerance, with a hint when the gap has a recognisable shape (a constant factor, a
sign, a multiple of the parameter: a weight-decay term). The CLIs exit 2 on it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ...contract import Model, Train, flatten
from . import info


class Mismatch(ValueError):
    """The two implementations are not the same model (one line)."""


@dataclass
class Report:
    reference: str
    dtype: str
    tol: float
    tol_reason: str
    self_gap: float
    gaps: dict = field(default_factory=dict)  # "torch loss" / "jax grad w" / "torch step w" -> gap
    skipped: list = field(default_factory=list)

    def line(self) -> str:
        worst = max(self.gaps.items(), key=lambda kv: kv[1]) if self.gaps else ("-", 0.0)
        return (f"same model: torch and jax agree with the {self.reference} on the first loss, gradient "
                f"and step ({len(self.gaps)} quantities; largest gap {worst[1]:.2g} at {worst[0]}; tolerance "
                f"{self.tol:.2g} = {self.tol_reason})" + ("; " + "; ".join(self.skipped) if self.skipped else ""))


def _gap(a: np.ndarray, r: np.ndarray, scale: float) -> float:
    a, r = np.asarray(a, np.float64).ravel(), np.asarray(r, np.float64).ravel()
    if not np.isfinite(a).all():
        return math.inf
    denom = max(float(np.linalg.norm(r)), scale, 1e-300)
    return float(np.linalg.norm(a - r)) / denom


def _hint(a, r, p=None, wd_scale=None) -> str:
    a, r = np.asarray(a, np.float64).ravel(), np.asarray(r, np.float64).ravel()
    rr = float(r @ r)
    if rr > 0:
        c = float(a @ r) / rr
        if np.linalg.norm(a - c * r) <= 1e-3 * max(np.linalg.norm(a), 1e-300) and abs(c - 1) > 1e-3:
            if abs(c + 1) < 1e-3:
                return " (the sign is flipped)"
            inv = 1 / c if c else math.inf
            if abs(c) >= 1.5 and abs(c - round(c)) < 1e-3 * abs(c):
                return f" (a factor {c:.4g}: a sum for a mean, or a batch-size factor?)"
            if abs(inv) >= 1.5 and abs(inv - round(inv)) < 1e-3 * abs(inv):
                return f" (a factor 1/{inv:.4g}: a mean for a sum, or a batch-size factor?)"
            return "" if a.size == 1 else f" (a factor {c:.4g})"
    if p is not None:
        p = np.asarray(p, np.float64).ravel()
        d = a - r
        pp = float(p @ p)
        if pp > 0:
            c = float(d @ p) / pp
            if abs(c) > 0 and np.linalg.norm(d - c * p) <= 1e-2 * np.linalg.norm(d):
                return (f" (differs by {c:.3g} x the parameter: a weight-decay term in the loss? the recipe's "
                        "weight_decay is already added to the gradient by torch.optim and optax)")
    if a.size == r.size and a.size > 1:
        n = int(round(math.sqrt(a.size)))
        if n * n == a.size and np.allclose(a.reshape(n, n).T.ravel(), r, rtol=1e-3, atol=1e-6 * max(np.abs(r).max(), 1e-300)):
            return " (it is the reference's transposed: a transposed weight?)"
    return ""


def _reference_module(model: Model):
    from .. import get_backend
    return get_backend(model, "reference"), model.variants["reference"][0]


def same_model(model: Model, cfg, train: Train, device: str = "cpu", backends=("torch", "jax")) -> Report:
    """Run checks 1-5; ``Mismatch`` (one line) at the first failure; the Report otherwise."""
    from .. import get_backend
    src = info(model)["source"]
    seed = train.seed
    # 1. init deterministic
    p0, p1 = model.init(cfg, seed), model.init(cfg, seed)
    if list(p0) != list(p1):
        raise Mismatch(f"same model: {src}.init gives parameters {list(p0)} then {list(p1)}: it must be a function "
                       "of (config, seed)")
    for k in p0:
        if p0[k].shape != p1[k].shape or not np.array_equal(p0[k], p1[k]):
            d = float(np.max(np.abs(p0[k] - p1[k]))) if p0[k].shape == p1[k].shape else math.nan
            raise Mismatch(f"same model: initial parameter {k!r} differs between two calls of {src}.init(seed={seed}) "
                           f"(max |diff| {d:.3g}): each backend would start from other weights; draw from a generator "
                           "seeded by the seed (np.random.default_rng([seed, ...]))")
    # 2. batches deterministic and split-free
    both = model.batches(cfg, seed, 0, 2)
    one = [model.batches(cfg, seed, t, 1) for t in (0, 1)]
    for i, a in enumerate(both):
        for t in (0, 1):
            if i >= len(one[t]) or not np.array_equal(a[t], one[t][i][0]):
                raise Mismatch(f"same model: {src}.batches: array {i} of step {t} differs when drawn with steps 0..1 "
                               "together and alone: the batches must be a function of (seed, step)")
    batch0 = tuple(a[0] for a in both)
    # 3. reference in float64, and its own gap at the run's dtype
    ref, ref_variant = _reference_module(model)
    ref_name = "numpy float64 reference" if info(model)["reference"] == "numpy" else "torch float64 reference (no loss_numpy)"
    L64, g64 = ref.loss_and_grad(cfg, p0, batch0, "float64")
    for k in p0:
        if g64[k].shape != p0[k].shape:
            raise Mismatch(f"same model: the reference's gradient {k!r} has shape {g64[k].shape}, the parameter {p0[k].shape}")
    eps = float(np.finfo(np.dtype(train.dtype)).eps)
    scale_all = float(np.linalg.norm(flatten(g64)))
    gscale = math.sqrt(eps) * scale_all
    self_gap = 0.0
    if train.dtype != "float64":
        Ld, gd = ref.loss_and_grad(cfg, p0, batch0, train.dtype)
        self_gap = max([_gap([Ld], [L64], 0.0)] + [_gap(gd[k], g64[k], gscale) for k in p0])
    tol = math.sqrt(eps)
    reason = f"sqrt(eps) of {train.dtype}"
    if 16 * self_gap > tol:
        tol, reason = 16 * self_gap, f"16 x the reference's own {train.dtype} gap {self_gap:.2g} (above sqrt(eps) {math.sqrt(eps):.2g})"
    rep = Report(ref_name, train.dtype, tol, reason, self_gap)
    # 4. each backend's loss and gradient at the start
    from .. import model_available
    live = []
    for b in backends:
        ok, why = model_available(model, b, device)
        if not ok:
            rep.skipped.append(f"{b} skipped ({why})")
            continue
        live.append(b)
        mod = get_backend(model, b)
        L, g = mod.loss_and_grad(cfg, p0, batch0, train.dtype, device)
        if set(g) != set(p0):
            raise Mismatch(f"same model: {b}'s parameters {sorted(g)} against the reference's {sorted(p0)}")
        gap = _gap([L], [L64], 0.0)
        rep.gaps[f"{b} loss"] = gap
        if not gap <= tol:
            apart = [(k, _gap(g[k], g64[k], gscale)) for k in p0]
            lh = _hint([L], [L64])
            apart = [f"{k!r} (gap {gk:.2g}{'' if _hint(g[k], g64[k], p0[k]) == lh else _hint(g[k], g64[k], p0[k])})"
                     for k, gk in apart if not gk <= tol]
            raise Mismatch(f"same model: {b}'s first loss {L:.6g} against the {ref_name}'s {L64:.6g} on step 0's batch: "
                           f"relative gap {gap:.3g} > tolerance {tol:.2g} ({reason}){lh}; "
                           + (f"the gradient differs too in {', '.join(apart)}" if apart else "every gradient agrees")
                           + f"; a bug in {src}.loss_{b} or in the reference (docs/models.md: reading a disagreement)")
        for k in p0:
            gap = _gap(g[k], g64[k], gscale)
            rep.gaps[f"{b} grad {k}"] = gap
            if not gap <= tol:
                raise Mismatch(f"same model: {b}'s gradient of {k!r} {_show(g[k])} against the {ref_name}'s {_show(g64[k])}: "
                               f"relative gap {gap:.3g} > tolerance {tol:.2g} ({reason}){_hint(g[k], g64[k], p0[k])}; "
                               f"the first loss agrees ({rep.gaps[f'{b} loss']:.2g}), so the loss's dependence on {k!r} differs")
    # 5. one step of each eager runner against the reference's step, in the run's dtype
    one_step = replace(train, steps=1)
    r = ref.prepare(cfg, one_step, ref_variant, "cpu")
    r.advance(1)
    ref_p = r.params()
    pd = {k: np.asarray(p0[k], np.float64).astype(train.dtype).astype(np.float64) for k in p0}
    for b in live:
        mod = get_backend(model, b)
        run = mod.prepare(cfg, one_step, model.variants[b][0], device)
        start = run.params()
        for k in p0:
            if not np.array_equal(start[k], pd[k]):
                raise Mismatch(f"same model: {b}'s runner starts {k!r} at {_show(start[k])}, not at init's {_show(pd[k])}")
        run.advance(1)
        got = run.params()
        for k in p0:
            dr = ref_p[k] - pd[k]
            da = got[k] - pd[k]
            floor = 4 * eps * float(np.linalg.norm(pd[k])) / max(float(np.linalg.norm(dr)), 1e-300)  # cancellation in p1 - p0
            gap = _gap(da, dr, gscale * train.optim.lr)
            rep.gaps[f"{b} step {k}"] = gap
            if not gap <= tol + floor:
                raise Mismatch(f"same model: {b}'s first step moves {k!r} by {_show(da)} against the {ref_name}'s "
                               f"{_show(dr)}: relative gap {gap:.3g} > tolerance {tol + floor:.2g} (the loss and gradient "
                               "agreed: the update or the data path differs)")
    return rep


def _show(a) -> str:
    a = np.asarray(a, np.float64).ravel()
    s = ", ".join(f"{v:.4g}" for v in a[:3])
    return f"[{s}{', ...' if a.size > 3 else ''}]"
