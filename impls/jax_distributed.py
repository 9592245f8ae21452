"""JAX data parallel: jax.distributed (a coordinator, gloo CPU collectives or NCCL), one process per
rank. Mirrors ``torch_distributed`` function by function; part of the JAX backend (jax imported here).

Rendezvous: ``jax.distributed.initialize`` with the coordinator at MASTER_ADDR:MASTER_PORT, the
torchrun variables (RANK, WORLD_SIZE) giving process_id and num_processes, so one launcher
(impls/launch.py, or torchrun on N hosts) starts either framework.

The step (variant "jit"): a Mesh over every process's device, axis "data"; x, y and the loss
weights q sharded along it (``jax.make_array_from_process_local_data``), w and the optimizer state
replicated. The jitted step is the one-process step's formula written as sum_i q_i (f_i - y_i)^2 / n,
with q = 0 on the rows that pad n up to a multiple of P; XLA inserts the all-reduce of the sums.
"""
from __future__ import annotations

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from . import jax_backend as jb
from .spec import Data, Recipe, Trajectory, invalid

name = "jax"
variants = ("jit",)
ENGINE = "jax.distributed (coordinator) + gloo CPU collectives / NCCL (GPU), sharded jit"


def initialize(timeout: float, device: str = "cpu", coordinator: str = "127.0.0.1:0",
               rank: int = 0, world: int = 1) -> tuple[int, int]:
    """Start or join the coordinator; (rank, world size). CPU collectives: gloo. A coordinator on
    127.0.0.1 binds 127.0.0.1 only (jax's default binds every interface, for other hosts)."""
    if device == "cpu":
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    import os

    local = coordinator.split(":")[0] in ("127.0.0.1", "localhost")
    gpu = [int(os.environ.get("LOCAL_RANK", rank))] if device == "gpu" else None  # one GPU per local rank
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=world, process_id=rank,
                               initialization_timeout=int(max(1, timeout)), local_device_ids=gpu,
                               coordinator_bind_address=coordinator if local else None)
    return jax.process_index(), jax.process_count()


def shutdown() -> None:
    jax.distributed.shutdown()


def member_sum(w, x, y, q, n):
    """Scalar w; x, y, q (n_padded,) sharded -> sum_i q_i (sin(w x_i)^2 - y_i)^2 / n."""
    return jnp.sum((jnp.sin(w * x) ** 2 - y) ** 2 * q) / n


_loss_and_grads = jax.vmap(jax.value_and_grad(member_sum), in_axes=(0, None, None, None, None))


@functools.lru_cache(maxsize=None)
def _compiled_step(opt):
    def step(w, state, x, y, q, n):
        loss, g = _loss_and_grads(w, x, y, q, n)
        updates, state = opt.update(g, state, w)
        return optax.apply_updates(w, updates), state, (w, loss)

    return jax.jit(step)


class Runner:
    """One process's part of a data-parallel run; ``advance(k)`` runs k global steps."""

    def __init__(self, data: Data, recipe: Recipe, variant: str, device: str, rank: int, world: int):
        if variant not in variants:
            raise invalid("variant", variant, f"for backend {name} with processes > 1: one of " + ", ".join(variants))
        if data.n < world:
            raise invalid("processes", world, f"at most n = {data.n} (one row per process at least)")
        self.recipe, self.variant, self.dtype = recipe, variant, recipe.dtype
        self.device = device
        with jb.precision(recipe.dtype):
            kind = "gpu" if device == "gpu" else "cpu"
            devs = [d for d in jax.devices() if d.platform == kind or (kind == "gpu" and d.platform == "cuda")]
            self.mesh = Mesh(np.array(devs[:world] if len(devs) >= world else devs), ("data",))
            rows = NamedSharding(self.mesh, P("data"))
            self.rep = NamedSharding(self.mesh, P())
            per = -(-data.n // world)  # rows per process, n padded to per * world
            x, y = data.as_dtype(recipe.dtype)
            q = np.ones_like(x) if recipe.loss == "mse" else (1 / np.maximum(x, 1) ** 2).astype(x.dtype)
            pad = per * world - data.n
            x, y, q = (np.concatenate([a, np.zeros(pad, a.dtype)]) for a in (x, y, q))
            mine = slice(rank * per, (rank + 1) * per)
            glob = (per * world,)
            put = lambda a: jax.make_array_from_process_local_data(rows, a[mine], glob)  # noqa: E731
            self.x, self.y, self.q = put(x), put(y), put(q)
            self.n = jax.device_put(np.asarray(data.n, recipe.dtype), self.rep)
            self.w = jax.device_put(recipe.w0_array.astype(recipe.dtype), self.rep)
            opt = jb.make_optimizer(recipe)
            self.state = jax.device_put(jb.init_state(opt, recipe.w0_array.astype(recipe.dtype), recipe.lr), self.rep)
            self.step = _compiled_step(opt)
        self.ws, self.losses, self.seconds = [], [], 0.0

    def advance(self, k: int) -> None:
        with jb.precision(self.dtype):
            t0 = time.perf_counter()
            for _ in range(k):
                self.w, self.state, (w, loss) = self.step(self.w, self.state, self.x, self.y, self.q, self.n)
                self.ws.append(w)
                self.losses.append(loss)
            jb.synchronize((self.w, self.losses[-1:]))
            self.seconds += time.perf_counter() - t0

    def trajectory(self) -> Trajectory:
        with jb.precision(self.dtype):
            final, _ = jax.jit(_loss_and_grads)(self.w, self.x, self.y, self.q, self.n)
            E = self.recipe.ensemble
            host = lambda a: np.asarray(jax.device_get(a)).reshape(-1, E)  # noqa: E731 - replicated
            w = np.concatenate([host(a) for a in self.ws + [self.w]])
            loss = np.concatenate([host(a) for a in self.losses + [final]])
        return Trajectory(name, self.variant, self.device, self.dtype, w, loss, seconds=self.seconds)


def gather_members(w: np.ndarray, loss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every process's (steps+1, E_r) w and loss, joined along E in process order, on every
    process (``multihost_utils.process_allgather``; parts padded to the largest E_r with NaN)."""
    from jax.experimental import multihost_utils

    with jax.enable_x64(True):  # float64 trajectories stay float64 on their way through jax arrays
        counts = np.asarray(multihost_utils.process_allgather(np.array([w.shape[1]]))).reshape(-1)
        width = int(counts.max())
        pad = lambda a: np.pad(a, ((0, 0), (0, width - a.shape[1])), constant_values=np.nan)  # noqa: E731
        both = np.asarray(multihost_utils.process_allgather(np.stack([pad(w), pad(loss)])))  # (P, 2, T, width)
    return (np.concatenate([both[r, 0, :, :c] for r, c in enumerate(counts)], axis=1),
            np.concatenate([both[r, 1, :, :c] for r, c in enumerate(counts)], axis=1))


def prepare(data: Data, recipe: Recipe, variant: str, device: str, rank: int, world: int) -> Runner:
    return Runner(data, recipe, variant, device, rank, world)
