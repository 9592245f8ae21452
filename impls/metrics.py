"""Predictions and accuracy of learned weights, computed in a chosen dtype with numpy.

predict(x) = sin(w x)^2 >= 0.5 means "odd" (label 1); a weight classifies x correctly when that
matches the data's label y (x mod 2 for generated data).
"""
from __future__ import annotations

import numpy as np

from .spec import Data


def correct(data: Data, w, dtype: str = "float64") -> np.ndarray:
    """bool (n, E): does w_e give x_i its label y_i, evaluating sin(w x)^2 in ``dtype``."""
    dt = np.dtype(dtype)
    wv = np.atleast_1d(np.asarray(w, dtype=np.float64)).astype(dt)
    x = data.x.astype(dt)[:, None]
    odd = np.sin(x * wv[None, :]) ** 2 >= dt.type(0.5)
    return odd == (data.y >= 0.5)[:, None]


def accuracy(data: Data, w, dtype: str = "float64") -> np.ndarray:
    """float64 (E,): fraction of the training x that w classifies correctly."""
    return correct(data, w, dtype).mean(axis=0)
