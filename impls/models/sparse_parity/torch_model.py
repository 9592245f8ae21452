"""Sparse parity in PyTorch: torch.nn + torch.optim. Mirrors reference.py and jax_model.py.

Model  ``MLP``: fc1 = Linear(n, H) -> ReLU -> fc2 = Linear(H, 1), f (B,); loaded from the
       canonical float64 parameters (fc1.weight = W1 (H, n), fc1.bias = b1, fc2.weight = w2 as its
       one row (1, H), fc2.bias = b2 (1,)), rounded to the run's dtype.
Loss   ``hinge``: torch.relu(1 - y f).mean(), the value of torch.clamp(1 - y f, min=0).mean()
       with the reference's subgradient 0 at the kink (clamp's backward passes 1 at 0).
Recipe ``make_optimizer``: torch.optim.SGD (weight_decay; momentum with dampening 0) or Adam
       (weight_decay: L2 added to the gradient, not AdamW).

Variants
  eager     the loop a user writes: zero_grad, forward, loss, backward, optimizer.step().
  compiled  forward, loss and gradient (``torch.func.grad_and_value`` of the functional forward
            over the four tensors) and torch.optim's own update of each tensor
            (impls.torch_backend.OptimUpdate: ``torch.optim.sgd.sgd`` / ``adam.adam``) in one
            torch.compile'd function, as the seed's compiled variant; the tensors are arguments,
            not a module's attributes (dynamo's guards on a module cost the seed 2x per call).
            Compiled with inductor's pattern matcher off (``COMPILE_OPTIONS``: a bug of its
            addmm pattern, docs/bugs/inductor_addmm_drops_alpha.py).
Batches: the runner draws them with ``spec.batches`` one chunk of ``spec.CHUNK`` steps at a time
(``reference.HostBatches``), copies each chunk once to the device (int8) and converts it there to
the run's dtype; each step takes its batch as a view of the chunk. Each step's loss stays on the
device and is stacked every ``HISTORY_CHUNK`` steps (impls/torch_backend.py says why).
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from ...contract import Optim, Train, check_prepare, invalid
from ...torch_backend import (_DTYPES, HISTORY_CHUNK, OptimUpdate, _allow_recompiles, _graphed, device_memory,
                              available, synchronize, torch_device)
from . import spec
from .reference import HostBatches
from .spec import PARAMS, Config

name = "torch"
variants = ("eager", "compiled")
# inductor's post-grad pattern matcher off for the compiled step: its ``addmm`` pattern turns
# torch.optim's ``param.add_(grad, alpha=-lr)`` and ``grad.add(param, alpha=wd)`` into
# addmm(param, ...) without the alpha when grad is an mm output, as dW1 and dw2 are here
# (torch 2.13.0: the step moved W1 by +grad; docs/bugs/inductor_addmm_drops_alpha.py)
COMPILE_OPTIONS = {"pattern_matcher": False}

__all__ = ["MLP", "available", "floor", "hinge", "loss_and_grad", "make_optimizer", "mlp", "prepare"]


def mlp(x, W1, b1, W2, b2):
    """f (B,) = fc2(relu(fc1(x))) for x (B, n), W1 (H, n), b1 (H,), W2 (1, H), b2 (1,): what
    ``MLP.forward`` computes (nn.Linear is F.linear), written over its tensors."""
    return F.linear(torch.relu(F.linear(x, W1, b1)), W2, b2).reshape(-1)


def hinge(f, y):
    """mean_b max(0, 1 - y_b f_b), subgradient 0 at the kink (torch.relu's)."""
    return torch.relu(1 - y * f).mean()


class MLP(torch.nn.Module):
    """Linear(n, H) -> ReLU -> Linear(H, 1), holding ``params`` (name -> array, spec's names)."""

    def __init__(self, cfg: Config, params, dtype: torch.dtype, device: torch.device):
        super().__init__()
        self.fc1 = torch.nn.Linear(cfg.n, cfg.width, dtype=dtype, device=device)
        self.fc2 = torch.nn.Linear(cfg.width, 1, dtype=dtype, device=device)
        with torch.no_grad():
            for t, k in zip(self.tensors(), PARAMS):
                t.copy_(torch.as_tensor(np.asarray(params[k], np.float64).reshape(t.shape), dtype=dtype))

    def tensors(self) -> tuple[torch.Tensor, ...]:
        """(W1 (H, n), b1 (H,), W2 (1, H), b2 (1,)): the parameters, spec's order."""
        return self.fc1.weight, self.fc1.bias, self.fc2.weight, self.fc2.bias

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x))).reshape(-1)

    def params(self) -> dict[str, np.ndarray]:
        """name -> float64 array of spec's shapes (w2 (H,) from fc2.weight's row), a copy (a
        float64 CPU tensor's .numpy() would share the storage the steps update in place)."""
        return {k: np.array(t.detach().reshape(-1 if k == "w2" else t.shape).cpu().numpy(), np.float64)
                for k, t in zip(PARAMS, self.tensors())}


def make_optimizer(params, optim: Optim) -> torch.optim.Optimizer:
    """torch.optim with the contract's definitions (impls.contract.Optim)."""
    if optim.optimizer == "sgd":
        return torch.optim.SGD(params, lr=optim.lr, weight_decay=optim.weight_decay)
    if optim.optimizer == "momentum":
        return torch.optim.SGD(params, lr=optim.lr, momentum=optim.momentum, dampening=0,
                               nesterov=optim.nesterov, weight_decay=optim.weight_decay)
    return torch.optim.Adam(params, lr=optim.lr, betas=(optim.beta1, optim.beta2), eps=optim.eps,
                            weight_decay=optim.weight_decay)


def one_graph_step(updates: list[OptimUpdate]):
    """step(W1, b1, W2, b2, x (B, n), y (B,)) -> loss before the step (0-dim), the four tensors
    updated in place: the hinge of ``mlp`` and its gradient by ``torch.func.grad_and_value``, then
    torch.optim's update of each tensor; one function for torch.compile."""
    def step(W1, b1, W2, b2, x, y):
        def objective(params):
            return hinge(mlp(x, *params), y)

        grads, loss = torch.func.grad_and_value(objective)((W1, b1, W2, b2))
        for update, w, g in zip(updates, (W1, b1, W2, b2), grads):
            update(w, g)
        return loss

    return step


class Runner:
    """The training loop on the device; ``advance(k)`` runs k steps, each step's loss kept there."""

    def __init__(self, cfg: Config, train: Train, variant: str, device: str, seed_params=None):
        self.cfg, self.train, self.variant, self.dtype = cfg, train, variant, train.dtype
        self.dev = torch_device(device)
        self.dt = _DTYPES[train.dtype]
        start = spec.init(cfg, train.seed) if seed_params is None else seed_params
        self.net = MLP(cfg, start, self.dt, self.dev)
        self.optimizer = make_optimizer(self.net.parameters(), train.optim)
        self.data = HostBatches(cfg, train.seed)
        self._c, self._x, self._y = -1, None, None
        self.step = 0
        self.train_step = self._eager_step
        if variant == "compiled":
            _allow_recompiles()
            self.tensors = tuple(t.detach() for t in self.net.tensors())  # the parameters' storage
            self.updates = [OptimUpdate(self.optimizer, t) for t in self.tensors]
            graph = torch.compile(one_graph_step(self.updates), dynamic=False, options=COMPILE_OPTIONS)
            self.train_step = lambda x, y: graph(*self.tensors, x, y)
        self._hist, self.seconds = [], 0.0
        if self.dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.dev)

    def _eager_step(self, x, y):
        """The user's step: zero_grad, forward through the module, loss, backward, step."""
        self.optimizer.zero_grad()
        loss = hinge(self.net(x), y)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def _batch(self, t: int):
        """(x (B, n), y (B,)) of step t, dtype tensors on the device: views of its chunk, which is
        drawn, copied and converted once."""
        c, i = divmod(t, spec.CHUNK)
        if c != self._c:
            x, y = self.data.chunk(c)
            self._x = torch.as_tensor(x).to(self.dev).to(self.dt)
            self._y = torch.as_tensor(y).to(self.dev).to(self.dt)
            self._c = c
        return self._x[i], self._y[i]

    def advance(self, k: int) -> None:
        t0 = time.perf_counter()
        hist = torch.empty(k, dtype=self.dt, device=self.dev)
        for a in range(0, k, HISTORY_CHUNK):  # live step outputs stay bounded (HISTORY_CHUNK)
            m = min(HISTORY_CHUNK, k - a)
            losses = [self.train_step(*self._batch(self.step + a + j)) for j in range(m)]
            torch.stack(losses, out=hist[a:a + m])
        self.step += k
        synchronize(self.dev)
        self.seconds += time.perf_counter() - t0
        self._hist.append(hist)

    def params(self) -> dict[str, np.ndarray]:
        return self.net.params()

    def losses(self) -> np.ndarray:
        if not self._hist:
            return np.zeros(0)
        return torch.cat(self._hist).cpu().double().numpy()

    def memory(self) -> dict:
        return device_memory(self.dev)


def prepare(cfg: Config, train: Train, variant: str = "eager", device: str = "cpu",
            seed_params=None) -> Runner:
    """A run of ``train`` on ``cfg`` from ``spec.init(cfg, train.seed)`` (or ``seed_params``)."""
    check_prepare(name, variants, variant, available(device), device)
    return Runner(cfg, train, variant, device, seed_params)


def loss_and_grad(cfg: Config, params, x: np.ndarray, y: np.ndarray, dtype: str, device: str = "cpu"):
    """The module's forward, the hinge and ``backward()`` on one batch x int8 (B, n), y int8 (B,):
    (float loss, name -> float64 gradient of spec's shapes)."""
    dev, dt = torch_device(device), _DTYPES[dtype]
    net = MLP(cfg, params, dt, dev)
    loss = hinge(net(torch.as_tensor(np.asarray(x)).to(dev).to(dt)),
                 torch.as_tensor(np.asarray(y)).to(dev).to(dt))
    loss.backward()
    grads = {k: t.grad.detach().reshape(cfg.shapes[k]).cpu().double().numpy()
             for k, t in zip(PARAMS, net.tensors())}
    return float(loss.detach()), grads


def floor(cfg: Config, dtype: str, device: str = "cpu"):
    """k -> None: k calls of one torch.compile'd pass of the step's three matmuls at its shapes,
    z = x W1^T (B, n)x(n, H), z w2 (B, H)x(H,) and z^T x (H, B)x(B, n) (dW1's product, z standing
    in for g_z), finished on device (on a GPU: replayed from one CUDA graph per k, as the seed's
    floor). ``spec.flops(cfg)`` counts the step's matmul FLOPs for a roofline."""
    ok, why = available(device)
    if not ok:
        raise invalid("device", device, f"cpu for backend {name} here ({why})")
    dev, dt = torch_device(device), _DTYPES[dtype]
    p = spec.init(cfg, 0)
    W1 = torch.as_tensor(p["W1"], dtype=dt, device=dev)
    w2 = torch.as_tensor(p["w2"], dtype=dt, device=dev)
    x = torch.as_tensor(spec.batches(cfg, 0, 0, 1)[0][0]).to(dev).to(dt)

    @torch.compile(dynamic=False)
    def one_pass(x, W1, w2):
        z = x @ W1.T
        return z @ w2, z.T @ x

    if dev.type == "cuda":
        return _graphed(lambda: one_pass(x, W1, w2), dev)

    def run(k: int) -> None:
        for _ in range(k):
            one_pass(x, W1, w2)
        synchronize(dev)

    return run
