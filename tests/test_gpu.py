"""GPU paths: the equivalence checks on torch cuda and jax gpu; each skips with the reason here."""
from __future__ import annotations

import numpy as np
import pytest

import impls
from impls import Problem, Recipe

from conftest import require
from test_equivalence import OPTIMIZERS, PROBLEM, STEPS, assert_steps, truth
from tolerances import loss_grad_truth

GPU_CASES = [("torch", "eager"), ("torch", "compiled"), ("torch", "graphed"), ("jax", "jit"), ("jax", "scan")]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_gpu_loss_and_grad(backend, dtype):
    require(backend, "gpu")
    for x_max in (2, 1000, 10**6):
        d = impls.generate(Problem(n=1000, x_max=x_max, seed=x_max % 1009))
        w = np.append(np.random.RandomState(x_max).uniform(-4, 4, 8), np.pi / 2)
        L, G = impls.get(backend).loss_and_grad(d, w, dtype, device="gpu")
        L0, G0, tol_L, tol_G = loss_grad_truth(d, w, dtype)
        assert np.all(np.abs(L - L0) <= tol_L) and np.all(np.abs(G - G0) <= tol_G), (x_max, L - L0, G - G0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("opt", list(OPTIMIZERS))
@pytest.mark.parametrize("backend,variant", GPU_CASES)
def test_gpu_twenty_steps_match_reference(backend, variant, opt, dtype):
    require(backend, "gpu", variant)
    ref, tol_w, tol_L = truth(opt, dtype)
    traj = impls.train(backend, impls.generate(PROBLEM), Recipe(**OPTIMIZERS[opt], steps=STEPS, dtype=dtype),
                       variant, "gpu")
    assert traj.device == "gpu" and traj.w.shape == (STEPS + 1, 1)
    assert_steps(traj, ref, tol_w, tol_L, f"{backend}-{variant} {opt} {dtype} on gpu")


@pytest.mark.parametrize("backend,variant", GPU_CASES)
def test_gpu_ensemble_and_cuda_spelling(backend, variant):
    """'cuda' and 'gpu' name the same device; an ensemble runs there as on the CPU."""
    require(backend, "gpu")
    d = impls.generate(PROBLEM)
    r = Recipe(optimizer="adam", lr=1e-2, w0=(1.5, 1.2, 1.9), steps=5, dtype="float64")
    cpu = impls.train(backend, d, r, "compiled" if variant == "graphed" else variant, "cpu")
    gpu = impls.train(backend, d, r, variant, "cuda")
    assert gpu.device == "gpu"
    # float64, 5 well-conditioned steps: both within ~1e-14 of each other (same bound as truth())
    np.testing.assert_allclose(gpu.w, cpu.w, rtol=0, atol=1e-12)
