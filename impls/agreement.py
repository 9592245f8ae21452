"""The input-range matrix: does every backend end the way the float64 reference ends?

A case is (backend, variant, device, dtype, x_max, recipe) on n = 1000 integers from [0, x_max)
(seed 0), w0 = 1.5, 300 steps. Its verdict, against the numpy float64 reference of the same
x_max and recipe:
  - not chaotic (the backend's w stays within ``part_tol`` = max(h/10, 2 ulp) of the reference's for all 300
    steps): its outcome must equal the reference's;
  - chaotic (the trajectories part before the end): the single outcomes may differ, so the same
    recipe is run as an ensemble of 256 starting weights ``linspace(1.0, 2.0, 256)`` and, for each
    outcome class, the backend's fraction must agree with the reference's within
    ``proportion_bound``.

The bound (a two-proportion z-test). If, once chaos has scrambled them, the members of both
ensembles end in class c independently with the same probability p, the difference of the two
fractions has standard deviation sqrt(p (1 - p) (1/n_a + 1/n_b)); p is estimated by the pooled
fraction. ``Z = 4.5`` standard deviations: a false alarm has probability 7e-6 per comparison, so
the whole matrix (<= 80 cases x 5 backends x 4 classes = 1600 comparisons) raises one with
probability ~1%. Members that have not parted agree exactly, which only narrows the spread, so the
bound is conservative for them. With n = 256 the bound is at most 4.5 * 0.044 = 0.20 (p = 1/2) and
0.012 when one ensemble has a single member in a class and the other none.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from . import registry
from .data import generate
from .outcome import OUTCOMES, classify, fractions, horizon, part_tol
from .spec import Problem, Recipe, Trajectory, invalid

X_MAXES = (2, 4, 6, 8, 16, 32, 100, 1000, 10**4, 10**6)
RECIPES = {  # short stable name -> Recipe fields
    "sgd-lr0.0004": dict(optimizer="sgd", lr=4e-4),
    "sgd-lr0.01": dict(optimizer="sgd", lr=1e-2),
    "momentum0.9-lr0.001": dict(optimizer="momentum", lr=1e-3, momentum=0.9),
    "adam-lr0.01": dict(optimizer="adam", lr=1e-2),
}
N, W0, STEPS, SEED = 1000, 1.5, 300, 0
ENSEMBLE = 256
Z = 4.5


def ensemble_w0(size: int = ENSEMBLE) -> tuple[float, ...]:
    """``size`` starting weights evenly spread over [1.0, 2.0] (both ends included)."""
    return tuple(float(v) for v in np.linspace(1.0, 2.0, size))


@lru_cache(maxsize=None)
def case_data(x_max: int):
    """The matrix's training set for ``x_max``: Problem(n=1000, x_max, seed=0)."""
    return generate(Problem(n=N, x_max=x_max, seed=SEED))


def recipe(name: str, dtype: str, w0=W0, steps: int = STEPS) -> Recipe:
    """The matrix recipe ``name`` (a key of RECIPES) in ``dtype`` from ``w0``."""
    if name not in RECIPES:
        raise invalid("recipe", name, "one of " + ", ".join(RECIPES))
    return Recipe(w0=w0, steps=steps, dtype=dtype, **RECIPES[name])


def case_id(backend: str, variant: str, device: str, dtype: str, x_max: int, recipe_name: str) -> str:
    """Stable id, e.g. ``agree-torch-eager-cpu-f32-x1000-sgd-lr0.0004``."""
    return f"agree-{backend}-{variant}-{device}-f{dtype[-2:]}-x{x_max}-{recipe_name}"


def proportion_bound(p_a: float, p_b: float, n_a: int, n_b: int, z: float = Z) -> float:
    """z * sqrt(p (1 - p) (1/n_a + 1/n_b)), p the pooled fraction: the allowed |p_a - p_b|."""
    p = (p_a * n_a + p_b * n_b) / (n_a + n_b)
    return z * math.sqrt(p * (1 - p) * (1 / n_a + 1 / n_b))


def compare_fractions(ref: list[str], other: list[str], z: float = Z) -> list[str]:
    """One line per outcome class whose fractions differ by more than ``proportion_bound``."""
    fr, fo = fractions(ref), fractions(other)
    bad = []
    for c in OUTCOMES:
        b = proportion_bound(fr[c], fo[c], len(ref), len(other), z)
        if abs(fr[c] - fo[c]) > b:
            bad.append(f"{c} {fo[c]:.3f} vs reference {fr[c]:.3f} (bound {b:.3f})")
    return bad


_REF_CACHE: dict = {}


def reference(x_max: int, recipe_name: str, ensemble: bool = False) -> Trajectory:
    """The numpy float64 trajectory of a matrix case (cached): w0 = 1.5, or the 256-member ensemble."""
    key = (x_max, recipe_name, ensemble)
    if key not in _REF_CACHE:
        r = recipe(recipe_name, "float64", ensemble_w0() if ensemble else W0)
        _REF_CACHE[key] = registry.train("reference", case_data(x_max), r, "numpy", "cpu")
    return _REF_CACHE[key]


@dataclass
class CaseResult:
    """A case's verdict; ``extra_info()`` is what the benchmark stores beside its timing."""

    id: str
    backend: str
    variant: str
    device: str
    dtype: str
    x_max: int
    recipe: str
    outcome: str
    reference_outcome: str
    chaotic: bool
    horizon: int | None
    tol: float
    final_w: float
    reference_final_w: float
    fractions: dict = field(default_factory=dict)
    reference_fractions: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def message(self) -> str:
        """One paragraph naming the case, the backends, their outcomes and the horizon."""
        head = (f"{self.id}: {self.backend}-{self.variant} {self.dtype} on {self.device} ended "
                f"'{self.outcome}' (w={self.final_w:.8g}), reference-numpy float64 ended "
                f"'{self.reference_outcome}' (w={self.reference_final_w:.8g}); horizon "
                f"{self.horizon if self.horizon is not None else 'never'} of {STEPS} steps "
                f"(tol {self.tol:.2g}), {'chaotic' if self.chaotic else 'not chaotic'}")
        return head + ("" if self.ok else "; " + "; ".join(self.failures))

    def extra_info(self) -> dict:
        r = RECIPES[self.recipe]
        return {"kind": "agreement", "backend": self.backend, "variant": self.variant,
                "device": self.device, "dtype": self.dtype, "x_max": self.x_max, "recipe": self.recipe,
                "optimizer": r["optimizer"], "lr": r["lr"], "outcome": self.outcome,
                "reference_outcome": self.reference_outcome, "chaotic": self.chaotic,
                "horizon": self.horizon, "tol": self.tol, "final_w": self.final_w,
                "reference_final_w": self.reference_final_w, "fractions": self.fractions,
                "reference_fractions": self.reference_fractions, "ensemble": ENSEMBLE if self.fractions else 0,
                "z": Z, "agree": self.ok}


def judge(traj: Trajectory, x_max: int, recipe_name: str, ensemble_traj=None) -> CaseResult:
    """The verdict for ``traj`` (a single run of the case). ``ensemble_traj``: a callable
    () -> the same backend's 256-member Trajectory, called only if the case is chaotic."""
    data = case_data(x_max)
    ref = reference(x_max, recipe_name)
    tol = part_tol(data, traj.dtype)
    hz = horizon(traj, ref, tol)[0]
    res = CaseResult(case_id(traj.backend, traj.variant, traj.device, traj.dtype, x_max, recipe_name),
                     traj.backend, traj.variant, traj.device, traj.dtype, x_max, recipe_name,
                     classify(traj, data)[0], classify(ref, data)[0], hz is not None, hz, tol,
                     float(traj.w[-1, 0]), float(ref.w[-1, 0]))
    if not res.chaotic:
        if res.outcome != res.reference_outcome:
            res.failures.append("outcomes differ although the trajectories never parted")
        return res
    if ensemble_traj is None:
        res.failures.append("chaotic, and no ensemble was run to check it statistically")
        return res
    ref_out = classify(reference(x_max, recipe_name, ensemble=True), data)
    out = classify(ensemble_traj(), data)
    res.reference_fractions, res.fractions = fractions(ref_out), fractions(out)
    res.failures += [f"ensemble of {ENSEMBLE}: " + line for line in compare_fractions(ref_out, out)]
    return res


def run_case(backend: str, variant: str, device: str, dtype: str, x_max: int, recipe_name: str,
             ensemble: bool = True) -> CaseResult:
    """Train the case (and, if chaotic and ``ensemble``, its 256-member ensemble) and judge it."""
    data = case_data(x_max)
    traj = registry.train(backend, data, recipe(recipe_name, dtype), variant, device)
    ens = (lambda: registry.train(backend, data, recipe(recipe_name, dtype, ensemble_w0()), variant, device))
    return judge(traj, x_max, recipe_name, ens if ensemble else None)
