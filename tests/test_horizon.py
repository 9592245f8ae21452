"""The classification horizon: exact in float32 (exhaustive), bound + exact scan in float64."""
from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from impls import horizon as hz

from conftest import require

W32 = hz.best_pi_half("float32")


def test_best_pi_half_and_offsets():
    assert W32 == float(np.float32(math.pi / 2))
    D32, _ = hz.offset(W32, "float32")
    D64, _ = hz.offset(hz.best_pi_half("float64"), "float64")
    assert D32 == pytest.approx(4.371139e-08, rel=1e-6) and D64 == pytest.approx(-6.123234e-17, rel=1e-6)


@pytest.mark.parametrize("backend", ["reference", "torch", "jax"])
def test_float32_exhaustive_matches_the_exact_model(backend):
    """Each backend's own float32 over x = 0..2^24+1 against the exact-sin model: the same first x."""
    require(backend)
    r = hz.horizon(backend, W32, "float32")
    assert r.first == r.model_first
    assert r.safe_bound <= r.first


def test_float32_explanation():
    """fl32(pi/2) fails first where w x has reached the binade of spacing 1 (w x >= 2^23, rounding
    up to 1/2) and D x + delta crosses pi/4; below 2^23 / w the error is at most D x + 1/4 < pi/4."""
    first = hz.model_first(W32, "float32")
    D, _ = hz.offset(W32, "float32")
    assert W32 * first >= 2**23 and D * (2**23 / W32) + 0.25 < math.pi / 4
    e = hz.model_errors(np.array([first]), W32, "float32")[0]
    assert abs(e) > math.pi / 4 and math.pi / 4 - 0.5 < D * first < math.pi / 4 - 0.25  # rounding <= 1/2
    below = np.arange(0, first, dtype=np.int64)
    assert np.abs(hz.model_errors(below, W32, "float32")).max() < math.pi / 4


@pytest.mark.parametrize("w", [1.5707, hz.best_pi_half("float64") + 1e-12])
@pytest.mark.parametrize("backend", ["reference", "torch", "jax"])
def test_float64_bound_scan_and_backend_checks(backend, w):
    require(backend)
    r = hz.horizon(backend, w, "float64", samples=1 << 14)
    assert r.first == r.model_first and r.safe_bound <= r.first
    # the bound is tight when |D| dominates the rounding: x ~ (pi/4) / |D|
    assert r.first == pytest.approx(math.pi / 4 / abs(r.offset), rel=1e-3)
    assert r.checks["model_wrong_in_samples"] == 0


def test_float64_pi_half_spot_checks():
    """fl64(pi/2): proved correct below 4660905717393263 (w x in [2^52, 2^53): rounding 1/2, |D| x > 0.285);
    the exact model fails at 4660905948476647 (the full scan, ~25 s, is `paritybench horizon`)."""
    w = hz.best_pi_half("float64")
    safe = hz.safe_bound(w, "float64")
    assert safe == 4660905717393263 and 2**52 <= w * safe < 2**53
    first = 4660905948476647
    assert hz.model_wrong(np.array([first]), w, "float64")[0]
    assert not hz.model_wrong(np.arange(first - (1 << 20), first, dtype=np.int64), w, "float64").any()


def test_bad_input():
    with pytest.raises(ValueError, match=r"^dtype: got 'float16'"):
        hz.horizon("reference", 1.57, "float16")
    with pytest.raises(ValueError, match=r"^w: got "):
        hz.horizon("reference", float("nan"), "float32")
    r = subprocess.run([sys.executable, "-m", "paritybench.cli", "horizon", "--dtype", "float16"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "dtype: got 'float16'" in r.stderr
