"""The case matrix of the throughput benchmarks: profiles, sizes, devices, backends and variants,
the seed's cases, floors and op cases, the models' cases (impls/models) and their stable ids.

No framework is imported here (tests/test_bench_plumbing.py exercises all of it in milliseconds).

Vocabulary
  case   one training step timed: backend x variant x device x dtype x n x optimizer x E; kind
         "throughput" for the default tier's variants, "tuned" for the tuned tier's (docs/gap.md),
         kept apart from every default figure
  floor  the framework's cheapest fused pass sum(sin(w x) + cos(w x)) over the same (n, E) data
  op     one building block of the step (impls.spec.OPS) timed as fused passes, per framework and
         tier (kind "op"): what ``paritybench explain`` attributes a step's time to
"""
from __future__ import annotations

from dataclasses import dataclass

from impls.registry import DEVICE_ONLY  # framework-free, as impls.spec
from impls.spec import OPS  # noqa: F401 - the op cases' building blocks (framework-free)

PROFILES = ("quick", "default", "full")  # quick: the headline answer in < 60 s (n 1e3 and 1e6, sgd, f32)
DEVICES = ("cpu", "gpu")
BACKENDS = ("reference", "torch", "jax")
VARIANTS = {"reference": ("numpy",), "torch": ("eager", "compiled", "graphed"), "jax": ("jit", "scan")}
TUNED = {"torch": ("compiled-tuned",), "jax": ("scan-tuned",)}  # the tuned tier (not in quick)
FUSED = {"torch": ("compiled", "eager"), "jax": ("scan", "jit")}  # fused variant, its one-step sibling
OPTIMIZERS = ("sgd", "adam")
DTYPE_TAG = {"float32": "f32", "float64": "f64"}
FLOAT64_N = 100_000          # the one size also timed in float64
GPU_SIZES = (10_000_000, 100_000_000)  # a GPU's default profile adds these (float32): bandwidth decides
GPU_FLOAT64_N = 10_000_000   # and this one in float64
ITEMSIZE = {"float32": 4, "float64": 8}
OP_SHAPES = (("float32", 1_000_000, 1), ("float64", FLOAT64_N, 1))  # (dtype, n, E) of the op cases
WIDE_E, WIDE_N = 1024, 1000  # the ensemble width timed at n = 1e3
X_MAX, SEED, LR = 1000, 0, 4e-4  # the seed question's data and learning rate
PROCESSES = {"quick": 1, "default": 4, "full": 4}  # processes per case (the pytest one + replicas): the gate's process test
KINDS = ("throughput", "tuned", "floor", "op", "model-throughput")  # the summary's own (the rest: pass-through)
STEP_KINDS = ("throughput", "tuned")  # the seed's steps (a model's: MODEL_KIND below)


def sizes(profile: str) -> tuple[int, ...]:
    """n of the profile: 1e3, 1e5, 1e6 by default; quick keeps one per band (1e3, 1e6); full adds 1e7."""
    check_choice("profile", profile, PROFILES)
    if profile == "quick":
        return (1_000, 1_000_000)
    return (1_000, 100_000, 1_000_000) + ((10_000_000,) if profile == "full" else ())


def check_choice(field: str, value, allowed) -> str:
    """``value`` if in ``allowed``, else the suite's one-line ValueError."""
    if value not in allowed:
        raise ValueError(f"{field}: got {value!r}; allowed: one of {', '.join(allowed)}")
    return value


def parse_list(field: str, text: str | None, allowed) -> tuple[str, ...]:
    """A comma-separated filter option ('cpu,gpu'; 'cuda' means gpu): all of ``allowed`` when None."""
    if text is None or text == "":
        return tuple(allowed)
    items = tuple({"cuda": "gpu"}.get(s.strip(), s.strip()) for s in text.split(","))
    for s in items:
        check_choice(field, s, allowed)
    return tuple(a for a in allowed if a in items)


@dataclass(frozen=True)
class Case:
    """One timed training step configuration."""

    backend: str
    variant: str
    device: str
    dtype: str
    n: int
    optimizer: str
    E: int

    @property
    def id(self) -> str:
        """Stable id, e.g. torch-compiled-cpu-f32-n100000-sgd-E1 (saved runs compare by it)."""
        return (f"{self.backend}-{self.variant}-{self.device}-{DTYPE_TAG[self.dtype]}-n{self.n}"
                f"-{self.optimizer}-E{self.E}")

    @property
    def floor(self) -> "Floor":
        return Floor(self.backend, self.device, self.dtype, self.n, self.E)

    @property
    def kind(self) -> str:
        """'tuned' for a variant of the tuned tier, else 'throughput'."""
        return "tuned" if self.variant in TUNED.get(self.backend, ()) else "throughput"

    @property
    def tier(self) -> str:
        return "tuned" if self.kind == "tuned" else "default"

    @property
    def compiles(self) -> bool:
        """Whether the variant compiles (the timing checks for a compile event in its warm-up)."""
        return self.variant not in ("eager", "numpy")


@dataclass(frozen=True)
class Floor:
    """One floor configuration: framework x device x dtype x n x E."""

    backend: str
    device: str
    dtype: str
    n: int
    E: int

    @property
    def id(self) -> str:
        """Stable id, e.g. floor-torch-cpu-f32-n100000-E1."""
        return f"floor-{self.backend}-{self.device}-{DTYPE_TAG[self.dtype]}-n{self.n}-E{self.E}"


@dataclass(frozen=True)
class Op:
    """One building block timed: framework x tier x device x dtype x n x E x op."""

    backend: str
    tier: str
    device: str
    dtype: str
    n: int
    E: int
    op: str

    @property
    def id(self) -> str:
        """Stable id, e.g. op-jax-tuned-cpu-f32-n1000000-sin-E1 (the default tier has no tier word)."""
        tier = "" if self.tier == "default" else f"-{self.tier}"
        return f"op-{self.backend}{tier}-{self.device}-{DTYPE_TAG[self.dtype]}-n{self.n}-{self.op}-E{self.E}"

    @property
    def floor(self) -> "Floor":
        return Floor(self.backend, self.device, self.dtype, self.n, self.E)


def shapes(profile: str, device: str = "cpu") -> list[tuple[str, int, int]]:
    """(dtype, n, E) of the profile: float32 at every n with E = 1, E = 1024 at n = 1e3, float64 once
    (quick: float32, E = 1 only); on a GPU, default and full add GPU_SIZES in float32 and
    GPU_FLOAT64_N in float64, where memory bandwidth, not launches, decides."""
    out = [("float32", n, 1) for n in sizes(profile)]
    if profile == "quick":
        return out
    if device == "gpu":  # the goals' sizes (1e6, 1e8) first: a run cut by --deadline keeps them
        ns = sorted(set(sizes(profile)) | set(GPU_SIZES), key=lambda n: (n not in (10**6, 10**8), n))
        out = [("float32", n, 1) for n in ns]
    out.append(("float32", WIDE_N, WIDE_E))
    out.append(("float64", FLOAT64_N, 1))
    if device == "gpu":
        out.append(("float64", GPU_FLOAT64_N, 1))
    return out


def cases(profile: str, devices=DEVICES, backends=BACKENDS) -> list[Case]:
    """The matrix, in a stable order: device, shape, optimizer, backend, variant."""
    out = []
    for device in devices:
        for dtype, n, E in shapes(profile, device):
            for opt in OPTIMIZERS[:1] if profile == "quick" else OPTIMIZERS:
                for b in backends:
                    if b == "reference" and device != "cpu":
                        continue  # numpy has no GPU; not a skip, not a case
                    tuned = TUNED.get(b, ()) if profile != "quick" else ()
                    out += [Case(b, v, device, dtype, n, opt, E) for v in VARIANTS[b] + tuned
                            if DEVICE_ONLY.get(v, (device,))[0] == device]  # graphed: GPU only
    return out


def ops(profile: str, devices=DEVICES, backends=BACKENDS) -> list[Op]:
    """The op cases: every op of each framework and tier at OP_SHAPES present in the profile
    (quick: none; default: float32 only, float64's in full: ~18 s of a fresh clone's default run,
    which measured 361 s against its 6 minutes with them); numpy's default tier only (its tuned
    tier is a correctness mirror)."""
    if profile == "quick":
        return []
    out = []
    for device in devices:
        for dtype, n, E in OP_SHAPES:
            if (dtype, n, E) not in shapes(profile, device) or (dtype == "float64" and profile != "full"):
                continue
            for b in backends:
                if b == "reference" and device != "cpu":
                    continue
                for tier in ("default",) if b == "reference" else ("default", "tuned"):
                    out += [Op(b, tier, device, dtype, n, E, o) for o in OPS]
    return out


def floors(profile: str, devices=DEVICES, backends=BACKENDS) -> list[Floor]:
    """One floor per framework, device and (dtype, n, E) of the matrix."""
    seen = dict.fromkeys(c.floor for c in cases(profile, devices, backends))
    return list(seen)


# ------------------------------------------------- models under impls/contract.py (impls/models)
#
# A model case is one training step of a model other than the seed (kind "model-throughput",
# extra_info "model" names it), timed by the same ``measure`` / ``runners.paired_rounds`` in paired
# rounds with the framework's own floor: that module's ``floor(config, dtype, device)``, its fused
# pass over the step's matmuls. Its roofline (``add_model_rooflines``) is the model's FLOPs per step
# (``spec.flops(config)``) at the fastest floor's own measured FLOP rate on that device and config:
# a measured matmul rate, not a peak figure from a datasheet.

MODEL_KIND = "model-throughput"
REPLICATED = STEP_KINDS + (MODEL_KIND,)  # the kinds the replica processes time again
MODEL_VARIANTS = {"reference": ("numpy",), "torch": ("eager", "compiled"), "jax": ("jit", "scan")}
# sparse parity's configs per profile (n_bits, k, width, batch), float32, the paper's recipe
# (sgd, lr 0.1, weight decay 0.01): the paper's own size, where a step is a few small matmuls and
# per-step overhead decides, and a matmul-bound one (width 4096, batch 1024: ~0.8 GFLOP a step)
SPARSE_PARITY_PAPER = (("n_bits", 30), ("k", 3), ("width", 1000), ("batch", 32))
SPARSE_PARITY_MATMUL = (("n_bits", 30), ("k", 3), ("width", 4096), ("batch", 1024))
# The matmul-bound size is in full only: the default run measured 403 s of wall with it and
# torch compiled's time to solve (2026-12-05, AMD EPYC, 2 cores), against the main job's 6 minutes;
# the seed's cases alone took 342 s of it, the sparse-parity cases about 60 s.
MODEL_CONFIGS = {"quick": {"sparse-parity": (SPARSE_PARITY_PAPER,)},
                 "default": {"sparse-parity": (SPARSE_PARITY_PAPER,)},
                 "full": {"sparse-parity": (SPARSE_PARITY_PAPER, SPARSE_PARITY_MATMUL)}}
MODEL_OPTIMIZERS = ("sgd",)  # the paper's recipe (impls.models MODEL.optim)
USER_OPTIMIZERS: dict[str, str] = {}  # a user's model file -> its recipe's optimizer (register_user_model)


# Agreement (bench/test_model_agreement.py): a run trained to solved in float32 by each of RUNS
# against the float64 reference, same seed: same outcome, steps to solve within one eval block.
# n = 20 (the reference solves at step 800 with seed 0): seconds a run, where the paper's n = 30
# takes 1,100 steps and the float64 reference's steps cost 2x float32's.
MODEL_AGREEMENT = {"sparse-parity": (("n_bits", 20), ("k", 3), ("width", 1000), ("batch", 32))}
MODEL_AGREEMENT_BUDGET = 5_000  # steps; unsolved by then is an outcome too ("unsolved")
MODEL_AGREEMENT_RUNS = {"quick": (),
                        "default": (("reference", "numpy"), ("torch", "eager"), ("jax", "jit"), ("jax", "scan")),
                        "full": (("reference", "numpy"), ("torch", "eager"), ("torch", "compiled"),
                                 ("jax", "jit"), ("jax", "scan"))}
# Time to solve (bench/test_model_agreement.py, bench/startup.py): a fresh process's run to solved
# at the paper's size, cold and warm compile caches; default: each framework's fastest variant
# to solve (torch eager: torch compiled's cold start took 19.1 s, its cold and warm starts 26 s of
# the default run's wall, 2026-12-05; jax scan 1.3 s), full: every variant.
MODEL_SOLVE = {"sparse-parity": SPARSE_PARITY_PAPER}
MODEL_SOLVE_BUDGET = 20_000
MODEL_SOLVE_RUNS = {"quick": (), "default": (("torch", "eager"), ("jax", "scan")),
                    "full": (("reference", "numpy"), ("torch", "eager"), ("torch", "compiled"),
                             ("jax", "jit"), ("jax", "scan"))}


def register_user_model(model) -> None:
    """A user's model file (impls/models/user, ``--model path/to/model.py:Name``) in this run's
    matrix: its default parameters in every profile's throughput, agreement and time-to-solve
    cases, with its own recipe's optimizer."""
    config = tuple(model.parameters.items())
    for profile in MODEL_CONFIGS:
        MODEL_CONFIGS[profile][model.name] = (config,)
    MODEL_AGREEMENT[model.name] = config
    MODEL_SOLVE[model.name] = config
    USER_OPTIMIZERS[model.name] = model.optim.optimizer


def config_tag(config) -> str:
    """'n30-k3-w1000-b32' of a model config ((field, value), ...): each value after its field's
    first letter ('n_bits' -> n), in the config's own order; the model's ``Config.id`` for sparse parity."""
    return "-".join(f"{name[0]}{value}" for name, value in config)


@dataclass(frozen=True)
class ModelCase:
    """One timed training step of a model under impls/contract.py."""

    model: str
    backend: str
    variant: str
    device: str
    dtype: str
    config: tuple  # ((field, value), ...): the model's parameters (impls.models MODEL.parameters)
    optimizer: str = "sgd"

    @property
    def id(self) -> str:
        """Stable id, e.g. sparse-parity-torch-compiled-cpu-f32-n30-k3-w1000-b32-sgd: the model's
        name first, so no seed case id (which starts with a backend) can equal it."""
        return (f"{self.model}-{self.backend}-{self.variant}-{self.device}-{DTYPE_TAG[self.dtype]}"
                f"-{config_tag(self.config)}-{self.optimizer}")

    @property
    def kind(self) -> str:
        return MODEL_KIND

    @property
    def tier(self) -> str:
        return "default"

    @property
    def compiles(self) -> bool:
        return self.variant not in ("eager", "numpy")


def model_cases(profile: str, devices=DEVICES, backends=BACKENDS) -> list[ModelCase]:
    """The model cases of a profile, in a stable order: device, model, config, optimizer, backend,
    variant (numpy on the CPU only)."""
    check_choice("profile", profile, PROFILES)
    out = []
    for device in devices:
        for model, configs in MODEL_CONFIGS[profile].items():
            for config in configs:
                for opt in ((USER_OPTIMIZERS[model],) if model in USER_OPTIMIZERS else MODEL_OPTIMIZERS):
                    for b in backends:
                        if b == "reference" and device != "cpu":
                            continue
                        out += [ModelCase(model, b, v, device, "float32", config, opt) for v in MODEL_VARIANTS[b]]
    return out


def case_of(info: dict):
    """The case a step's extra_info describes (the replica pass rebuilds its cases from them):
    a ``ModelCase`` for kind "model-throughput", else a seed ``Case``."""
    if info.get("kind") == MODEL_KIND:
        return ModelCase(info["model"], info["backend"], info["variant"], info["device"], info["dtype"],
                         tuple((k, v) for k, v in info["config"].items()), info["optimizer"])
    return Case(*(info[k] for k in ("backend", "variant", "device", "dtype", "n", "optimizer", "E")))
