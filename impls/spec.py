"""The whole contract: what a problem, a recipe, a trajectory and a backend are.

Model  f_w(x) = sin(w x)^2, one weight w, no bias; labels y = x mod 2.
Loss   L(w) = mean_i (f_w(x_i) - y_i)^2                       (loss="mse", the seed's MSELoss)
       L(w) = mean_i (f_w(x_i) - y_i)^2 / max(x_i, 1)^2       (loss="scaled", gradient bounded in x)
Grad   dL/dw = mean_i 2 (f_i - y_i) * 2 sin(w x_i) cos(w x_i) * x_i   (times 1/max(x_i,1)^2 when scaled)

Every field is validated at construction: a wrong value raises ``ValueError`` with one line naming
the field, the value and what is allowed, before any framework is touched. Frameworks are imported
only inside their backend modules (see ``impls.registry``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

OPTIMIZERS = ("sgd", "momentum", "adam")
DTYPES = ("float32", "float64")
DEVICES = ("cpu", "gpu")  # "cuda" is accepted as a spelling of "gpu"
LOSSES = ("mse", "scaled")
TIERS = ("default", "tuned")  # tuned: variants and ops an expert tunes by hand (docs/gap.md), kept apart
# The step's building blocks, each timed as k fused passes over x (n,) [and y] with t = w x (n, E):
#   read    sum(t)                                     one read of x, a multiply, the reduction
#   sin     sum(sin t)        cos  sum(cos t)          sincos  sum(sin t + cos t)  (= the floor)
#   rest    sum(r^2) + sum(4 r u u x), r = u^2 - y, u = t: the step's arithmetic without sin, cos
OPS = ("read", "sin", "cos", "sincos", "rest")
X_MAX_LIMIT = 2**24  # every integer below it is exact in float32


def invalid(name: str, value, allowed: str) -> ValueError:
    """The one-line error of the whole suite: field, value, what is allowed."""
    return ValueError(f"{name}: got {value!r}; allowed: {allowed}")


def _int(name: str, value, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise invalid(name, value, f"an integer >= {lo}" + (f" and <= {hi}" if hi else ""))
    if value < lo or (hi is not None and value > hi):
        raise invalid(name, value, f"an integer >= {lo}" + (f" and <= {hi}" if hi else ""))
    return int(value)


def _finite(name: str, value, positive: bool = False, below_one: bool = False) -> float:
    allowed = "a finite number" + (" > 0" if positive else "") + (" in [0, 1)" if below_one else "")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise invalid(name, value, allowed) from None
    if isinstance(value, bool) or not math.isfinite(f) or (positive and f <= 0) or (
        below_one and not 0 <= f < 1
    ):
        raise invalid(name, value, allowed)
    return f


def _choice(name: str, value, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise invalid(name, value, "one of " + ", ".join(allowed))
    return value


def canonical_device(device: str) -> str:
    """'cpu' | 'gpu'; 'cuda' (torch's word) is the same device as 'gpu' (JAX's)."""
    device = {"cuda": "gpu"}.get(device, device)
    return _choice("device", device, DEVICES)


@dataclass(frozen=True, eq=False)
class Data:
    """Training arrays shared by every backend: x int64 (n,) integers >= 0, y float64 (n,) labels
    in {0, 1} (x mod 2 for generated data; a user's file may label otherwise, and is scored so)."""

    x: np.ndarray
    y: np.ndarray

    def __post_init__(self):
        x, y = np.asarray(self.x), np.asarray(self.y)
        if x.ndim != 1 or x.size == 0:
            raise invalid("data.x", f"shape {x.shape}", "a non-empty 1-D array")
        if y.shape != x.shape:
            raise invalid("data.y", f"shape {y.shape}", f"the shape of x, {x.shape}")
        if not np.issubdtype(x.dtype, np.number) or not np.all(np.isfinite(x)):
            raise invalid("data.x", f"dtype {x.dtype}", "finite integers")
        if not np.all(np.equal(np.mod(x, 1), 0)):
            bad = x[np.not_equal(np.mod(x, 1), 0)][0]
            raise invalid("data.x", f"non-integer value {bad}", "integers")
        if x.min() < 0 or x.max() >= X_MAX_LIMIT:
            raise invalid("data.x", f"range [{x.min()}, {x.max()}]", f"integers in [0, {X_MAX_LIMIT})")
        if not np.issubdtype(y.dtype, np.number) or not np.all((y == 0) | (y == 1)):
            what = (f"dtype {y.dtype}" if not np.issubdtype(y.dtype, np.number)
                    else f"label {y[(y != 0) & (y != 1)][0].item()!r}")
            raise invalid("data.y", what, "labels 0 (even) and 1 (odd)")
        xi, yf = x.astype(np.int64), y.astype(np.float64)
        xi.setflags(write=False)
        yf.setflags(write=False)
        object.__setattr__(self, "x", xi)
        object.__setattr__(self, "y", yf)

    @property
    def n(self) -> int:
        return int(self.x.size)

    def as_dtype(self, dtype: str) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) as float arrays of ``dtype``, shape (n,): what every backend trains on."""
        dt = np.dtype(_choice("dtype", dtype, DTYPES))
        return self.x.astype(dt), self.y.astype(dt)


@dataclass(frozen=True)
class Problem:
    """n integers drawn uniformly from [0, x_max) by ``np.random.RandomState(seed)``, y = x mod 2."""

    n: int = 1000
    x_max: int = 1000
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "n", _int("n", self.n, 1, 10**8))
        object.__setattr__(self, "x_max", _int("x_max", self.x_max, 2, X_MAX_LIMIT))
        object.__setattr__(self, "seed", _int("seed", self.seed, 0, 2**32 - 1))


@dataclass(frozen=True)
class Recipe:
    """How to train: optimizer, its hyper-parameters, w0 (scalar or ensemble), steps, dtype, loss.

    ``w0`` may be one number or a sequence of E numbers (an ensemble of E independent runs on the
    same data). Optimizer semantics (identical in all backends, torch.optim's definitions):
      sgd       w <- w - lr g
      momentum  b_1 = g_1, b_t = mu b_{t-1} + g_t (dampening 0); d = g + mu b if nesterov else b;
                w <- w - lr d   (optax.sgd(momentum=mu) starts its trace at 0: the same b_1 = g_1)
      adam      m, v bias-corrected, w <- w - lr m_hat / (sqrt(v_hat) + eps)
    """

    optimizer: str = "sgd"
    lr: float = 4e-4
    w0: float | tuple[float, ...] = 1.5
    steps: int = 100
    dtype: str = "float32"
    momentum: float = 0.9
    nesterov: bool = False
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    loss: str = "mse"

    def __post_init__(self):
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        object.__setattr__(self, "lr", _finite("lr", self.lr, positive=True))
        object.__setattr__(self, "steps", _int("steps", self.steps, 0, 10**7))
        _choice("dtype", self.dtype, DTYPES)
        _choice("loss", self.loss, LOSSES)
        object.__setattr__(self, "momentum", _finite("momentum", self.momentum, below_one=True))
        if not isinstance(self.nesterov, bool):
            raise invalid("nesterov", self.nesterov, "True or False")
        object.__setattr__(self, "beta1", _finite("beta1", self.beta1, below_one=True))
        object.__setattr__(self, "beta2", _finite("beta2", self.beta2, below_one=True))
        object.__setattr__(self, "eps", _finite("eps", self.eps, positive=True))
        w0 = self.w0
        if isinstance(w0, (list, tuple, np.ndarray)):
            values = list(np.asarray(w0, dtype=object).ravel())
            if not values:
                raise invalid("w0", w0, "a finite number or a non-empty list of finite numbers")
            object.__setattr__(self, "w0", tuple(_finite("w0", v) for v in values))
        else:
            object.__setattr__(self, "w0", _finite("w0", w0))

    @property
    def ensemble(self) -> int:
        """E, the number of independent runs (1 for a scalar w0)."""
        return len(self.w0) if isinstance(self.w0, tuple) else 1

    @property
    def w0_array(self) -> np.ndarray:
        """float64 (E,) initial weights (rounded to ``dtype`` by each backend)."""
        return np.atleast_1d(np.asarray(self.w0, dtype=np.float64))

    def to_dict(self) -> dict:
        """Every field, JSON-able (an ensemble's w0 as a list): ``Recipe(**d)`` gives it back."""
        from dataclasses import asdict
        d = asdict(self)
        d["w0"] = list(self.w0) if isinstance(self.w0, tuple) else self.w0
        return d


@dataclass(frozen=True, eq=False)
class Trajectory:
    """One training run. w[t], loss[t]: weight and loss before step t+1, t = 0..steps.

    Arrays are float64 (steps+1, E) holding the values the backend computed in its own dtype.
    """

    backend: str
    variant: str
    device: str
    dtype: str
    w: np.ndarray
    loss: np.ndarray
    seconds: float = float("nan")  # wall time of the steps (advance calls), compilation included
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        w, loss = np.asarray(self.w, np.float64), np.asarray(self.loss, np.float64)
        if w.ndim == 1:
            w = w[:, None]
        if loss.ndim == 1:
            loss = loss[:, None]
        if w.ndim != 2 or w.shape[0] == 0:
            raise invalid("trajectory.w", f"shape {w.shape}", "a non-empty (steps+1, E) array")
        if loss.shape != w.shape:
            raise invalid("trajectory.loss", f"shape {loss.shape}", f"the shape of w, {w.shape}")
        object.__setattr__(self, "w", w)
        object.__setattr__(self, "loss", loss)

    @property
    def steps(self) -> int:
        return self.w.shape[0] - 1

    @property
    def ensemble(self) -> int:
        return self.w.shape[1]

    @property
    def label(self) -> str:
        return f"{self.backend}-{self.variant}"


@runtime_checkable
class Runner(Protocol):
    """A prepared training run held on its device; benchmarks time ``advance``."""

    def advance(self, k: int) -> None:
        """Run k more steps, recording w and loss, and return once the device work is finished."""

    def trajectory(self) -> Trajectory:
        """Everything recorded so far, final loss included: w, loss of shape (steps+1, E)."""

    def memory(self) -> dict:
        """What the framework itself reports about this run's memory, in bytes, with its
        ``source``: the device's peak since prepare (GPU), the compiled step's memory analysis
        (XLA), or {} where the framework reports nothing (torch and numpy on CPU)."""


@runtime_checkable
class Backend(Protocol):
    """One framework. Implementations mirror each other function by function."""

    name: str
    variants: tuple[str, ...]

    def available(self, device: str = "cpu") -> tuple[bool, str]:
        """(True, "") when this framework can run on ``device``, else (False, why)."""

    def loss_and_grad(self, data: Data, w: np.ndarray, dtype: str, device: str = "cpu",
                      loss: str = "mse") -> tuple[np.ndarray, np.ndarray]:
        """L(w) and dL/dw for each of the E weights in w (E,): two float64 (E,) arrays."""

    def prepare(self, data: Data, recipe: Recipe, variant: str, device: str = "cpu") -> Runner:
        """Put data and state on the device, build (and compile) the step, take no step."""

    def floor(self, data: Data, w: np.ndarray, dtype: str, device: str = "cpu"):
        """A callable k -> None: k fused passes of sum(sin(w x) + cos(w x)), finished on device."""

    def op(self, data: Data, w: np.ndarray, dtype: str, device: str = "cpu", name: str = "sincos",
           tier: str = "default"):
        """A callable k -> None: k fused passes of building block ``name`` (OPS) with the tier's
        sin and cos, finished on device; op "sincos" of the default tier is ``floor``."""

    def copy(self, nbytes: int, device: str = "cpu"):
        """A callable k -> None: k device-to-device copies of one buffer of ``nbytes`` bytes into
        another, finished on device: the memory bandwidth of the roofline (bench/bandwidth.py)."""
