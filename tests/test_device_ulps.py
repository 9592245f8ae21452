"""The facts the tolerances assume, measured on this machine's device by bench/studies/device_ulps.py:
each framework's sin and cos within TRIG_ULP, sqrt and division correctly rounded (IEEE), pow
within the device's POW_ULP, the float32 gradient within its derived bound. The bounds are the
documented ones (SLEEF, glibc, IEEE 754; CUDA's on a GPU), not this machine's figures."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import require
from tolerances import POW_ULP, TRIG_ULP

# sqrt and division: the trajectory bound counts C_OPT = 32 roundings of u for one optimizer
# update; Adam's has 8 ops, 3 of them sqrt or division. One ulp is at most 2u relative, so these
# bounds cost at most 3 x 5u + 5 x u = 20u < 32u. IEEE sqrt and division are 0.5 ulp; torch
# eager's float32 sqrt is not (0.52 ulp on an Intel Xeon with AVX-512: 23 of 4096 inputs off
# numpy's); on a GPU, Triton (inductor's code) lowers "/" to div.full.f32, CUDA's -prec-div=false
# division (2 ulps), and sqrt may be the approximate one (1 ulp): CUDA C++ Programming Guide,
# math appendix; + 0.5 for the distance from the exact value.
IEEE_OPS_ULP = {"cpu": 1.0, "gpu": 2.5}

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.studies import device_ulps  # noqa: E402


@pytest.mark.parametrize("device", ["cpu", "gpu"])
def test_the_arithmetic_is_as_accurate_as_the_tolerances_assume(device):
    require("torch", device)
    require("jax", device)
    doc = device_ulps.measure(device)
    assert set(doc["ulps"]) == {"torch-eager", "torch-compiled", "jax-jit"}
    for name, ops in doc["ulps"].items():
        assert ops["sin"]["max"] <= TRIG_ULP and ops["cos"]["max"] <= TRIG_ULP, (name, ops)
        bound = IEEE_OPS_ULP[device] + 1e-9
        assert ops["sqrt"]["max"] <= bound and ops["div"]["max"] <= bound, (name, ops)
        for beta in device_ulps.BETAS:
            assert ops[f"pow{beta}"]["max"] <= POW_ULP[device] + 0.5, (name, ops)  # + the rounding of the truth
    g = doc["gradient_relative_error"]
    assert 0 <= g["torch"] <= g["derived_bound"] and 0 <= g["jax"] <= g["derived_bound"], g
