"""Same input, same function: every backend x variant x dtype against the float64 reference.

Tolerances are derived in ``tolerances.py`` (rounding analysis of one evaluation, propagated through
the exactly linearized dynamics for trajectories), not fitted to measurements.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest

import impls
from impls import BACKENDS, DTYPES, LOSSES, VARIANTS, Problem, Recipe
from impls.spec import Data

from conftest import require
from tolerances import POW_ULP, U, bound, loss_grad_truth, terms, trajectory_truth, trig_ulp

CASES = [(b, v) for b in BACKENDS for v in VARIANTS[b]]
X_MAX = [2, 10, 1000, 10**4, 10**6]

# 20 steps on 64 integers from [0, 16): small x keeps the gradient tame, so the dynamics are not
# chaotic (trajectory_truth measures it: any perturbation is amplified < 5x over the 20 steps,
# against ~100x per step at x_max = 1000), and the runs still move w by ~0.1 towards pi/2.
PROBLEM = Problem(n=64, x_max=16, seed=3)
STEPS = 20
OPTIMIZERS = {
    "sgd": dict(optimizer="sgd", lr=1e-2),
    "momentum": dict(optimizer="momentum", lr=1e-2, momentum=0.9),
    "nesterov": dict(optimizer="momentum", lr=1e-2, momentum=0.9, nesterov=True),
    "adam": dict(optimizer="adam", lr=1e-2),
}
MAX_AMPLIFICATION = 100.0  # a first-order bound is meaningful only while perturbations stay small


@pytest.fixture(scope="module")
def data() -> Data:
    return impls.generate(PROBLEM)


@functools.lru_cache(maxsize=None)
def truth(opt: str, dtype: str, tier: str = "default", device: str = "cpu"):
    """(float64 reference trajectory, tol_w, tol_L) for OPTIMIZERS[opt] in dtype, with the tier's
    sin/cos error bound (``tolerances.trig_ulp``) and the device's pow bound (``POW_ULP``)."""
    d = impls.generate(PROBLEM)
    ref = impls.train("reference", d, Recipe(**OPTIMIZERS[opt], steps=STEPS, dtype="float64"))
    tol_w, tol_L, amp = trajectory_truth(d, Recipe(**OPTIMIZERS[opt], steps=STEPS, dtype=dtype),
                                         ref.w[:, 0], trig_ulp(tier, dtype), POW_ULP[device])
    assert amp < MAX_AMPLIFICATION, f"{opt}: perturbations amplified {amp:.3g}x: chaotic, pick another problem"
    return ref, tol_w, tol_L


def assert_steps(traj, ref, tol_w, tol_L, label: str) -> None:
    """Every recorded step t of traj (w and loss) within tol[t] of the reference."""
    T = traj.steps + 1
    for name, got, want, tol in (("w", traj.w[:, 0], ref.w[:T, 0], tol_w[:T]),
                                 ("loss", traj.loss[:, 0], ref.loss[:T, 0], tol_L[:T])):
        err = np.abs(got - want)
        bad = np.flatnonzero(~(err <= tol))
        assert bad.size == 0, (f"{label}: {name}[{bad[0]}] = {got[bad[0]]!r}, reference {want[bad[0]]!r}, "
                               f"|diff| {err[bad[0]]:.3g} > tol {tol[bad[0]]:.3g}")


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("x_max", X_MAX)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_loss_and_grad_match_float64_truth(backend, dtype, x_max, loss):
    """L and dL/dw at 8 random w (and pi/2) on 1000 random x: within the derived bound."""
    require(backend)
    d = impls.generate(Problem(n=1000, x_max=x_max, seed=x_max % 1009))
    w = np.append(np.random.RandomState(x_max).uniform(-4, 4, 8), np.pi / 2)
    L, G = impls.get(backend).loss_and_grad(d, w, dtype, loss=loss)
    assert L.shape == G.shape == w.shape and L.dtype == G.dtype == np.float64
    L0, G0, tol_L, tol_G = loss_grad_truth(d, w, dtype, loss)
    assert np.all(np.abs(L - L0) <= tol_L), (np.abs(L - L0), tol_L)
    assert np.all(np.abs(G - G0) <= tol_G), (np.abs(G - G0), tol_G)
    if dtype == "float64":  # tight: ~1e-13 of the gradient's scale, far below any real bug
        assert np.all(tol_G <= 1e-12 * (np.abs(terms(d, np.outer(d.x, w))[1]).mean(0) + d.x.mean()))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("x_max", [2, 10, 1000])
def test_reference_gradient_is_the_derivative(x_max, loss):
    """The closed form against the complex-step derivative Im L(w + ih) / h (exact to roundoff)."""
    d = impls.generate(Problem(n=500, x_max=x_max, seed=1))
    w, h = np.random.RandomState(2).uniform(-4, 4, 6), 1e-30
    x, y = d.x.astype(np.float64)[:, None], d.y[:, None]
    q = 1.0 if loss == "mse" else 1 / np.maximum(x, 1) ** 2
    cs = ((np.sin((w + 1j * h)[None, :] * x) ** 2 - y) ** 2 * q).mean(0).imag / h
    _, G = impls.get("reference").loss_and_grad(d, w, "float64", loss=loss)
    tl, tg = terms(d, np.outer(d.x, w), loss)
    _, tol = bound(d, tl, tg, U["float64"], loss)
    assert np.all(np.abs(G - cs) <= 2 * tol), (np.abs(G - cs), tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opt", list(OPTIMIZERS))
@pytest.mark.parametrize("backend,variant", CASES)
def test_one_step_then_twenty_match_reference(backend, variant, opt, dtype, data):
    """advance(1), check step 1; advance(19), check all 20 steps (w and loss, every step); the
    tuned tier within tolerances derived from its polynomials' error bound."""
    require(backend, variant=variant)
    ref, tol_w, tol_L = truth(opt, dtype, impls.TIER.get(variant, "default"))
    recipe = Recipe(**OPTIMIZERS[opt], steps=STEPS, dtype=dtype)
    runner = impls.get(backend).prepare(data, recipe, variant)
    assert runner.trajectory().w.shape == (1, 1)  # prepared, no step taken
    runner.advance(1)
    one = runner.trajectory()
    assert one.w.shape == one.loss.shape == (2, 1)
    assert (one.backend, one.variant, one.dtype, one.device) == (backend, variant, dtype, "cpu")
    assert_steps(one, ref, tol_w, tol_L, f"{backend}-{variant} {opt} {dtype} one step")
    runner.advance(STEPS - 1)
    full = runner.trajectory()
    assert full.w.shape == full.loss.shape == (STEPS + 1, 1)
    np.testing.assert_array_equal(full.w[:2], one.w)  # history is kept, not recomputed
    assert_steps(full, ref, tol_w, tol_L, f"{backend}-{variant} {opt} {dtype} {STEPS} steps")
    assert abs(full.w[-1, 0] - full.w[0, 0]) > 0.01  # the runs do move


def test_bound_is_not_vacuous(data):
    """The float32 trajectory tolerance stays far below the distance the weights travel."""
    for opt in OPTIMIZERS:
        ref, tol_w, _ = truth(opt, "float32")
        assert tol_w.max() < 1e-3 * np.abs(ref.w[-1, 0] - ref.w[0, 0]) + 1e-4
        ref, tol_w, _ = truth(opt, "float64")
        assert tol_w.max() < 1e-12


def test_float64_jax_leaves_x64_off(data):
    """A float64 JAX run (prepare, advance, trajectory, loss_and_grad) does not leak x64."""
    require("jax")
    import jax
    import jax.numpy as jnp

    assert not jax.config.jax_enable_x64
    for variant in VARIANTS["jax"]:
        traj = impls.train("jax", data, Recipe(optimizer="adam", lr=1e-2, steps=3, dtype="float64"), variant)
        assert traj.dtype == "float64" and not jax.config.jax_enable_x64
    impls.get("jax").loss_and_grad(data, [1.5], "float64")
    assert not jax.config.jax_enable_x64
    assert jnp.zeros(1).dtype == jnp.float32 and jnp.asarray(1.0).dtype == jnp.float32


def test_float64_jax_really_is_float64(data):
    """x64 is on inside the run: float64 and float32 trajectories differ, float64 ones are exact."""
    require("jax")
    r = dict(optimizer="sgd", lr=1e-2, w0=1.1, steps=2)
    w64 = impls.train("jax", data, Recipe(**r, dtype="float64")).w
    w32 = impls.train("jax", data, Recipe(**r, dtype="float32")).w
    assert w64[0, 0] == 1.1 and w32[0, 0] == float(np.float32(1.1))


def test_torch_compiled_is_compiled_past_dynamo_recompile_limit(data):
    """Each compiled Runner recompiles optimizer.step (dynamo guards on the optimizer's id); past
    dynamo's limit (8 per function) it silently ran eager. Compiled must stay compiled."""
    require("torch")
    import torch

    recipe = Recipe(optimizer="sgd", lr=1e-2, steps=2)
    with torch._dynamo.config.patch(recompile_limit=1, fail_on_recompile_limit_hit=True):
        for _ in range(2):
            runner = impls.get("torch").prepare(data, recipe, "compiled")
            runner.advance(2)
