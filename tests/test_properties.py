"""Property-based tests (hypothesis) over random problems and recipes. Fast: few examples, no
torch.compile (its compile per example would dominate the suite's time budget)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import impls
from impls import Problem, Recipe

from conftest import require
from tolerances import loss_grad_truth, trajectory_truth

# derandomize: CI checks the same examples every run, so a red run is reproducible
FAST = settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

problems = st.builds(Problem, n=st.integers(1, 200), x_max=st.integers(2, 40), seed=st.integers(0, 2**32 - 1))
recipes = st.builds(
    Recipe, optimizer=st.sampled_from(impls.OPTIMIZERS), lr=st.floats(1e-4, 2e-2),
    w0=st.floats(0.5, 2.5), steps=st.integers(0, 6), dtype=st.sampled_from(impls.DTYPES),
    nesterov=st.booleans(), loss=st.sampled_from(impls.LOSSES))


@FAST
@given(problems)
def test_data_properties(p):
    d = impls.generate(p)
    assert d.n == p.n and d.x.min() >= 0 and d.x.max() < p.x_max
    np.testing.assert_array_equal(d.y, d.x % 2)
    np.testing.assert_array_equal(impls.generate(p).x, d.x)


@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])  # jit per example
@given(problems, recipes, st.sampled_from([("reference", "numpy"), ("torch", "eager"), ("jax", "jit"), ("jax", "scan")]))
def test_runs_match_the_reference_within_the_bound(p, r, case):
    """Any small problem and recipe: shapes, w[0] = fl(w0), every step within the derived bound
    (for problems whose dynamics stay non-chaotic over the run, checked by the amplification)."""
    backend, variant = case
    require(backend)
    d = impls.generate(p)
    ref = impls.train("reference", d, Recipe(**{**r.__dict__, "dtype": "float64"}))
    tol_w, tol_L, amp = trajectory_truth(d, r, ref.w[:, 0])
    assume(amp < 100)
    t = impls.train(backend, d, r, variant)
    assert t.w.shape == t.loss.shape == (r.steps + 1, 1)
    assert t.w[0, 0] == float(np.asarray(r.w0).astype(r.dtype))
    assert np.all(np.abs(t.w[:, 0] - ref.w[:, 0]) <= tol_w), (np.abs(t.w[:, 0] - ref.w[:, 0]), tol_w)
    assert np.all(np.abs(t.loss[:, 0] - ref.loss[:, 0]) <= tol_L)


@FAST
@given(problems, st.lists(st.floats(-4, 4), min_size=1, max_size=5), st.sampled_from(impls.DTYPES),
       st.sampled_from(impls.BACKENDS))
def test_loss_and_grad_within_the_bound(p, w, dtype, backend):
    require(backend)
    d = impls.generate(p)
    L, G = impls.get(backend).loss_and_grad(d, w, dtype)
    L0, G0, tol_L, tol_G = loss_grad_truth(d, w, dtype)
    assert np.all(np.abs(L - L0) <= tol_L) and np.all(np.abs(G - G0) <= tol_G)
    assert np.all(L >= 0)


@FAST
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10)))
def test_lr_accepted_iff_finite_and_positive(lr):
    ok = math.isfinite(lr) and lr > 0
    if ok:
        assert Recipe(lr=lr).lr == float(lr)
    else:
        with pytest.raises(ValueError, match=r"^lr: got .*; allowed: ") as e:
            Recipe(lr=lr)
        assert "\n" not in str(e.value)


@FAST
@given(st.integers(-5, 2**25))
def test_x_max_accepted_iff_in_range(x_max):
    if 2 <= x_max <= 2**24:
        assert Problem(x_max=x_max).x_max == x_max
    else:
        with pytest.raises(ValueError, match=r"^x_max: got "):
            Problem(x_max=x_max)
