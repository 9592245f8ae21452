"""JAX backend: jax.grad + optax. Mirrors ``torch_backend`` function by function.

Variants
  jit   one jitted step per call (value_and_grad, optax update), a host loop over steps.
  scan  k steps fused into one jitted ``lax.scan`` per call, the state buffers donated.
Ensembles: ``jax.vmap`` of the scalar-w loss over the E weights; optax acts element-wise on the
(E,) parameter vector, so the members stay independent.
float64 runs inside ``jax.enable_x64(True)``, a context manager: nothing leaks to other code.
"""
from __future__ import annotations

import functools
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .spec import Data, Recipe, Trajectory, canonical_device, invalid

name = "jax"
variants = ("jit", "scan")


def available(device: str = "cpu") -> tuple[bool, str]:
    if canonical_device(device) == "gpu":
        try:
            jax.devices("gpu")
        except RuntimeError:
            return False, "no GPU: jax.devices('gpu') finds none (a CPU-only jaxlib?)"
    return True, ""


def numeric_environment() -> dict:
    """What decides XLA:CPU's code here: versions, XLA_FLAGS, the ISA cap ``--xla_cpu_max_isa``
    (XLA's counterpart of ATEN_CPU_CAPABILITY; unset = every feature of the host), thread pool.

    jaxlib exposes no API for the CPU target's features; its LLVM IR dumps (--xla_dump_to) name no
    target-cpu, only "prefer-vector-width" (docs/numerics.md)."""
    import os
    import re

    import jaxlib

    flags = os.environ.get("XLA_FLAGS", "")
    cap = re.search(r"--xla_cpu_max_isa=(\S+)", flags)
    return {"version": jax.__version__, "jaxlib": jaxlib.__version__,
            "platform_version": jax.devices("cpu")[0].client.platform_version,
            "xla_flags": flags, "xla_cpu_max_isa": cap.group(1).upper() if cap else "host",
            "cpu_devices": len(jax.devices("cpu"))}


def jax_device(device: str):
    return jax.devices("gpu" if canonical_device(device) == "gpu" else "cpu")[0]


def precision(dtype: str):
    """The x64 switch for ``dtype``, as a context manager scoped to the caller's block."""
    return jax.enable_x64(dtype == "float64")


def synchronize(tree) -> None:
    """Block until every array in ``tree`` is computed (dispatch is asynchronous, also on CPU)."""
    jax.block_until_ready(tree)


def member_loss(w, x, y, q):
    """Scalar w, x/y/q (n,) -> mean_i q_i (sin(w x_i)^2 - y_i)^2 (q None: the plain mean)."""
    sq = (jnp.sin(w * x) ** 2 - y) ** 2
    return jnp.mean(sq if q is None else sq * q)


loss_and_grads = jax.vmap(jax.value_and_grad(member_loss), in_axes=(0, None, None, None))


def make_optimizer(recipe: Recipe) -> optax.GradientTransformation:
    """optax with the suite's semantics: the same updates as ``torch_backend.make_optimizer``.

    The learning rate lives in the optimizer state (``optax.inject_hyperparams``), not in the
    compiled code, so runs that differ only in lr (curriculum stages, lr sweeps) share one compiled
    step; the other hyper-parameters stay static. The update is the same multiplication by -lr.
    """
    return _optimizer(recipe.optimizer, recipe.momentum, recipe.nesterov, recipe.beta1,
                      recipe.beta2, recipe.eps)


@functools.lru_cache(maxsize=None)
def _optimizer(kind: str, momentum: float, nesterov: bool, b1: float, b2: float, eps: float):
    if kind == "sgd":
        return optax.inject_hyperparams(optax.sgd)(learning_rate=1.0)
    if kind == "momentum":
        return optax.inject_hyperparams(optax.sgd, static_args=("momentum", "nesterov"))(
            learning_rate=1.0, momentum=momentum, nesterov=nesterov)
    return optax.inject_hyperparams(optax.adam, static_args=("b1", "b2", "eps"))(
        learning_rate=1.0, b1=b1, b2=b2, eps=eps)


def init_state(opt: optax.GradientTransformation, w, lr: float):
    """opt.init(w) with the learning rate set to ``lr`` in w's dtype."""
    state = opt.init(w)
    state.hyperparams["learning_rate"] = jnp.asarray(lr, dtype=w.dtype)
    return state


def _columns(data: Data, dtype: str, dev, loss: str):
    """x, y as (n,) arrays of dtype on dev; q (n,) for the scaled loss, else None."""
    x, y = data.as_dtype(dtype)
    q = None if loss == "mse" else (1 / np.maximum(x, 1) ** 2).astype(x.dtype)
    put = lambda a: None if a is None else jax.device_put(a, dev)
    return put(x), put(y), put(q)


@functools.lru_cache(maxsize=None)
def compiled_steps(opt: optax.GradientTransformation):
    """(step, scan) for one optimizer, jitted once per process and shared by every Runner.

    step: (w (E,), opt_state, x, y, q) -> (w', opt_state', (w, loss (E,))), one training step.
    scan: (w, opt_state, x, y, q, k) -> (w', opt_state', ws (k, E), losses (k, E)), k steps fused
          with ``lax.scan``; w and the optimizer state are donated.
    """

    def step(w, state, x, y, q):
        loss, g = loss_and_grads(w, x, y, q)
        updates, state = opt.update(g, state, w)
        return optax.apply_updates(w, updates), state, (w, loss)

    def scan(w, state, x, y, q, k):
        def body(carry, _):
            w, state, out = step(*carry, x, y, q)
            return (w, state), out

        (w, state), (ws, losses) = jax.lax.scan(body, (w, state), None, length=k)
        return w, state, ws, losses

    return jax.jit(step), jax.jit(scan, static_argnums=5, donate_argnums=(0, 1))


class Runner:
    """Training state on the device; ``advance(k)`` runs k steps, history kept on device."""

    def __init__(self, data: Data, recipe: Recipe, variant: str, device: str):
        self.recipe, self.variant, self.dtype = recipe, variant, recipe.dtype
        self.device = canonical_device(device)
        self.dev = jax_device(device)
        with precision(recipe.dtype):
            self.x, self.y, self.q = _columns(data, recipe.dtype, self.dev, recipe.loss)
            self.w = jax.device_put(recipe.w0_array.astype(recipe.dtype), self.dev)
            opt = make_optimizer(recipe)
            self.state = init_state(opt, self.w, recipe.lr)
            self.step, self.scan = compiled_steps(opt)
        self.ws, self.losses = [], []
        self.seconds = 0.0
        self._last_k = 1

    def advance(self, k: int) -> None:
        with precision(self.dtype), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Some donated buffers were not usable")
            t0 = time.perf_counter()
            if self.variant == "scan":
                self._last_k = k
                self.w, self.state, ws, losses = self.scan(self.w, self.state, self.x, self.y, self.q, k)
                self.ws.append(ws)
                self.losses.append(losses)
            else:
                for _ in range(k):
                    self.w, self.state, (w, loss) = self.step(self.w, self.state, self.x, self.y, self.q)
                    self.ws.append(w)  # (E,): reshaped on the host in trajectory(), no op per step
                    self.losses.append(loss)
            synchronize((self.w, self.state, self.ws[-1:], self.losses[-1:]))
            self.seconds += time.perf_counter() - t0

    def memory(self) -> dict:
        """The compiled step's (scan: of the last k advanced) XLA memory analysis: arguments,
        outputs, temporaries and their peak, in bytes, for one call; the same on CPU and GPU."""
        with precision(self.dtype):
            args = (self.w, self.state, self.x, self.y, self.q)
            fn = self.scan.lower(*args, self._last_k) if self.variant == "scan" else self.step.lower(*args)
            m = fn.compile().memory_analysis()
        if m is None:
            return {}
        out = {k: int(getattr(m, f"{k}_size_in_bytes")) for k in ("argument", "output", "temp")}
        out = {f"compiled_{k}_bytes": v for k, v in out.items()}
        peak = getattr(m, "peak_memory_in_bytes", None)
        if peak is not None:
            out["compiled_peak_bytes"] = int(peak)
        out["source"] = "jax compiled(...).memory_analysis() of the step"
        return out

    def trajectory(self) -> Trajectory:
        with precision(self.dtype):
            final, _ = loss_and_grads(self.w, self.x, self.y, self.q)
            E = self.recipe.ensemble
            w = np.concatenate([np.asarray(a).reshape(-1, E) for a in self.ws + [self.w]])
            loss = np.concatenate([np.asarray(a).reshape(-1, E) for a in self.losses + [final]])
        return Trajectory(name, self.variant, self.device, self.dtype, w, loss,
                          seconds=self.seconds)


def prepare(data: Data, recipe: Recipe, variant: str = "jit", device: str = "cpu") -> Runner:
    if variant not in variants:
        raise invalid("variant", variant, f"for backend {name}: one of " + ", ".join(variants))
    ok, why = available(device)
    if not ok:
        raise invalid("device", device, f"cpu for backend {name} here ({why})")
    return Runner(data, recipe, variant, device)


def loss_and_grad(data: Data, w, dtype: str, device: str = "cpu", loss: str = "mse"):
    """vmap(value_and_grad) of the member loss: two float64 (E,) arrays."""
    dev = jax_device(device)
    with precision(dtype):
        x, y, q = _columns(data, dtype, dev, loss)
        wv = jax.device_put(np.atleast_1d(np.asarray(w, dtype=np.float64)).astype(dtype), dev)
        L, G = jax.jit(loss_and_grads)(wv, x, y, q)
        return np.asarray(L, np.float64), np.asarray(G, np.float64)


def floor(data: Data, w, dtype: str, device: str = "cpu"):
    """k fused passes of sum(sin(w x) + cos(w x)) in one jitted fori_loop, finished on device.

    Each pass feeds w + 1e-30 * sum into the next, so XLA cannot hoist the pass out of the loop.
    """
    dev = jax_device(device)
    with precision(dtype):
        x, _, _ = _columns(data, dtype, dev, "mse")
        wv = jax.device_put(np.atleast_1d(np.asarray(w, dtype=np.float64)).astype(dtype), dev)

    @jax.jit
    def passes(w, x, k):
        def body(_, w):
            wx = x[:, None] * w[None, :]
            return w + 1e-30 * (jnp.sin(wx) + jnp.cos(wx)).sum(axis=0)

        return jax.lax.fori_loop(0, k, body, w)

    def run(k: int) -> None:
        with precision(dtype):
            synchronize(passes(wv, x, k))

    return run


def predict(x: np.ndarray, w: float, dtype: str, device: str = "cpu") -> np.ndarray:
    """bool (n,): jnp.sin(w x)**2 >= 0.5 for integers x (n,), jitted, in ``dtype``."""
    dev = jax_device(device)
    with precision(dtype):
        xs = jax.device_put(np.asarray(x).astype(dtype), dev)
        wv = jax.device_put(np.asarray(w, np.float64).astype(dtype), dev)
        return np.asarray(_predict(wv, xs))


@jax.jit
def _predict(w, x):
    return jnp.sin(w * x) ** 2 >= 0.5
