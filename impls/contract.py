"""The contract of a model pair: what any model gives once, so every check and figure works on it.

AlgoPerf's ``Workload`` (init, model, loss, target) with benchopt's declarative parameters. A model
is a ``Model``: a name, its parameters with defaults, and six framework-free parts

  data       ``batches(config, seed, start, k)``: the minibatches of steps start..start+k-1,
             numpy arrays from one seeded generator keyed by (seed, chunk of steps): every backend,
             every variant and every split of a run into ``advance`` calls sees the same batches
  init       ``init(config, seed)``: the canonical initial parameters, name -> float64 array,
             loaded by every backend (rounded to the run's dtype there)
  loss       written once per framework in that framework's module, and once in numpy float64
             with the backward pass written out (the reference: the ground truth)
  optimizer  ``Optim`` below, through torch.optim and optax with the same definitions
  solved     ``evaluate(config, seed, params) -> float`` (a score) and ``solved(score) -> bool``
  floor      each framework module's ``floor``: its cheapest pass over the step's essential work

and one module per framework (``backends``: "reference", "torch", "jax"), mirroring each other,
each with ``prepare(config, train, variant, device) -> ModelRunner``, ``loss_and_grad`` and
``floor``. A framework is imported only inside its module (``impls.models.get_backend``).

The seed's model (sin(w x)^2, impls/spec.py) is the first model, "seed", and the default; its
backends keep their own richer contract (ensembles, op cases, horizons in x) and are reached
through it unchanged: ``impls.models`` lists both.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Mapping, Protocol, runtime_checkable

import numpy as np

from .spec import DTYPES, _choice, _finite, _int, canonical_device, invalid  # noqa: F401 - the suite's validators, for every model

OPTIMIZERS = ("sgd", "momentum", "adam")


@dataclass(frozen=True)
class Optim:
    """The optimizer recipe, torch.optim's definitions (the seed's ``Recipe`` uses the same ones).

      sgd       g' = g + wd p;  p <- p - lr g'
      momentum  b_1 = g'_1, b_t = mu b_{t-1} + g'_t (dampening 0); d = g' + mu b if nesterov else b;
                p <- p - lr d
      adam      g' = g + wd p (L2, torch.optim.Adam's weight_decay, not AdamW); m, v of g'
                bias-corrected; p <- p - lr m_hat / (sqrt(v_hat) + eps)
    Weight decay: torch.optim's ``weight_decay=wd`` adds wd p to the gradient before the rule;
    optax's ``chain(add_decayed_weights(wd), rule)`` does the same, in that order (decay first).
    """

    optimizer: str = "sgd"
    lr: float = 0.1
    weight_decay: float = 0.0
    momentum: float = 0.9
    nesterov: bool = False
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self):
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        object.__setattr__(self, "lr", _finite("lr", self.lr, positive=True))
        wd = _finite("weight_decay", self.weight_decay)
        if wd < 0:
            raise invalid("weight_decay", self.weight_decay, "a finite number >= 0")
        object.__setattr__(self, "weight_decay", wd)
        object.__setattr__(self, "momentum", _finite("momentum", self.momentum, below_one=True))
        if not isinstance(self.nesterov, bool):
            raise invalid("nesterov", self.nesterov, "True or False")
        object.__setattr__(self, "beta1", _finite("beta1", self.beta1, below_one=True))
        object.__setattr__(self, "beta2", _finite("beta2", self.beta2, below_one=True))
        object.__setattr__(self, "eps", _finite("eps", self.eps, positive=True))


class NumpyOptimizer:
    """``Optim``'s rules written out over named numpy arrays, in their dtype: the references' update.

    ``update(p, g)`` -> the new parameters; each name's state (momentum buffer, Adam's moments) is
    its own, so the order of names does not matter. Adam's bias corrections are Python floats, as
    torch.optim's are.
    """

    def __init__(self, optim: Optim, dtype):
        self.o, self.t, self.dt = optim, 0, np.dtype(dtype)
        self.b, self.m, self.v = {}, {}, {}

    def update(self, p: Mapping[str, np.ndarray], g: Mapping[str, np.ndarray]) -> dict:
        o, dt = self.o, self.dt.type
        lr, wd = dt(o.lr), dt(o.weight_decay)
        self.t += 1
        out = {}
        for k in p:
            w, gk = p[k], g[k]
            if o.weight_decay:
                gk = gk + wd * w
            if o.optimizer == "sgd":
                out[k] = w - lr * gk
            elif o.optimizer == "momentum":
                mu = dt(o.momentum)
                self.b[k] = gk.copy() if k not in self.b else mu * self.b[k] + gk
                d = gk + mu * self.b[k] if o.nesterov else self.b[k]
                out[k] = w - lr * d
            else:
                b1, b2 = dt(o.beta1), dt(o.beta2)
                m, v = self.m.get(k, np.zeros_like(w)), self.v.get(k, np.zeros_like(w))
                self.m[k] = m = m + (gk - m) * (1 - b1)
                self.v[k] = v = v * b2 + (1 - b2) * gk * gk
                bc1, bc2 = 1 - o.beta1 ** self.t, 1 - o.beta2 ** self.t
                denom = np.sqrt(v) / dt(np.sqrt(bc2)) + dt(o.eps)
                out[k] = w - dt(o.lr / bc1) * (m / denom)
        return out


@dataclass(frozen=True)
class Train:
    """One run of a model: the optimizer, the seed (data, secret, init), steps, dtype."""

    optim: Optim = field(default_factory=Optim)
    seed: int = 0
    steps: int = 100
    dtype: str = "float32"

    def __post_init__(self):
        if not isinstance(self.optim, Optim):
            raise invalid("optim", self.optim, "an impls.contract.Optim")
        object.__setattr__(self, "seed", _int("seed", self.seed, 0, 2**32 - 1))
        object.__setattr__(self, "steps", _int("steps", self.steps, 0, 10**8))
        _choice("dtype", self.dtype, DTYPES)

    def to_dict(self) -> dict:
        return asdict(self)


Params = Mapping[str, np.ndarray]  # name -> array; canonical ones float64


def flatten(params: Params) -> np.ndarray:
    """float64 (P,): the parameters in name order, each raveled: the vector distances are taken on."""
    return np.concatenate([np.asarray(params[k], np.float64).ravel() for k in sorted(params)])


def check_prepare(backend: str, variants, variant: str, available: tuple[bool, str], device: str) -> None:
    """The one-line errors of a framework module's ``prepare``: a variant not its own, or a device
    its framework cannot run on here (``available`` is the module's (ok, why) for ``device``)."""
    if variant not in variants:
        raise invalid("variant", variant, f"for backend {backend}: one of " + ", ".join(variants))
    ok, why = available
    if not ok:
        raise invalid("device", device, f"cpu for backend {backend} here ({why})")


@dataclass(frozen=True, eq=False)
class ModelTrajectory:
    """One run of a model. loss[t]: the loss of step t+1's batch at the parameters before step t+1,
    float64 (steps,). ``snapshots``: step t -> flattened float64 parameters after t steps (t = 0 is
    the start), at the steps the run was asked to record. ``scores``: step -> ``evaluate`` score."""

    model: str
    backend: str
    variant: str
    device: str
    dtype: str
    loss: np.ndarray
    snapshots: dict = field(default_factory=dict)
    scores: dict = field(default_factory=dict)
    seconds: float = float("nan")  # wall time of the advance calls, compilation included
    meta: dict = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return int(np.asarray(self.loss).size)

    @property
    def label(self) -> str:
        return f"{self.backend}-{self.variant}"


@runtime_checkable
class ModelRunner(Protocol):
    """A prepared run of a model held on its device; benchmarks time ``advance``."""

    def advance(self, k: int) -> None:
        """Run k more steps (drawing their batches), recording each step's loss; return once the
        device work is finished."""

    def params(self) -> dict[str, np.ndarray]:
        """The current parameters, name -> float64 array (the values held in the run's dtype)."""

    def losses(self) -> np.ndarray:
        """float64 (steps so far,): each step's batch loss, before its update."""


@dataclass(frozen=True)
class Model:
    """A model pair's framework-free half. ``config`` validates the model's own parameters
    (one-line errors naming the field); the rest take the validated config."""

    name: str
    summary: str
    parameters: dict                                        # field -> default: drives CLI and ids
    config: Callable[..., object]                           # **parameters -> validated config
    init: Callable[[object, int], dict]                     # (config, seed) -> name -> float64
    batches: Callable[[object, int, int, int], tuple]       # (config, seed, start, k) -> arrays
    evaluate: Callable[[object, int, Params], float]        # (config, seed, params) -> score
    solved: Callable[[float], bool]                         # score -> solved?
    optim: Optim                                            # the model's default recipe
    backends: dict                                          # backend name -> module path
    variants: dict                                          # backend name -> variants
    eval_every: int = 100                                   # steps between scores in a long run
