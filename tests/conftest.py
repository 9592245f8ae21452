"""Shared fixtures: the seed's problem and data, and skips for missing frameworks or devices."""
from __future__ import annotations

import pytest

import impls
from impls import Problem


def require(backend: str, device: str = "cpu", variant: str | None = None) -> None:
    """Skip (with the reason) unless ``backend`` (and ``variant``) runs on ``device`` here."""
    ok, why = impls.available(backend, device, variant)
    if not ok:
        pytest.skip(f"{backend} on {device}: {why}")


@pytest.fixture(scope="session")
def seed_data():
    """The seed's training set: n = 1000 integers from [0, 1000), seed 0."""
    return impls.generate(Problem())
