"""Sparse parity in JAX: jax.numpy parameters + optax. Mirrors reference.py and torch_model.py.

Model  ``forward``: params a dict of jnp arrays, spec's names and shapes (W1 (H, n), b1 (H,),
       w2 (H,), b2 (1,)), rounded to the run's dtype; f = relu(x W1^T + b1) w2 + b2[0], (B,).
       Every matmul at ``lax.Precision.HIGHEST``: on a GPU, XLA's default for float32 dots may
       use TF32, torch's does not (float32_matmul_precision "highest"); on a CPU it changes nothing.
Loss   ``hinge``: mean(jax.nn.relu(1 - y f)), subgradient 0 at the kink as the reference's
       (jnp.maximum(., 0) would give 0.5 there).
Recipe ``make_optimizer``: optax.chain(add_decayed_weights(wd), sgd | sgd(momentum) | adam), the
       weight decay added to the gradient before the rule, as torch.optim's weight_decay; lr and
       wd live in the optimizer state (``optax.inject_hyperparams``) in the run's dtype.

Variants
  jit   one jitted step per call, a host loop over the steps; each step takes its batch from the
        current chunk on the device (``lax.dynamic_index_in_dim`` by a device scalar).
  scan  the k steps of one ``advance`` fused in one jitted ``lax.scan`` over their batches,
        passed in as x int8 (k, B, n), y int8 (k, B); parameters and optimizer state donated.
Batches: ``spec.batches`` one chunk at a time on the host (``reference.HostBatches``), one
host->device copy of int8 per chunk (jit: a chunk of ``spec.CHUNK`` steps; scan: the advance's k
steps), converted to the run's dtype inside the compiled step. float64 runs inside
``jax.enable_x64`` (impls.jax_backend.precision), scoped to the call.
"""
from __future__ import annotations

import functools
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ...contract import Optim, Train, check_prepare
from ...jax_backend import available, jax_device, precision, synchronize
from . import spec
from .reference import HostBatches
from .spec import PARAMS, Config

name = "jax"
variants = ("jit", "scan")
HIGHEST = jax.lax.Precision.HIGHEST


def forward(p, x):
    """f (B,) = relu(x W1^T + b1) w2 + b2 for x (B, n) of the params' dtype."""
    h = jax.nn.relu(jnp.matmul(x, p["W1"].T, precision=HIGHEST) + p["b1"])
    return jnp.matmul(h, p["w2"], precision=HIGHEST) + p["b2"][0]


def hinge(f, y):
    """mean_b max(0, 1 - y_b f_b), subgradient 0 at the kink (jax.nn.relu's)."""
    return jnp.mean(jax.nn.relu(1 - y * f))


def loss(p, x, y):
    return hinge(forward(p, x), y)


loss_and_grads = jax.value_and_grad(loss)
_loss_and_grads_jit = jax.jit(loss_and_grads)


def make_optimizer(optim: Optim) -> optax.GradientTransformation:
    """optax with the contract's definitions (impls.contract.Optim); lr and wd set by ``init_state``."""
    return _optimizer(optim.optimizer, optim.momentum, optim.nesterov, optim.beta1, optim.beta2, optim.eps)


@functools.lru_cache(maxsize=None)
def _optimizer(kind: str, momentum: float, nesterov: bool, b1: float, b2: float, eps: float):
    decay = optax.inject_hyperparams(optax.add_decayed_weights)(weight_decay=0.0)
    if kind == "sgd":
        rule = optax.inject_hyperparams(optax.sgd)(learning_rate=1.0)
    elif kind == "momentum":
        rule = optax.inject_hyperparams(optax.sgd, static_args=("momentum", "nesterov"))(
            learning_rate=1.0, momentum=momentum, nesterov=nesterov)
    else:
        rule = optax.inject_hyperparams(optax.adam, static_args=("b1", "b2", "eps"))(
            learning_rate=1.0, b1=b1, b2=b2, eps=eps)
    return optax.chain(decay, rule)


def init_state(opt: optax.GradientTransformation, params, optim: Optim):
    """opt.init(params) with weight decay and learning rate set in the params' dtype."""
    state = opt.init(params)
    dt = params["W1"].dtype
    state[0].hyperparams["weight_decay"] = jnp.asarray(optim.weight_decay, dtype=dt)
    state[1].hyperparams["learning_rate"] = jnp.asarray(optim.lr, dtype=dt)
    return state


@functools.lru_cache(maxsize=None)
def compiled_steps(opt: optax.GradientTransformation):
    """(step, scan) for one optimizer, jitted once per process and shared by every Runner.

    step: (params, state, xs int8 (C, B, n), ys int8 (C, B), i) -> (params', state', loss), the
          step on batch i of a chunk.
    scan: (params, state, xs int8 (k, B, n), ys int8 (k, B)) -> (params', state', losses (k,)),
          k steps fused by ``lax.scan``; params and state donated.
    """
    def one(p, state, x, y):
        dt = p["W1"].dtype
        value, g = loss_and_grads(p, x.astype(dt), y.astype(dt))
        updates, state = opt.update(g, state, p)
        return optax.apply_updates(p, updates), state, value

    def step(p, state, xs, ys, i):
        pick = lambda a: jax.lax.dynamic_index_in_dim(a, i, keepdims=False)  # noqa: E731
        return one(p, state, pick(xs), pick(ys))

    def scan(p, state, xs, ys):
        def body(carry, xy):
            p, state, value = one(*carry, *xy)
            return (p, state), value

        (p, state), values = jax.lax.scan(body, (p, state), (xs, ys))
        return p, state, values

    return jax.jit(step), jax.jit(scan, donate_argnums=(0, 1))


class Runner:
    """Training state on the device; ``advance(k)`` runs k steps, each step's loss kept there."""

    def __init__(self, cfg: Config, train: Train, variant: str, device: str, seed_params=None):
        self.cfg, self.train, self.variant, self.dtype = cfg, train, variant, train.dtype
        self.dev = jax_device(device)
        self.fused = variant == "scan"
        start = spec.init(cfg, train.seed) if seed_params is None else seed_params
        with precision(self.dtype):
            host = {k: np.asarray(start[k], np.float64).reshape(cfg.shapes[k]).astype(self.dtype)
                    for k in PARAMS}
            self.p = jax.device_put(host, self.dev)
            opt = make_optimizer(train.optim)
            # committed to the device as the step's outputs are: else the second call compiles again
            self.state = jax.device_put(init_state(opt, self.p, train.optim), self.dev)
            self.step_fn, self.scan_fn = compiled_steps(opt)
            if not self.fused:
                self._index = [jax.device_put(np.int32(i), self.dev) for i in range(spec.CHUNK)]
        self.data = HostBatches(cfg, train.seed)
        self._c, self._xs, self._ys = -1, None, None
        self.step, self._losses, self.seconds = 0, [], 0.0

    def _chunk(self, c: int):
        if c != self._c:
            self._xs, self._ys = jax.device_put(self.data.chunk(c), self.dev)
            self._c = c
        return self._xs, self._ys

    def advance(self, k: int) -> None:
        with precision(self.dtype), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Some donated buffers were not usable")
            t0 = time.perf_counter()
            if self.fused:
                xs, ys = jax.device_put(self.data.take(self.step, k), self.dev)
                self.p, self.state, values = self.scan_fn(self.p, self.state, xs, ys)
                self._losses.append(values)
            else:
                for t in range(self.step, self.step + k):
                    c, i = divmod(t, spec.CHUNK)
                    xs, ys = self._chunk(c)
                    self.p, self.state, value = self.step_fn(self.p, self.state, xs, ys, self._index[i])
                    self._losses.append(value)
            self.step += k
            synchronize((self.p, self.state, self._losses[-1:]))
            self.seconds += time.perf_counter() - t0

    def params(self) -> dict[str, np.ndarray]:
        """name -> float64 array, a copy (np.asarray of a CPU array may share its buffer, which
        the scan donates)."""
        return {k: np.array(v, np.float64) for k, v in self.p.items()}

    def losses(self) -> np.ndarray:
        if not self._losses:
            return np.zeros(0)
        if self.fused:  # one (k,) array per advance
            return np.concatenate([np.asarray(a, np.float64) for a in self._losses])
        return np.array(self._losses, np.float64)  # one read-back over the list (impls/jax_backend.py)

    def memory(self) -> dict:
        """The compiled step's XLA memory analysis (scan: for one step's batch), in bytes."""
        with precision(self.dtype):
            xs, ys = self._chunk(self.step // spec.CHUNK)
            fn = (self.scan_fn.lower(self.p, self.state, xs[:1], ys[:1]) if self.fused
                  else self.step_fn.lower(self.p, self.state, xs, ys, np.int32(0)))
            m = fn.compile().memory_analysis()
        if m is None:
            return {}
        out = {f"compiled_{k}_bytes": int(getattr(m, f"{k}_size_in_bytes")) for k in ("argument", "output", "temp")}
        out["source"] = "jax compiled(...).memory_analysis() of the step"
        return out


def prepare(cfg: Config, train: Train, variant: str = "jit", device: str = "cpu",
            seed_params=None) -> Runner:
    """A run of ``train`` on ``cfg`` from ``spec.init(cfg, train.seed)`` (or ``seed_params``)."""
    check_prepare(name, variants, variant, available(device), device)
    return Runner(cfg, train, variant, device, seed_params)


def loss_and_grad(cfg: Config, params, x: np.ndarray, y: np.ndarray, dtype: str, device: str = "cpu"):
    """jax.value_and_grad of the hinge on one batch x int8 (B, n), y int8 (B,), jitted:
    (float loss, name -> float64 gradient of spec's shapes)."""
    dev = jax_device(device)
    with precision(dtype):
        p = jax.device_put({k: np.asarray(params[k], np.float64).reshape(cfg.shapes[k]).astype(dtype)
                            for k in PARAMS}, dev)
        xd = jax.device_put(np.asarray(x).astype(dtype), dev)
        yd = jax.device_put(np.asarray(y).astype(dtype), dev)
        value, g = _loss_and_grads_jit(p, xd, yd)
        return float(value), {k: np.asarray(g[k], np.float64) for k in PARAMS}


def floor(cfg: Config, dtype: str, device: str = "cpu"):
    """k -> None: k passes of the step's three matmuls at its shapes, z = x W1^T (B, n)x(n, H),
    z w2 (B, H)x(H,) and z^T x (H, B)x(B, n) (dW1's product, z standing in for g_z), in one jitted
    ``lax.fori_loop`` of static length k (compiled once per k, as the scan variant is), finished
    on device. Each pass feeds W1 + 1e-30 (z^T x + sum(z w2)) into the next, so XLA can neither
    hoist a pass out of the loop nor drop one. ``spec.flops(cfg)`` counts the step's matmul FLOPs."""
    dev = jax_device(device)
    p = spec.init(cfg, 0)
    with precision(dtype):
        W1 = jax.device_put(p["W1"].astype(dtype), dev)
        w2 = jax.device_put(p["w2"].astype(dtype), dev)
        x = jax.device_put(spec.batches(cfg, 0, 0, 1)[0][0].astype(dtype), dev)

    @functools.partial(jax.jit, static_argnums=3)
    def passes(W1, x, w2, k):
        def one(_, W1):
            z = jnp.matmul(x, W1.T, precision=HIGHEST)
            o = jnp.matmul(z, w2, precision=HIGHEST)
            return W1 + 1e-30 * (jnp.matmul(z.T, x, precision=HIGHEST) + o.sum())
        return jax.lax.fori_loop(0, k, one, W1)

    def run(k: int) -> None:
        with precision(dtype):
            synchronize(passes(W1, x, w2, k))

    return run
