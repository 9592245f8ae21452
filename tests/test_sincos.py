"""The tuned tier's sin and cos (impls/sincos.py): constants, error bound over the whole argument
range in numpy and in each framework, and the fallback beyond the polynomials' range."""
from __future__ import annotations

from decimal import Decimal, getcontext

import numpy as np
import pytest

import impls
from impls import Problem, Recipe, sincos

from conftest import require
from tolerances import loss_grad_truth, trig_ulp


def _significant_bits(v: float) -> int:
    m, _ = np.frexp(abs(v))
    bits = 0
    while m != int(m):
        m *= 2
        bits += 1
    return bits


def test_reduction_constants():
    """P1, P2 carry <= 26 bits (k P1, k P2 exact for |k| < 2^27 > T_MAX 2/pi + 1) and
    P1 + P2 + P3 is pi/2 to float64's precision of the remainder (~2^-105 relative)."""
    assert _significant_bits(sincos.P1) <= 26 and _significant_bits(sincos.P2) <= 26
    assert sincos.T_MAX * 2 / np.pi + 1 < 2**27
    getcontext().prec = 80
    half_pi = Decimal(sincos._PI) / 2
    err = abs(Decimal(sincos.P1) + Decimal(sincos.P2) + Decimal(sincos.P3) - half_pi)
    assert err < Decimal(2) ** -100


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_numpy_mirror_within_bound_over_the_range(dtype):
    """Max ulp error over 3.4M arguments on [0, T_MAX), the seed's band and fl(w x) for x < 2^24."""
    t = sincos.arguments(dtype)
    es, ec = sincos.max_ulp_error(sincos.sincos, t)
    assert es <= sincos.ULP_BOUND[dtype] and ec <= sincos.ULP_BOUND[dtype], (es, ec)
    assert es > 0.4 and ec > 0.4  # the check sees rounding at all (not comparing a thing with itself)


def _jax_sincos(dtype):
    import jax

    from impls import jax_backend as jb

    def run(t):
        with jb.precision(dtype, tuned=True):
            f = jax.jit(jb.poly_sincos, compiler_options=jb.tuned_options("cpu") or None)
            s, c = f(t)
            return np.asarray(s), np.asarray(c)
    return run


def _torch_sincos(dtype):
    import torch

    from impls import torch_backend as tb
    f = torch.compile(tb.poly_sincos, dynamic=False)
    return lambda t: tuple(a.numpy() for a in f(torch.as_tensor(t)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_framework_polynomials_within_bound(backend, dtype):
    """Each framework's compiled poly_sincos, as the tuned variants run it (compilers may contract
    a * b + c into one rounding, so it is measured, not assumed equal to the numpy mirror), within
    ULP_BOUND of the truth over the same arguments."""
    require(backend)
    t = sincos.arguments(dtype, n=1 << 18)
    fn = _jax_sincos(dtype) if backend == "jax" else _torch_sincos(dtype)
    es, ec = sincos.max_ulp_error(fn, t)
    assert es <= sincos.ULP_BOUND[dtype] and ec <= sincos.ULP_BOUND[dtype], (es, ec)
    s, c = fn(t)
    assert s.dtype == np.dtype(dtype) and c.dtype == np.dtype(dtype)


@pytest.mark.parametrize("backend,variant", [("jax", "scan-tuned"), ("torch", "compiled-tuned")])
def test_beyond_the_range_falls_back_to_the_framework(backend, variant):
    """max|w| max|x| >= T_MAX: the tuned variant's losses still match the float64 truth (with the
    default tier's error bound: the framework's own sin and cos run there)."""
    require(backend)
    d = impls.generate(Problem(n=256, x_max=2**24, seed=5))
    w0 = 6.0
    assert w0 * d.x.max() >= sincos.T_MAX
    traj = impls.train(backend, d, Recipe(optimizer="sgd", lr=1e-20, w0=w0, steps=2), variant)
    for t in range(3):
        L0, _, tol_L, _ = loss_grad_truth(d, [traj.w[t, 0]], "float32", "mse", trig_ulp("default", "float32"))
        assert abs(traj.loss[t, 0] - L0[0]) <= tol_L[0], (t, traj.loss[t, 0], L0[0], tol_L[0])


@pytest.mark.parametrize("backend", ["reference", "jax", "torch"])
def test_tuned_ops_refuse_arguments_beyond_the_range(backend):
    require(backend)
    d = impls.generate(Problem(n=64, x_max=2**24, seed=1))
    with pytest.raises(ValueError, match="^w: got"):
        impls.get(backend).op(d, np.array([8.0]), "float32", "cpu", "sin", "tuned")
    with pytest.raises(ValueError, match="^op: got 'tan'"):
        impls.get(backend).op(d, np.array([1.5]), "float32", "cpu", "tan")
