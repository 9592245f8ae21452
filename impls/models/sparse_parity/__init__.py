"""Sparse parity on a one-hidden-layer ReLU MLP (Barak et al., NeurIPS 2022, arXiv 2207.08799).

Data   x uniform in {-1, +1}^n, y = prod_{i in S} x_i in {-1, +1}, S a secret set of k of the n
       bits drawn from the seed; fresh samples at every step (``batches``).
Model  f(x) = w2 . relu(W1 x + b1) + b2;  W1 (width, n), b1 (width,), w2 (width,), b2 (1,).
Loss   hinge: L = mean_b max(0, 1 - y_b f(x_b)).
Recipe the paper's: SGD, lr 0.1, batch 32, weight decay 0.01 (``MODEL.optim``).
Solved accuracy >= 0.99 on a held-out set of EVAL_SIZE fresh samples (``evaluate``, ``solved``).

This module is framework-free; reference.py (numpy float64, backward written out), torch_model.py and
jax_model.py hold the three implementations, mirroring each other.
"""
from .spec import MODEL, Config, batches, config, evaluate, init, secret, solved

__all__ = ["MODEL", "Config", "batches", "config", "evaluate", "init", "secret", "solved"]
