"""Sparse parity's framework-free half: config, secret, batches, initial parameters, solved.

Every random draw is a numpy ``default_rng`` keyed by a tuple, so it depends on nothing else:
  secret S        default_rng([seed, 0]).choice(n, k, replace=False), sorted
  initial params  default_rng([seed, 1]): torch.nn.Linear's default, U(-1/sqrt(fan_in), +) per
                  tensor, in the order W1, b1, w2, b2 (fan_in n for layer 1, width for layer 2)
  batches         chunk c of CHUNK steps: default_rng([seed, 2, c]).integers(0, 2, (CHUNK, B, n))
  held-out set    default_rng([seed, 3]): EVAL_SIZE samples
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...contract import Model, Optim, _int, invalid

CHUNK = 256        # steps per batch chunk: the unit the generator is keyed by
EVAL_SIZE = 4096   # held-out samples scored by ``evaluate``
SOLVED_ACCURACY = 0.99
PARAMS = ("W1", "b1", "w2", "b2")


@dataclass(frozen=True)
class Config:
    """n input bits, k secret bits (1 <= k <= n), hidden width, batch size."""

    n: int = 30
    k: int = 3
    width: int = 1000
    batch: int = 32

    def __post_init__(self):
        object.__setattr__(self, "n", _int("n_bits", self.n, 1, 4096))
        object.__setattr__(self, "k", _int("k", self.k, 1, 4096))
        if self.k > self.n:
            raise invalid("k", self.k, f"an integer >= 1 and <= n_bits ({self.n})")
        object.__setattr__(self, "width", _int("width", self.width, 1, 1 << 16))
        object.__setattr__(self, "batch", _int("batch", self.batch, 1, 1 << 16))

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {"W1": (self.width, self.n), "b1": (self.width,), "w2": (self.width,), "b2": (1,)}

    @property
    def id(self) -> str:
        """e.g. n30-k3-w1000-b32: the part of a case id that names the config."""
        return f"n{self.n}-k{self.k}-w{self.width}-b{self.batch}"


def config(n_bits: int = 30, k: int = 3, width: int = 1000, batch: int = 32) -> Config:
    return Config(n_bits, k, width, batch)


def secret(cfg: Config, seed: int) -> np.ndarray:
    """int64 (k,): the secret bits, sorted."""
    return np.sort(np.random.default_rng([seed, 0]).choice(cfg.n, cfg.k, replace=False)).astype(np.int64)


def init(cfg: Config, seed: int) -> dict[str, np.ndarray]:
    """The canonical initial parameters, float64, shapes ``cfg.shapes``."""
    rng = np.random.default_rng([seed, 1])
    out = {}
    for name in PARAMS:
        fan_in = cfg.n if name in ("W1", "b1") else cfg.width
        bound = 1 / math.sqrt(fan_in)
        out[name] = rng.uniform(-bound, bound, cfg.shapes[name])
    return out


def _label(x: np.ndarray, s: np.ndarray) -> np.ndarray:
    return np.prod(x[..., s], axis=-1, dtype=np.int8)


def batches(cfg: Config, seed: int, start: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The batches of steps start .. start+k-1: x int8 (k, B, n) in {-1, +1}, y int8 (k, B)."""
    s = secret(cfg, seed)
    xs = []
    first, last = start // CHUNK, (start + k - 1) // CHUNK if k else start // CHUNK - 1
    for c in range(first, last + 1):
        bits = np.random.default_rng([seed, 2, c]).integers(0, 2, (CHUNK, cfg.batch, cfg.n), np.int8)
        lo, hi = max(start - c * CHUNK, 0), min(start + k - c * CHUNK, CHUNK)
        xs.append(2 * bits[lo:hi] - 1)
    x = np.concatenate(xs) if xs else np.zeros((0, cfg.batch, cfg.n), np.int8)
    return x, _label(x, s)


def flops(cfg: Config) -> int:
    """The step's matmul FLOPs (multiply and add counted apart), for a roofline:
    forward x W1^T and backward dW1 = g_z^T x, 2 B n H each; forward h w2 and backward
    dw2 = h^T g_f, 2 B H each: 4 B n H + 4 B H. Element-wise work (bias, ReLU, hinge, the
    optimizer's O(n H) update) is left out: it moves bytes, not FLOPs."""
    B, n, H = cfg.batch, cfg.n, cfg.width
    return 4 * B * n * H + 4 * B * H


def held_out(cfg: Config, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """x int8 (EVAL_SIZE, n), y int8 (EVAL_SIZE,): the held-out set ``evaluate`` scores."""
    x = 2 * np.random.default_rng([seed, 3]).integers(0, 2, (EVAL_SIZE, cfg.n), np.int8) - 1
    return x, _label(x, secret(cfg, seed))


def forward(params, x: np.ndarray) -> np.ndarray:
    """f(x) in float64 for x (..., n): w2 . relu(W1 x + b1) + b2."""
    h = np.maximum(x.astype(np.float64) @ np.asarray(params["W1"], np.float64).T + params["b1"], 0)
    return h @ np.asarray(params["w2"], np.float64) + float(np.asarray(params["b2"]).ravel()[0])


def evaluate(cfg: Config, seed: int, params) -> float:
    """Accuracy of sign(f(x)) on the held-out set, in float64 for every backend's parameters."""
    x, y = held_out(cfg, seed)
    f = forward(params, x)
    return float(np.mean(np.where(f >= 0, 1, -1) == y))


def solved(score: float) -> bool:
    return bool(score >= SOLVED_ACCURACY)


MODEL = Model(
    name="sparse-parity",
    summary="k-sparse parity of n bits, one-hidden-layer ReLU MLP, hinge loss (Barak et al. 2022)",
    parameters={"n_bits": 30, "k": 3, "width": 1000, "batch": 32},
    config=config, init=init, batches=batches, evaluate=evaluate, solved=solved,
    optim=Optim("sgd", lr=0.1, weight_decay=0.01),
    backends={"reference": "impls.models.sparse_parity.reference",
              "torch": "impls.models.sparse_parity.torch_model",
              "jax": "impls.models.sparse_parity.jax_model"},
    variants={"reference": ("numpy",), "torch": ("eager", "compiled"), "jax": ("jit", "scan")},
)
