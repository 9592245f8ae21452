"""The generic torch runner of a user's model (impls/models/user): the file's ``loss_torch`` over
an nn.ParameterDict + torch.optim. Mirrors numpy_backend.py and jax_backend.py.

Parameters  ``nn.ParameterDict`` of the canonical float64 ``init``, rounded to the run's dtype,
            names sorted; ``loss_torch(params, *batch)`` gets it (a dict-like of tensors).
Recipe      torch.optim.SGD / Adam with the contract's definitions
            (impls.models.sparse_parity.torch_model.make_optimizer).
Variants
  eager     the loop a user writes: zero_grad, loss, backward, optimizer.step().
  compiled  loss and gradient (``torch.func.grad_and_value`` of the loss over the parameter dict)
            and torch.optim's own update of each tensor (impls.torch_backend.OptimUpdate) in one
            torch.compile'd function, with inductor's pattern matcher off (its addmm pattern drops
            an alpha: docs/bugs/inductor_addmm_drops_alpha.py).
  torch-eager the eager loop, as the reference of a file without ``loss_numpy`` (run in float64).
Batches: ``batches`` drawn for each ``advance`` on the host, copied to the device once, floating
arrays converted to the run's dtype; each step takes views. Losses stay on the device, stacked
every ``HISTORY_CHUNK`` steps.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from ...contract import Train, check_prepare, invalid
from ...torch_backend import (_DTYPES, HISTORY_CHUNK, OptimUpdate, available, device_memory, synchronize,
                             torch_device)
from ..sparse_parity.torch_model import COMPILE_OPTIONS, make_optimizer
from . import call

name = "torch"
variants = ("eager", "compiled", "torch-eager")

__all__ = ["available", "loss_and_grad", "prepare"]


def _to_device(arrays, dt, dev) -> tuple:
    return tuple(torch.as_tensor(np.ascontiguousarray(a)).to(dev).to(dt) if np.issubdtype(a.dtype, np.floating)
                 else torch.as_tensor(np.ascontiguousarray(a)).to(dev) for a in arrays)


def _loss(cfg, params, batch):
    L = call(cfg, "loss_torch", params, *batch)
    if not isinstance(L, torch.Tensor) or L.dim() != 0:
        got = f"shape {tuple(L.shape)}" if isinstance(L, torch.Tensor) else type(L).__name__
        raise invalid(f"{cfg.source}.loss_torch", got, "a 0-dim tensor (the batch's loss)")
    return L


class Runner:
    def __init__(self, cfg, train: Train, variant: str, device: str, seed_params=None):
        self.cfg, self.train, self.variant, self.dtype = cfg, train, variant, train.dtype
        self.dev, self.dt = torch_device(device), _DTYPES[train.dtype]
        start = cfg.model.init(cfg, train.seed) if seed_params is None else seed_params
        self.names = sorted(start)
        self.net = torch.nn.ParameterDict({
            k: torch.nn.Parameter(torch.as_tensor(np.asarray(start[k], np.float64)).to(self.dt).to(self.dev))
            for k in self.names})
        self.optimizer = make_optimizer(list(self.net.values()), train.optim)
        if variant == "compiled":
            self.tensors = tuple(p.detach() for p in self.net.values())
            updates = [OptimUpdate(self.optimizer, t) for t in self.tensors]
            names, loss_fn = self.names, cfg.user.loss_torch

            def step(tensors, batch):
                grads, loss = torch.func.grad_and_value(lambda ps: loss_fn(ps, *batch))(dict(zip(names, tensors)))
                for u, w, k in zip(updates, tensors, names):
                    u(w, grads[k])
                return loss

            graph = torch.compile(step, dynamic=False, options=COMPILE_OPTIONS)
            self.train_step = lambda batch: graph(self.tensors, batch)
        else:
            self.train_step = self._eager_step
        self._hist, self.step, self.seconds = [], 0, 0.0

    def _eager_step(self, batch):
        self.optimizer.zero_grad()
        loss = _loss(self.cfg, self.net, batch)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def advance(self, k: int) -> None:
        t0 = time.perf_counter()
        arrays = _to_device(self.cfg.model.batches(self.cfg, self.train.seed, self.step, k), self.dt, self.dev)
        hist = torch.empty(k, dtype=self.dt, device=self.dev)
        for a in range(0, k, HISTORY_CHUNK):
            m = min(HISTORY_CHUNK, k - a)
            losses = [self.train_step(tuple(x[a + j] for x in arrays)) for j in range(m)]
            torch.stack(losses, out=hist[a:a + m])
        self.step += k
        synchronize(self.dev)
        self.seconds += time.perf_counter() - t0
        self._hist.append(hist)

    def params(self) -> dict[str, np.ndarray]:
        return {k: np.array(p.detach().cpu().numpy(), np.float64) for k, p in self.net.items()}

    def losses(self) -> np.ndarray:
        if not self._hist:
            return np.zeros(0)
        return torch.cat(self._hist).cpu().double().numpy()

    def memory(self) -> dict:
        return device_memory(self.dev)


def prepare(cfg, train: Train, variant: str = "eager", device: str = "cpu", seed_params=None) -> Runner:
    check_prepare(name, variants, variant, available(device), device)
    return Runner(cfg, train, "eager" if variant == "torch-eager" else variant, device, seed_params)


def loss_and_grad(cfg, params, batch, dtype: str, device: str = "cpu"):
    """``loss_torch`` and ``backward()`` on one step's batch at ``params`` rounded to ``dtype``:
    (float loss, name -> float64 gradient; zeros for a parameter the loss does not use)."""
    dev, dt = torch_device(device), _DTYPES[dtype]
    net = torch.nn.ParameterDict({k: torch.nn.Parameter(torch.as_tensor(np.asarray(params[k], np.float64)).to(dt).to(dev))
                                  for k in sorted(params)})
    loss = _loss(cfg, net, _to_device(batch, dt, dev))
    try:
        loss.backward()
    except RuntimeError as e:
        raise invalid(f"{cfg.source}.loss_torch", str(e).splitlines()[0][:200], "a loss that depends on the parameters") from None
    grads = {k: (p.grad if p.grad is not None else torch.zeros_like(p)).detach().cpu().double().numpy()
             for k, p in net.items()}
    return float(loss.detach()), grads


def floor(cfg, dtype: str, device: str = "cpu"):
    """k -> None: k calls of the file's loss, forward only (no gradient, no update), compiled by
    torch.compile, at the initial parameters on step 0's batch, finished on the device: the
    cheapest fused pass over part of the step's work (a step also runs the backward and update)."""
    ok, why = available(device)
    if not ok:
        raise invalid("device", device, f"cpu for backend {name} here ({why})")
    dev, dt = torch_device(device), _DTYPES[dtype]
    p = {k: torch.as_tensor(v).to(dt).to(dev) for k, v in cfg.model.init(cfg, 0).items()}
    batch = _to_device([a[0] for a in cfg.model.batches(cfg, 0, 0, 1)], dt, dev)
    loss_fn = cfg.user.loss_torch
    one = torch.compile(lambda p, batch: loss_fn(p, *batch), dynamic=False)

    def run(k: int) -> None:
        with torch.no_grad():
            for _ in range(k):
                one(p, batch)
        synchronize(dev)

    return run
