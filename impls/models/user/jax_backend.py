"""The generic JAX runner of a user's model (impls/models/user): the file's ``loss_jax`` over a
dict of jnp arrays + optax. Mirrors numpy_backend.py and torch_backend.py.

Parameters  a dict of jnp arrays, the canonical float64 ``init`` rounded to the run's dtype.
Recipe      optax.chain(add_decayed_weights(wd), sgd | sgd(momentum) | adam): the decay added to
            the gradient before the rule, as torch.optim's weight_decay
            (impls.models.sparse_parity.jax_model.make_optimizer); lr and wd in the run's dtype.
Variants
  jit   one jitted step per call, a host loop; each step picks its batch from the advance's
        arrays on the device by a device scalar index.
  scan  the k steps of one ``advance`` in one jitted ``lax.scan``; parameters and state donated.
Write ``loss_jax`` with ``precision=jax.lax.Precision.HIGHEST`` on matmuls if it runs on a GPU
(XLA's default float32 dot may use TF32 there; torch's does not). float64 runs inside
``jax.enable_x64``, scoped to the call.
"""
from __future__ import annotations

import functools
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from ...contract import Train, check_prepare, invalid
from ...jax_backend import available, jax_device, precision, synchronize
from ..sparse_parity.jax_model import make_optimizer
from . import call

name = "jax"
variants = ("jit", "scan")

__all__ = ["available", "loss_and_grad", "prepare"]


def _host(arrays, dtype: str) -> tuple:
    dt = np.dtype(dtype)
    return tuple(a.astype(dt) if np.issubdtype(a.dtype, np.floating) else a for a in arrays)


def init_state(opt, params, optim, dtype: str):
    state = opt.init(params)
    state[0].hyperparams["weight_decay"] = jnp.asarray(optim.weight_decay, dtype=dtype)
    state[1].hyperparams["learning_rate"] = jnp.asarray(optim.lr, dtype=dtype)
    return state


def _loss_fn(cfg):
    def loss(p, *batch):
        L = call(cfg, "loss_jax", p, *batch)
        if jnp.ndim(L) != 0:
            raise invalid(f"{cfg.source}.loss_jax", f"shape {jnp.shape(L)}", "a scalar (the batch's loss)")
        return L
    return loss


@functools.lru_cache(maxsize=64)
def compiled_steps(cfg, opt):
    """(step, scan) for one model config and optimizer, jitted once per process."""
    value_and_grad = jax.value_and_grad(_loss_fn(cfg))

    def one(p, state, batch):
        value, g = value_and_grad(p, *batch)
        updates, state = opt.update(g, state, p)
        import optax
        return optax.apply_updates(p, updates), state, value

    def step(p, state, arrays, i):
        return one(p, state, tuple(jax.lax.dynamic_index_in_dim(a, i, keepdims=False) for a in arrays))

    def scan(p, state, arrays):
        def body(carry, batch):
            p, state, value = one(*carry, batch)
            return (p, state), value
        (p, state), values = jax.lax.scan(body, (p, state), arrays)
        return p, state, values

    return jax.jit(step), jax.jit(scan, donate_argnums=(0, 1))


class Runner:
    def __init__(self, cfg, train: Train, variant: str, device: str, seed_params=None):
        self.cfg, self.train, self.variant, self.dtype = cfg, train, variant, train.dtype
        self.dev = jax_device(device)
        self.fused = variant == "scan"
        start = cfg.model.init(cfg, train.seed) if seed_params is None else seed_params
        with precision(self.dtype):
            host = {k: np.asarray(start[k], np.float64).astype(self.dtype) for k in sorted(start)}
            self.p = jax.device_put(host, self.dev)
            opt = make_optimizer(train.optim)
            self.state = jax.device_put(init_state(opt, self.p, train.optim, self.dtype), self.dev)
            self.step_fn, self.scan_fn = compiled_steps(cfg, opt)
        self._index = []
        self.step, self._losses, self.seconds = 0, [], 0.0

    def advance(self, k: int) -> None:
        with precision(self.dtype), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Some donated buffers were not usable")
            t0 = time.perf_counter()
            arrays = jax.device_put(_host(self.cfg.model.batches(self.cfg, self.train.seed, self.step, k), self.dtype), self.dev)
            if self.fused:
                self.p, self.state, values = self.scan_fn(self.p, self.state, arrays)
                self._losses.append(values)
            else:
                while len(self._index) < k:
                    self._index.append(jax.device_put(np.int32(len(self._index)), self.dev))
                for i in range(k):
                    self.p, self.state, value = self.step_fn(self.p, self.state, arrays, self._index[i])
                    self._losses.append(value)
            self.step += k
            synchronize((self.p, self.state, self._losses[-1:]))
            self.seconds += time.perf_counter() - t0

    def params(self) -> dict[str, np.ndarray]:
        return {k: np.array(v, np.float64) for k, v in self.p.items()}

    def losses(self) -> np.ndarray:
        if not self._losses:
            return np.zeros(0)
        if self.fused:
            return np.concatenate([np.asarray(a, np.float64).reshape(-1) for a in self._losses])
        return np.array(self._losses, np.float64)

    def memory(self) -> dict:
        return {}


def prepare(cfg, train: Train, variant: str = "jit", device: str = "cpu", seed_params=None) -> Runner:
    check_prepare(name, variants, variant, available(device), device)
    return Runner(cfg, train, variant, device, seed_params)


def loss_and_grad(cfg, params, batch, dtype: str, device: str = "cpu"):
    """jax.value_and_grad of ``loss_jax`` on one step's batch at ``params`` rounded to ``dtype``
    (eagerly, so an error in the user's code points at its line): (float loss, name -> float64 gradient)."""
    dev = jax_device(device)
    with precision(dtype):
        p = jax.device_put({k: np.asarray(params[k], np.float64).astype(dtype) for k in sorted(params)}, dev)
        b = jax.device_put(_host(batch, dtype), dev)
        value, g = jax.value_and_grad(_loss_fn(cfg))(p, *b)
        return float(value), {k: np.asarray(g[k], np.float64) for k in sorted(params)}


def floor(cfg, dtype: str, device: str = "cpu"):
    """k -> None: k passes of the file's loss, forward only (no gradient, no update), in one jitted
    ``lax.fori_loop`` of static length k at the initial parameters on step 0's batch, each pass
    feeding params + 1e-30 loss into the next so XLA can neither hoist nor drop one; finished on
    the device. The cheapest fused pass over part of the step's work."""
    dev = jax_device(device)
    loss = _loss_fn(cfg)
    with precision(dtype):
        p = jax.device_put({k: v.astype(dtype) for k, v in cfg.model.init(cfg, 0).items()}, dev)
        batch = jax.device_put(_host([a[0] for a in cfg.model.batches(cfg, 0, 0, 1)], dtype), dev)

    @functools.partial(jax.jit, static_argnums=2)
    def passes(p, batch, k):
        def one(_, p):
            L = loss(p, *batch)
            return jax.tree_util.tree_map(lambda a: a + (1e-30 * L).astype(a.dtype), p)
        return jax.lax.fori_loop(0, k, one, p)

    def run(k: int) -> None:
        with precision(dtype):
            synchronize(passes(p, batch, k))

    return run
