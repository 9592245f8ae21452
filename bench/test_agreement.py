"""The input-range matrix, timed: every case's full training run, then its agreement verdict.

Case = device x (backend, variant) x dtype x x_max x recipe (``impls.agreement``); n = 1000,
w0 = 1.5, 300 steps. The timed call is one full training run as a user makes it
(``registry.train``: prepare, first-call compile for jit/compiled variants, 300 steps, copy back);
its ``extra_info`` (kind "agreement") holds the outcome, the float64 reference's outcome, whether
the case is chaotic, the horizon against the reference (tol h/10), the final w and, for chaotic
cases, the 256-member ensembles' outcome fractions. The verdict (``impls.agreement.judge``) is
asserted after the timing, so a disagreeing case is recorded and then fails with its message.

Profiles (fixture ``profile`` of bench/conftest.py; "default" when absent; ``in_profile``):
  quick    x_max = 6, the seed's recipe, float32: one case, each framework's runs.
  default  the seed's recipe (sgd lr 4e-4) at x_max 6 and 1000, every backend but torch compiled
           (and compiled-tuned), both dtypes: 18 cases per device, ~1-2 min on 2 CPU cores
           (ensembles dominate). The tuned tier (docs/gap.md) runs every case its default
           siblings run, except in quick.
  full     the whole matrix, 10 x_max x 4 recipes x 9 backend/dtype runs = 360 cases
           per device (~50 chaotic combinations run 256-member ensembles): ~25-40 min on 2 cores.
"""
from __future__ import annotations

import pytest

from bench import frameworks

from impls import agreement as A
from impls import registry

RUNS = (("reference", "numpy"), ("torch", "eager"), ("torch", "compiled"), ("jax", "jit"), ("jax", "scan"),
        ("torch", "compiled-tuned"), ("jax", "scan-tuned"))  # the tuned tier: the same cases
DEFAULT = dict(x_max=(6, 1000), recipes=("sgd-lr0.0004",), skip_variants=("compiled", "compiled-tuned"))


def cases():
    for device in ("cpu", "gpu"):
        for backend, variant in RUNS:
            for dtype in ("float32", "float64"):
                if backend == "reference" and dtype == "float64":
                    continue  # the ground truth itself
                for x_max in A.X_MAXES:
                    for name in A.RECIPES:
                        yield pytest.param(device, backend, variant, dtype, x_max, name,
                                           id=A.case_id(backend, variant, device, dtype, x_max, name))


def _fixture(request, name, default):
    try:
        return request.getfixturevalue(name)
    except pytest.FixtureLookupError:
        return default


def in_profile(profile: str, test: str, params: dict) -> bool:
    """Whether the case belongs to ``profile`` (bench/conftest.py deselects the others at collection).
    quick: one agreement case, x_max = 6 with the seed's recipe in float32, each framework's runs."""
    if profile == "full":
        return True
    if profile == "quick" and (params["x_max"] != 6 or params["dtype"] != "float32"
                               or params["variant"].endswith("-tuned")):
        return False
    return (params["x_max"] in DEFAULT["x_max"] and params["recipe_name"] in DEFAULT["recipes"]
            and params["variant"] not in DEFAULT["skip_variants"])


@pytest.mark.parametrize("device,backend,variant,dtype,x_max,recipe_name", list(cases()))
def test_agreement(benchmark, request, device, backend, variant, dtype, x_max, recipe_name):
    profile = _fixture(request, "profile", "default")
    frameworks.skip_unless_runs(backend, device, _fixture(request, "bench_settings", {}))

    data = A.case_data(x_max)
    recipe = A.recipe(recipe_name, dtype)
    traj = benchmark.pedantic(registry.train, args=(backend, data, recipe, variant, device),
                              rounds=1, iterations=1)
    ensemble = lambda: registry.train(backend, data, A.recipe(recipe_name, dtype, A.ensemble_w0()),
                                      variant, device)
    res = A.judge(traj, x_max, recipe_name, ensemble)
    benchmark.extra_info.update(res.extra_info())
    benchmark.extra_info.update({"steps": A.STEPS, "n": A.N, "w0": A.W0, "profile": profile,
                                 "step_seconds": traj.seconds,
                                 "timed": "registry.train: prepare + compile on first call + 300 steps"})
    assert res.ok, res.message()
