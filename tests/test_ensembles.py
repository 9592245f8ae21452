"""Ensembles: E weights trained in one call equal E separate runs, for every backend x variant."""
from __future__ import annotations

import functools

import numpy as np
import pytest

import impls
from impls import BACKENDS, VARIANTS, Problem, Recipe

from conftest import require
from tolerances import trajectory_truth

CASES = [(b, v) for b in BACKENDS for v in VARIANTS[b]]
PROBLEM = Problem(n=64, x_max=16, seed=3)  # not chaotic over these steps (amplification checked)
W0 = (1.5, 1.2, 1.9)
RECIPE = dict(optimizer="adam", lr=1e-2, steps=10, dtype="float32")  # adam: per-member state


@functools.lru_cache(maxsize=None)
def tolerances():
    """tol_w, tol_L (steps+1, E): each member's float32 bound against the float64 reference.
    An ensemble member and a separate run both lie within it, so they differ by <= 2 tol."""
    d = impls.generate(PROBLEM)
    tws, tls = [], []
    for w0 in W0:
        ref = impls.train("reference", d, Recipe(**{**RECIPE, "dtype": "float64"}, w0=w0))
        tw, tl, amp = trajectory_truth(d, Recipe(**RECIPE, w0=w0), ref.w[:, 0])
        assert amp < 100, f"w0={w0}: chaotic (amplification {amp:.3g})"
        tws.append(tw)
        tls.append(tl)
    return np.stack(tws, 1), np.stack(tls, 1)


@pytest.mark.parametrize("backend,variant", CASES)
def test_ensemble_equals_separate_runs(backend, variant):
    require(backend, variant=variant)
    d = impls.generate(PROBLEM)
    ens = impls.train(backend, d, Recipe(**RECIPE, w0=W0), variant)
    assert ens.w.shape == ens.loss.shape == (RECIPE["steps"] + 1, len(W0)) and ens.ensemble == 3
    sep = [impls.train(backend, d, Recipe(**RECIPE, w0=w0), variant) for w0 in W0]
    sep_w, sep_l = np.stack([t.w[:, 0] for t in sep], 1), np.stack([t.loss[:, 0] for t in sep], 1)
    tol_w, tol_L = tolerances()
    assert np.all(np.abs(ens.w - sep_w) <= 2 * tol_w), np.abs(ens.w - sep_w).max(0)
    assert np.all(np.abs(ens.loss - sep_l) <= 2 * tol_L), np.abs(ens.loss - sep_l).max(0)
    assert len(np.unique(np.round(ens.w[-1], 3))) == 3  # the members stay distinct


@pytest.mark.parametrize("backend", BACKENDS)
def test_loss_and_grad_of_an_ensemble_is_per_member(backend):
    """loss_and_grad on E weights equals E single-weight calls (float64: to a few ulps)."""
    require(backend)
    d = impls.generate(Problem(n=300, x_max=50, seed=4))
    w = np.array([0.3, 1.5, np.pi / 2, 2.7])
    L, G = impls.get(backend).loss_and_grad(d, w, "float64")
    for e, we in enumerate(w):
        Le, Ge = impls.get(backend).loss_and_grad(d, [we], "float64")
        # both within tolerances.bound of the truth: per term 13u (L), 56u x (G), plus the sum
        # of 300 terms in any order, 300 u mean|term|, with |t_L| <= 1 and |t_G| <= 4 x < 4 * 50
        u = 2.0**-53
        assert abs(L[e] - Le[0]) <= 2 * (13 * u + 300 * u)
        assert abs(G[e] - Ge[0]) <= 2 * (56 * u * 50 + 300 * u * 4 * 50)
