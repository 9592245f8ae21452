"""PyTorch backend: torch.nn + torch.optim. Mirrors ``jax_backend`` function by function.

Variants
  eager     the seed's loop, literally: Linear(1, 1, bias=False) -> sin -> **2, MSELoss, torch.optim;
            on the seed's data its trajectory is the seed's, bit for bit.
  compiled  the same weight, loss and torch.optim update; forward, loss and gradient
            (``torch.func.grad_and_value``) and torch.optim's update function (``OptimUpdate``)
            form one torch.compile'd function, so inductor computes sin, cos and both sums in one
            pass over the data. Measured at n = 1e6 (one thread): forward + ``loss.backward()``
            compiled apart cost 3.1x the floor (two kernels, sin recomputed, Linear's mm left to a
            library call), one graph 1.4x.
  graphed   (GPU only) the compiled step, K steps captured in one CUDA graph and replayed per
            ``advance(K)``: one launch per K steps, as a JAX scan fuses them.
  compiled-tuned  the tuned tier (docs/gap.md): loss and gradient written out (spec's formulas)
            with sin and cos from one shared range reduction and two polynomials (``poly_sincos``,
            impls/sincos.py), one torch.compile'd function with torch.optim's update; while
            max|w| max|x| >= sincos.T_MAX (checked on the host before each step) the compiled
            step runs instead.
Ensembles: Linear(1, E) broadcasts x (n, 1) to (n, E); the objective is the sum of the E members'
mean losses, so each weight gets exactly its own member's gradient.
"""
from __future__ import annotations

import hashlib
import os
import time

import numpy as np
import torch

from . import sincos as poly
from .spec import OPS, Data, Recipe, Trajectory, canonical_device, invalid

name = "torch"
variants = ("eager", "compiled", "graphed", "compiled-tuned")
GRAPH_CHUNK = 1024  # steps per CUDA graph (graphed), at most
# Steps per history stack (eager, compiled), at most: each step's two (E,) outputs stay live until
# the stack, and on the CPU more of them scatter among a large step's temporaries in glibc's heap,
# which then grows and faults in new pages at every step: at 1024, torch eager at n = 1e6 took
# 1,500-1,700 minor faults and 10-26 ms a step over its first ~2,500 steps against 0 and 7 ms after
# (docs/time-to-train.md, ``python -m bench.studies.probe_history_chunk``).
HISTORY_CHUNK = 32
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def numeric_key() -> str:
    """'torch<version>-<CPU capability>-<hash of the CPU model and ISA flags>': what a compiled
    CPU kernel's numbers depend on beyond its source (e.g. torch2.13.0+cpu-AVX2-1a2b3c4d)."""
    from .numenv import cpu_model, cpu_flags
    ident = (cpu_model() + " " + " ".join(cpu_flags())).encode()
    return (f"torch{torch.__version__}-{torch.backends.cpu.get_cpu_capability()}-"
            f"{hashlib.sha256(ident).hexdigest()[:8]}")


def key_inductor_cache() -> str:
    """Point inductor's on-disk cache (TORCHINDUCTOR_CACHE_DIR) at a subdirectory of the chosen one
    named by ``numeric_key()``, and return it.

    Inductor's cache keys omit the CPU capability: kernels built under one ATEN_CPU_CAPABILITY are
    served under another and compute wrong numbers (torch 2.13.0: a compiled Adam step's loss
    0.194 for 0.381; docs/bugs/inductor-cache-cpu-capability.md). A trailing component from an
    earlier key (a parent process's, inherited through the environment) is replaced, not nested.
    """
    from torch._inductor.runtime.cache_dir_utils import default_cache_dir
    base = os.environ.get("TORCHINDUCTOR_CACHE_DIR") or default_cache_dir()
    base = os.path.abspath(base)
    if os.path.basename(base).startswith("paritybench-"):
        base = os.path.dirname(base)
    path = os.path.join(base, "paritybench-" + numeric_key())
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = path
    return path


key_inductor_cache()  # before anything is compiled in this process


def numeric_environment() -> dict:
    """What decides torch's CPU code here: version, the CPU capability its kernels dispatch to
    (ATEN_CPU_CAPABILITY caps it), threads, the BLAS/OpenMP of its build, inductor's cache key."""
    import re
    blas = re.search(r"BLAS_INFO=([^,]+)", torch.__config__.show())
    return {"version": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads(),
            "blas": blas and blas.group(1), "mkldnn": torch.backends.mkldnn.is_available(),
            "inductor_cache_key": numeric_key()}


def available(device: str = "cpu") -> tuple[bool, str]:
    if canonical_device(device) == "gpu" and not torch.cuda.is_available():
        return False, "no GPU: torch.cuda.is_available() is False"
    return True, ""


def torch_device(device: str) -> torch.device:
    return torch.device("cuda" if canonical_device(device) == "gpu" else "cpu")


def device_memory(dev: torch.device) -> dict:
    """A runner's ``memory()``: on a GPU, torch.cuda.max_memory_allocated since prepare (the caching
    allocator's peak of live tensors, this process); on the CPU {} (torch keeps no CPU allocator
    statistics)."""
    if dev.type != "cuda":
        return {}
    return {"device_peak_bytes": int(torch.cuda.max_memory_allocated(dev)),
            "source": "torch.cuda.max_memory_allocated since prepare"}


def synchronize(device: torch.device) -> None:
    """Finish queued device work (a no-op on the CPU, where torch runs synchronously)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Net(torch.nn.Module):
    """The seed's network: fc1 = Linear(1, E, bias=False), forward x (n, 1) -> sin(fc1(x))**2 (n, E)."""

    def __init__(self, w0: np.ndarray, dtype: torch.dtype, device: torch.device):
        super().__init__()
        self.fc1 = torch.nn.Linear(1, len(w0), bias=False, dtype=dtype, device=device)
        with torch.no_grad():
            self.fc1.weight.copy_(torch.as_tensor(w0.reshape(-1, 1), dtype=dtype))

    def forward(self, x):
        x = self.fc1(x)
        return torch.sin(x) ** 2


def make_loss(E: int, q: torch.Tensor | None):
    """(out (n,E), y (n,1)) -> (objective scalar, member losses (E,)).

    E = 1 with mse is the seed's ``MSELoss()``; otherwise sum_e mean_i q_i (out_ie - y_i)^2.
    """
    if E == 1 and q is None:
        mse = torch.nn.MSELoss()

        def loss(out, y):
            value = mse(out, y)
            return value, value.reshape(1)
    else:
        def loss(out, y):
            sq = (out - y) ** 2
            members = (sq if q is None else sq * q).mean(dim=0)
            return members.sum(), members
    return loss


def make_optimizer(params, recipe: Recipe) -> torch.optim.Optimizer:
    """torch.optim with the suite's semantics (momentum: dampening 0; adam: torch's defaults)."""
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(params, lr=recipe.lr)
    if recipe.optimizer == "momentum":
        return torch.optim.SGD(params, lr=recipe.lr, momentum=recipe.momentum, dampening=0,
                               nesterov=recipe.nesterov)
    return torch.optim.Adam(params, lr=recipe.lr, betas=(recipe.beta1, recipe.beta2), eps=recipe.eps)


def _columns(data: Data, dtype: str, device: torch.device, loss: str):
    """x, y as (n, 1) tensors of dtype on device; q (n, 1) for the scaled loss, else None."""
    x, y = data.as_dtype(dtype)
    tx = torch.as_tensor(x, device=device).reshape(-1, 1)
    ty = torch.as_tensor(y, device=device).reshape(-1, 1)
    q = None if loss == "mse" else 1 / torch.clamp(tx, min=1) ** 2
    return tx, ty, q


class OptimUpdate:
    """torch.optim's own update of one weight tensor, called as a function: ``torch.optim.sgd.sgd``
    or ``torch.optim.adam.adam``, the functions ``Optimizer.step`` calls, with the optimizer's
    settings and the state held here (momentum buffer; Adam's moments and step count).

    For the compiled variants: ``optimizer.step()`` inside a compiled graph adds the Optimizer
    object's guards and side effects, 1.7x the whole step at n = 1e3 on a CPU (88 against 53 us,
    docs/gpu.md §torch overhead). The step count has the weight's dtype (a float64 run computes
    Adam's bias corrections in float64, as eager does through ``.item()``); on a GPU it lives on
    the device (``capturable``), as dynamo puts it for a compiled ``optimizer.step``. The momentum
    buffer starts at zeros: with dampening 0, its first update gives g_1 exactly, as torch's
    lazily cloned one does.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, w: torch.Tensor):
        group = optimizer.param_groups[0]
        self.adam = isinstance(optimizer, torch.optim.Adam)
        self.capturable = w.device.type == "cuda"
        keys = (("beta1", "beta2", "lr", "weight_decay", "eps", "maximize", "amsgrad") if self.adam else
                ("weight_decay", "momentum", "lr", "dampening", "nesterov", "maximize"))
        self.settings = {k: group[k] for k in keys if k in group}
        if self.adam:
            self.settings["beta1"], self.settings["beta2"] = group["betas"]
            self.exp_avg, self.exp_avg_sq = torch.zeros_like(w), torch.zeros_like(w)
            self.step_count = torch.zeros((), dtype=w.dtype, device=w.device if self.capturable else "cpu")
        else:
            self.buffers = [torch.zeros_like(w) if group["momentum"] else None]

    def __call__(self, w: torch.Tensor, g: torch.Tensor) -> None:
        """w <- the optimizer's update of w by gradient g (same shape), in place."""
        if self.adam:
            from torch.optim.adam import adam
            adam([w], [g], [self.exp_avg], [self.exp_avg_sq], [], [self.step_count], foreach=False,
                 capturable=self.capturable, has_complex=False, **self.settings)
        else:
            from torch.optim.sgd import sgd
            sgd([w], [g], self.buffers, foreach=False, **self.settings)


def poly_sincos(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(sin t, cos t) in t's dtype from one float64 range reduction and two polynomials: the
    algorithm and constants of impls/sincos.py, op for op. |t| < sincos.T_MAX."""
    name = str(t.dtype).removeprefix("torch.")
    t64 = t.double()
    k = torch.round(t64 * poly.TWO_OVER_PI)
    r = (((t64 - k * poly.P1) - k * poly.P2) - k * poly.P3).to(t.dtype)
    z = r * r
    s = r * poly.horner(z, poly.sin_coefficients(name))
    c = poly.horner(z, poly.cos_coefficients(name))
    q = k.to(torch.int32) & 3
    swap = (q & 1) == 1
    a, b = torch.where(swap, c, s), torch.where(swap, s, c)
    return torch.where((q & 2) == 2, -a, a), torch.where(((q + 1) & 2) == 2, -b, b)


def _allow_recompiles(limit: int = 1024) -> None:
    """Lift dynamo's recompile limits (8 per function) so that every compiled Runner is compiled.

    dynamo guards ``optimizer.step`` on the optimizer's id (and on the default dtype), so each
    Runner adds a cache entry; past the limit dynamo silently ran the 9th runner's step eagerly.
    """
    cfg = torch._dynamo.config
    cfg.recompile_limit = max(cfg.recompile_limit, limit)
    cfg.accumulated_recompile_limit = max(cfg.accumulated_recompile_limit, limit)


def one_graph_step(criterion, update: OptimUpdate):
    """step(w (E, 1), x (n, 1), y (n, 1)) -> (w before the step (E,), member losses (E,)), w updated
    in place: loss and gradient of the weight by ``torch.func.grad_and_value``, then torch.optim's
    update (``OptimUpdate``), one function for torch.compile.

    Linear(1, E) applied to x (n, 1) is the outer product x w^T, written as a product so that
    inductor fuses it with sin, cos and both sums (it leaves an mm to a library call). The tensors
    are arguments, not attributes of a Runner: compiled as a bound method reading ``self.x``, the
    step cost 2x as much per call at n = 1e3 on a CPU (dynamo's guards on the Runner, its modules
    and optimizer; bench/studies/probe_step_overhead.py, docs/gpu.md).
    """
    def step(w, x, y):
        def objective(w):
            return criterion(torch.sin(x * w.reshape(1, -1)) ** 2, y)

        grad, (_, members) = torch.func.grad_and_value(objective, has_aux=True)(w)
        before = w.clone().reshape(-1)  # not w.reshape(-1).clone(): docs/bugs/inductor_clone_of_view.py
        update(w, grad)
        return before, members

    return step


def poly_graph_step(q: torch.Tensor | None, update: OptimUpdate):
    """The tuned tier's step(w, x, y) -> (w before, member losses), w updated in place: L and dL/dw
    written out with ``poly_sincos``'s s and c, L_e = mean_i q_i r^2, G_e = mean_i q_i 4 r s c x,
    r = s^2 - y; then ``OptimUpdate``."""
    def step(w, x, y):
        s, c = poly_sincos(x * w.reshape(1, -1))  # (n, E)
        r = s * s - y
        lt, gt = r * r, 4 * r * s * c * x
        if q is not None:
            lt, gt = lt * q, gt * q
        if lt.shape[1] == 1:  # a full reduction, split over threads (see floor)
            members, grad = lt.mean().reshape(1), gt.mean().reshape(1)
        else:
            members, grad = lt.mean(dim=0), gt.mean(dim=0)
        before = w.clone().reshape(-1)
        update(w, grad.reshape(-1, 1))
        return before, members

    return step


class Runner:
    """The seed's training loop on the device; ``advance(k)`` runs k steps, history kept on device.

    Every step function returns (w before the step (E,), member losses before it (E,)): the
    history, stacked once per ``advance`` (no copy op per step)."""

    def __init__(self, data: Data, recipe: Recipe, variant: str, device: str):
        self.recipe, self.variant, self.dtype = recipe, variant, recipe.dtype
        self.dev = torch_device(device)
        self.x, self.y, self.q = _columns(data, recipe.dtype, self.dev, recipe.loss)
        self.xmax = float(data.x.max())
        self.net = Net(recipe.w0_array, _DTYPES[recipe.dtype], self.dev)
        self.criterion = make_loss(recipe.ensemble, self.q)
        self.optimizer = make_optimizer(self.net.parameters(), recipe)
        self.train_step = self._seed_step
        self._graphs = {}  # graphed: k -> (CUDA graph of k steps, its static history buffers)
        self._compiled = lambda fn: torch.compile(fn, dynamic=False)
        self.w = self.net.fc1.weight.detach()  # (E, 1), the parameter's storage: steps update it in place
        if variant != "eager":
            _allow_recompiles()
            self.update = OptimUpdate(self.optimizer, self.w)
        if variant in ("compiled", "graphed"):
            graph = self._compiled(one_graph_step(self.criterion, self.update))
            self.train_step = lambda: graph(self.w, self.x, self.y)
        elif variant == "compiled-tuned":
            fast, self._wide = self._compiled(poly_graph_step(self.q, self.update)), None
            self.train_step = lambda: (fast(self.w, self.x, self.y) if self._in_poly_range()
                                       else self._wide_step())
        self.ws, self.losses = [], []
        self.seconds = 0.0
        if self.dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.dev)

    def _forward(self):
        return self.criterion(self.net(self.x), self.y)

    def _seed_step(self):
        """The seed's step: forward through the module, ``loss.backward()``, ``optimizer.step()``."""
        before = self.net.fc1.weight.detach().reshape(-1).clone()
        self.optimizer.zero_grad()
        objective, members = self._forward()
        objective.backward()
        self.optimizer.step()
        return before, members.detach()

    def _in_poly_range(self) -> bool:
        return float(self.w.abs().max()) * self.xmax < poly.T_MAX

    def _wide_step(self):
        """Outside the polynomials' range: the compiled variant's step (compiled on first use)."""
        if self._wide is None:
            self._wide = self._compiled(one_graph_step(self.criterion, self.update))
        return self._wide(self.w, self.x, self.y)

    def _state(self) -> list[torch.Tensor]:
        """Every tensor a step changes: the weight and the optimizer state."""
        u = self.update
        extra = [u.exp_avg, u.exp_avg_sq, u.step_count] if u.adam else [b for b in u.buffers if b is not None]
        return [self.w] + extra

    def _capture(self, k: int):
        """(CUDA graph of k compiled steps, w history (k, E), loss history (k, E)): the steps write
        their history into the two static buffers. The first capture warms the compiled step up on a
        side stream (torch.cuda.graphs' rule) and restores the state after, so no step is lost or
        added; capturing records kernels without running them."""
        if not self._graphs:
            saved = [t.clone() for t in self._state()]
            warm_up_for_capture(self.train_step, self.dev)
            for t, v in zip(self._state(), saved):
                t.copy_(v)
        w_hist, l_hist = self._history(k)
        graph = torch.cuda.CUDAGraph()
        # thread_local: a JAX thread of the same process calling CUDA cannot invalidate the capture
        with torch.cuda.graph(graph, capture_error_mode="thread_local"):
            for t in range(k):
                before, members = self.train_step()
                w_hist[t].copy_(before)
                l_hist[t].copy_(members)
        return graph, w_hist, l_hist

    def _history(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Two empty (k, E) tensors of the run's dtype on the device: w and loss before each step."""
        w_hist = torch.empty((k, self.recipe.ensemble), dtype=_DTYPES[self.dtype], device=self.dev)
        return w_hist, torch.empty_like(w_hist)

    def advance(self, k: int) -> None:
        t0 = time.perf_counter()
        w_hist, l_hist = self._history(k)
        chunk = GRAPH_CHUNK if self.variant == "graphed" else HISTORY_CHUNK
        for a in range(0, k, chunk):  # chunk steps at a time: graphs and live outputs stay bounded
            m = min(chunk, k - a)
            if self.variant == "graphed":
                if m not in self._graphs:
                    self._graphs[m] = self._capture(m)
                graph, w_steps, l_steps = self._graphs[m]
                graph.replay()
                w_hist[a:a + m].copy_(w_steps)
                l_hist[a:a + m].copy_(l_steps)
            else:
                w_steps, l_steps = zip(*(self.train_step() for _ in range(m)))
                torch.stack(w_steps, out=w_hist[a:a + m])
                torch.stack(l_steps, out=l_hist[a:a + m])
        synchronize(self.dev)
        self.seconds += time.perf_counter() - t0
        self.ws.append(w_hist)
        self.losses.append(l_hist)

    def memory(self) -> dict:
        return device_memory(self.dev)

    def trajectory(self) -> Trajectory:
        with torch.no_grad():
            _, final = self._forward()
        w = torch.cat(self.ws + [self.net.fc1.weight.detach().reshape(1, -1)]).cpu().numpy()
        loss = torch.cat(self.losses + [final.reshape(1, -1)]).cpu().numpy()
        return Trajectory(name, self.variant, canonical_device(self.dev.type), self.dtype, w, loss,
                          seconds=self.seconds)


def prepare(data: Data, recipe: Recipe, variant: str = "eager", device: str = "cpu") -> Runner:
    if variant not in variants:
        raise invalid("variant", variant, f"for backend {name}: one of " + ", ".join(variants))
    if variant == "graphed" and canonical_device(device) != "gpu":
        raise invalid("variant", variant, f"on device {device}: eager or compiled (a CUDA graph needs device gpu)")
    ok, why = available(device)
    if not ok:
        raise invalid("device", device, f"cpu for backend {name} here ({why})")
    return Runner(data, recipe, variant, device)


def loss_and_grad(data: Data, w, dtype: str, device: str = "cpu", loss: str = "mse"):
    """The seed's forward and loss, ``backward()`` for the gradient: two float64 (E,) arrays."""
    dev = torch_device(device)
    x, y, q = _columns(data, dtype, dev, loss)
    w = np.atleast_1d(np.asarray(w, dtype=np.float64))
    net = Net(w, _DTYPES[dtype], dev)
    objective, members = make_loss(len(w), q)(net(x), y)
    objective.backward()
    return (members.detach().cpu().double().numpy(),
            net.fc1.weight.grad.detach().reshape(-1).cpu().double().numpy())


def floor(data: Data, w, dtype: str, device: str = "cpu"):
    """k calls of a compiled, fused sum(sin(w x) + cos(w x)) over the data: ``op(..., "sincos")``."""
    return op(data, w, dtype, device, "sincos")


def op(data: Data, w, dtype: str, device: str = "cpu", name: str = "sincos", tier: str = "default"):
    """k -> None: k calls of one compiled, fused pass of building block ``name`` (spec.OPS) over
    the data, finished on device; the tuned tier's sin and cos are ``poly_sincos``'s."""
    if name not in OPS:
        raise invalid("op", name, "one of " + ", ".join(OPS))
    dev = torch_device(device)
    x, y, _ = _columns(data, dtype, dev, "mse")
    wt = torch.as_tensor(np.atleast_1d(np.asarray(w, dtype=np.float64)), dtype=_DTYPES[dtype],
                         device=dev).reshape(1, -1)
    if tier == "tuned":
        poly.check_range(w, data.x.max())
    E = wt.shape[1]
    if tier == "tuned":
        sin, cos = (lambda t: poly_sincos(t)[0]), (lambda t: poly_sincos(t)[1])
        both = lambda t: torch.add(*poly_sincos(t))  # noqa: E731 - one range reduction, as the tuned step
    else:
        sin, cos = torch.sin, torch.cos
        both = lambda t: torch.sin(t) + torch.cos(t)  # noqa: E731
    one = {"read": lambda t: t, "sin": sin, "cos": cos, "sincos": both,
           "rest": lambda t: (t * t - y) ** 2 + 4 * (t * t - y) * t * t * x}[name]

    @torch.compile(dynamic=False)
    def one_pass(w):
        s = one(x * w)
        # E = 1: a full reduction, which inductor splits over threads; a column sum over (n, 1)
        # ran on one thread and made the floor slower than a 2-thread training step
        return s.sum() if E == 1 else s.sum(dim=0)

    if dev.type == "cuda":
        return _graphed(lambda: one_pass(wt), dev)

    def run(k: int) -> None:
        for _ in range(k):
            one_pass(wt)
        synchronize(dev)

    return run


def warm_up_for_capture(one, dev: torch.device, calls: int = 3) -> None:
    """``calls`` calls of ``one`` on a side stream, joined back: what torch.cuda.graphs asks
    before a capture (compilation, lazy inits and allocator pools happen outside the graph)."""
    side = torch.cuda.Stream(dev)
    side.wait_stream(torch.cuda.current_stream(dev))
    with torch.cuda.stream(side):
        for _ in range(calls):
            one()
    torch.cuda.current_stream(dev).wait_stream(side)


def _graphed(one, dev: torch.device):
    """k -> None: k calls of ``one`` (no state of its own) replayed from one CUDA graph per k,
    captured on first use after a warm-up on a side stream (torch.cuda.graphs' rule): the floor
    fused the way the graphed variant fuses its steps, one launch per call."""
    graphs = {}

    def run(k: int) -> None:
        if not graphs:
            warm_up_for_capture(one, dev)
        if k not in graphs:
            graphs[k] = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graphs[k], capture_error_mode="thread_local"):
                for _ in range(k):
                    one()
        graphs[k].replay()
        synchronize(dev)

    return run


def copy(nbytes: int, device: str = "cpu"):
    """k -> None: k ``dst.copy_(src)`` of an nbytes float32 buffer on the device, finished on device."""
    dev = torch_device(device)
    src = torch.ones(nbytes // 4, dtype=torch.float32, device=dev)
    dst = torch.zeros_like(src)

    def run(k: int) -> None:
        for _ in range(k):
            dst.copy_(src)
        synchronize(dev)

    return run


def predict(x: np.ndarray, w: float, dtype: str, device: str = "cpu") -> np.ndarray:
    """bool (n,): the seed's Net forward sin(fc1(x))**2 >= 0.5 for integers x (n,), in ``dtype``."""
    dev = torch_device(device)
    with torch.no_grad():
        net = Net(np.array([w], np.float64), _DTYPES[dtype], dev)
        tx = torch.as_tensor(np.asarray(x).astype(dtype), device=dev).reshape(-1, 1)
        return (net(tx) >= 0.5).reshape(-1).cpu().numpy()
