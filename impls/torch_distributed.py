"""PyTorch data parallel: torch.distributed (gloo on the CPU, NCCL on a GPU), one process per rank.
Mirrors ``jax_distributed`` function by function; part of the torch backend (torch imported here).

Rendezvous: ``init_process_group(init_method="env://")`` reads the torchrun variables MASTER_ADDR,
MASTER_PORT, RANK, WORLD_SIZE, so the same worker runs under ``torchrun`` on N hosts or under
``paritybench train --processes P`` on one (impls/launch.py).

The step (variant "eager", the seed's module and optimizer): rank r holds rows
[r n / P, (r + 1) n / P) of x and y. Its objective is sum_i q_i (f_i - y_i)^2 / n over its rows
(the global mean's share), ``backward()`` gives its share of the gradient, one ``all_reduce(SUM)``
of [member losses (E), gradient (E)] gives the global mean loss and gradient on every rank, and the
torch.optim optimizer steps. w is replicated: every rank applies the same update to the same sums.
"""
from __future__ import annotations

import datetime
import time

import numpy as np
import torch
import torch.distributed as dist

from . import torch_backend as tb
from .spec import Data, Recipe, Trajectory, invalid

name = "torch"
variants = ("eager",)
ENGINE = "torch.distributed gloo (CPU) / nccl (GPU), TCPStore rendezvous (env:// across hosts)"


def initialize(timeout: float, device: str = "cpu") -> tuple[int, int]:
    """Join the process group from the torchrun environment; (rank, world size).

    A local run of ``impls.launch`` (MASTER_ADDR on loopback, not under torchrun): rank 0 serves
    torch's own TCPStore on a socket bound to 127.0.0.1 (``master_listen_fd``; the env:// store
    listens on every interface), and every rank joins through it. Otherwise env://: under torchrun,
    whose agent serves the store, on one host or several."""
    import os
    import socket

    backend = "nccl" if device == "gpu" else "gloo"
    if device == "gpu":  # one GPU per local rank (NCCL refuses two ranks on one device)
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", os.environ["RANK"])))
    td = datetime.timedelta(seconds=timeout)
    addr = os.environ["MASTER_ADDR"]
    if addr not in ("127.0.0.1", "localhost") or os.environ.get("TORCHELASTIC_RUN_ID"):
        dist.init_process_group(backend, init_method="env://", timeout=td)
        return dist.get_rank(), dist.get_world_size()
    rank, world, port = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["MASTER_PORT"])
    listen = None
    if rank == 0:
        listen = socket.socket()
        listen.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listen.bind(("127.0.0.1", port))
        listen.listen(world * 4)
    store = dist.TCPStore("127.0.0.1", port, world, rank == 0, td, True, False,
                          listen.detach() if listen is not None else None)
    dist.init_process_group(backend, store=store, rank=rank, world_size=world, timeout=td)
    return dist.get_rank(), dist.get_world_size()


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def shard(n: int, rank: int, world: int) -> slice:
    """Rows of rank ``rank``: [rank n / world, (rank + 1) n / world), sizes differing by at most 1."""
    return slice(rank * n // world, (rank + 1) * n // world)


class Runner:
    """One rank's part of a data-parallel run; ``advance(k)`` runs k global steps."""

    def __init__(self, data: Data, recipe: Recipe, variant: str, device: str, rank: int, world: int):
        if variant not in variants:
            raise invalid("variant", variant, f"for backend {name} with processes > 1: one of " + ", ".join(variants))
        self.recipe, self.variant, self.dtype, self.n = recipe, variant, recipe.dtype, data.n
        self.dev = tb.torch_device(device)
        part = shard(data.n, rank, world)
        local = Data(data.x[part], data.y[part]) if part.stop > part.start else None
        if local is None:
            raise invalid("processes", world, f"at most n = {data.n} (one row per process at least)")
        self.x, self.y, self.q = tb._columns(local, recipe.dtype, self.dev, recipe.loss)
        self.net = tb.Net(recipe.w0_array, tb._DTYPES[recipe.dtype], self.dev)
        self.optimizer = tb.make_optimizer(self.net.parameters(), recipe)
        self.ws, self.losses, self.seconds, self.comm_seconds = [], [], 0.0, 0.0

    def _members(self):
        """Member losses' shares (E,): sum over this rank's rows of q (f - y)^2, / n."""
        sq = (self.net(self.x) - self.y) ** 2
        return (sq if self.q is None else sq * self.q).sum(dim=0) / self.n

    def _step(self):
        self.optimizer.zero_grad()
        members = self._members()
        members.sum().backward()
        weight = self.net.fc1.weight
        both = torch.cat([members.detach(), weight.grad.reshape(-1)])
        t0 = time.perf_counter()
        dist.all_reduce(both)  # SUM over ranks: the global mean loss and gradient
        self.comm_seconds += time.perf_counter() - t0
        E = members.numel()
        weight.grad.copy_(both[E:].reshape(weight.grad.shape))
        self.optimizer.step()
        return both[:E]

    def advance(self, k: int) -> None:
        t0 = time.perf_counter()
        for _ in range(k):
            self.ws.append(self.net.fc1.weight.detach().reshape(-1).clone())
            self.losses.append(self._step())
        tb.synchronize(self.dev)
        self.seconds += time.perf_counter() - t0

    def final_loss(self) -> torch.Tensor:
        with torch.no_grad():
            m = self._members()
        dist.all_reduce(m)
        return m

    def trajectory(self) -> Trajectory:
        final = self.final_loss()
        w = torch.stack(self.ws + [self.net.fc1.weight.detach().reshape(-1)]).cpu().numpy()
        loss = torch.stack(self.losses + [final]).cpu().numpy()
        return Trajectory(name, self.variant, tb.canonical_device(self.dev.type), self.dtype, w, loss,
                          seconds=self.seconds, meta={"comm_seconds": self.comm_seconds})


def gather_members(w: np.ndarray, loss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every rank's (steps+1, E_r) w and loss, joined along E in rank order, on every rank
    (``all_gather_object``): the sharded ensemble's result."""
    parts = [None] * dist.get_world_size()
    dist.all_gather_object(parts, (w, loss))
    return np.concatenate([p[0] for p in parts], axis=1), np.concatenate([p[1] for p in parts], axis=1)


def prepare(data: Data, recipe: Recipe, variant: str, device: str, rank: int, world: int) -> Runner:
    return Runner(data, recipe, variant, device, rank, world)
