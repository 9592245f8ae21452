"""Pure logic of the throughput benchmarks: the matrix, stable ids, K and rounds, floor ratios, summary.

No framework is imported here (tests/test_bench_plumbing.py exercises all of it in milliseconds).

Vocabulary
  case   one training step timed: backend x variant x device x dtype x n x optimizer x E; kind
         "throughput" for the default tier's variants, "tuned" for the tuned tier's (docs/gap.md),
         kept apart from every default figure
  floor  the framework's cheapest fused pass sum(sin(w x) + cos(w x)) over the same (n, E) data
  op     one building block of the step (impls.spec.OPS) timed as fused passes, per framework and
         tier (kind "op"): what ``paritybench explain`` attributes a step's time to
  K      steps (or floor passes) per timed call, a power of two chosen so one call lasts
         >= CALL_TARGET seconds; the harness (timer + call, ~1 us) is then < 5% of every figure
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from statistics import median

from impls.registry import DEVICE_ONLY  # framework-free, as impls.spec
from impls.spec import OPS  # noqa: F401 - the op cases' building blocks (framework-free)
from paritybench.store.resultfile import process_info  # noqa: F401 - the replicas' fields, shared with `paritybench ab`
from paritybench.gate.stats import median_ci

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

CALL_TARGET = 2e-3   # seconds per timed call (>= ~1 ms asked; 2 ms leaves room for noise)
K_MAX = 1 << 14      # steps per call at most
PROBE_K = 4          # steps of the first (compiling) calls, which also estimate the step time
HARNESS_LIMIT = 0.05  # harness time / call time above this fails the case
ROUNDS_MIN, ROUNDS_MAX = 10, 60  # >= 10 paired rounds: a 95% CI of the median ratio ([x_(2), x_(9)]) and the gate's rank test
CASE_BUDGET = {"quick": 0.3, "default": 0.5, "full": 1.0}  # seconds of timed calls per case and process at most (rounds x (call + floor call))
# Sequential stopping (replica processes, ``runners.paired_rounds``): a process stops taking rounds
# once the 95% CI of its median paired ratio is at most CI_TARGET of the median wide (after
# ROUNDS_MIN rounds; within CASE_BUDGET and ROUNDS_MAX). A steady case stops at 10 rounds, a noisy
# one takes more. 5%: a tenth of the between-process spread the gate must tolerate (docs/compare.md).
CI_TARGET = 0.05
# The pytest process's rounds are fixed before they start (pytest-benchmark's pedantic): its budget.
PYTEST_BUDGET_SHARE = 0.3  # 0.5 before 2026-12-05 (#23): docs/compare.md, the gate study on these defaults
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
    (quick: none); numpy's default tier only (its tuned tier is a correctness mirror)."""
    if profile == "quick":
        return []
    out = []
    for device in devices:
        for dtype, n, E in OP_SHAPES:
            if (dtype, n, E) not in shapes(profile, device):
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


def choose_k(seconds_per_step: float, target: float = CALL_TARGET, k_max: int = K_MAX) -> int:
    """Smallest power of two K with K * seconds_per_step >= target (1 <= K <= k_max)."""
    if not seconds_per_step > 0 or not math.isfinite(seconds_per_step):
        return k_max
    need = target / seconds_per_step
    k = 1
    while k < need and k < k_max:
        k *= 2
    return k


def choose_rounds(seconds_per_call: float, budget: float,
                  lo: int = ROUNDS_MIN, hi: int = ROUNDS_MAX) -> int:
    """Rounds of timed calls that fit ``budget`` seconds, clamped to [lo, hi]."""
    if not seconds_per_call > 0:
        return hi
    return max(lo, min(hi, int(budget / seconds_per_call)))


def settled(ratios: list[float], target: float = CI_TARGET, lo: int = ROUNDS_MIN) -> bool:
    """Whether a process may stop taking rounds: >= ``lo`` paired ratios and the 95% CI of their
    median (``stats.median_ci``) at most ``target`` x the median wide."""
    if len(ratios) < lo:
        return False
    ci_lo, ci_hi = median_ci(ratios)
    return (ci_hi - ci_lo) <= target * median(ratios)


def paired_ratios(case_calls: list[float], k: int, floor_calls: list[float], kf: int) -> list[float]:
    """Per round i, (case_i / k) / (mean(floor_i, floor_i+1) / kf): the step time over the floor
    pass time measured on both sides of it, so that a load change that ramps over the round
    cancels to first order. ``floor_calls`` has one more entry than ``case_calls``."""
    if len(floor_calls) != len(case_calls) + 1:
        raise ValueError(f"floor_calls: got {len(floor_calls)} for {len(case_calls)} rounds; "
                         "allowed: one floor call before each round and one after the last")
    return [(c / k) / ((floor_calls[i] + floor_calls[i + 1]) / 2 / kf)
            for i, c in enumerate(case_calls)]


def paired_info(case_calls: list[float], k: int, floor_calls: list[float], kf: int) -> dict:
    """extra_info fields of paired timing: the per-round ratios, their median and its 95% CI."""
    ratios = paired_ratios(case_calls, k, floor_calls, kf)
    lo, hi = median_ci(ratios)
    return {"floor_ratio": median(ratios), "floor_ratio_ci95": [lo, hi],
            "floor_seconds_per_step": median(floor_calls) / kf, "floor_passes_per_call": kf,
            "paired_ratios": ratios, "paired_rounds": len(ratios)}


def parse_plant(text: str | None) -> dict[str, float]:
    """PARITYBENCH_PLANT 'CASE_ID=FACTOR[,...]' -> {case id: factor}: a real, measured slowdown
    of those cases (``planted``), for testing the gate. FACTOR in (1, 10]."""
    out = {}
    for item in filter(None, (text or "").split(",")):
        cid, _, f = item.partition("=")
        try:
            factor = float(f)
        except ValueError:
            factor = float("nan")
        if not cid.strip() or not 1 < factor <= 10:
            raise ValueError(f"plant: got {item!r}; allowed: CASE_ID=FACTOR with FACTOR > 1 and <= 10, "
                             "comma-separated")
        out[cid.strip()] = factor
    return out


def planted(fn, factor: float):
    """fn, made ``factor`` times slower for real: after each call, spin (busy, like the work) for
    (factor - 1) x the call's own duration. Timed by the same harness as every case."""
    def slow(k):
        t0 = time.perf_counter()
        out = fn(k)
        end = t0 + factor * (time.perf_counter() - t0)
        while time.perf_counter() < end:
            pass
        return out
    return slow


def quartiles(data) -> tuple[float, float, float]:
    """(q1, median, q3) by the median-of-halves rule (pytest-benchmark's own)."""
    xs = sorted(data)
    if not xs:
        raise ValueError("data: got an empty list; allowed: at least one timing")
    m = median(xs)
    half = len(xs) // 2
    lo, hi = xs[:half], xs[half + (len(xs) % 2):]
    return (median(lo) if lo else m), m, (median(hi) if hi else m)


def iqr_over_median(data) -> float:
    """Run-to-run spread of the timed calls: (q3 - q1) / median."""
    q1, m, q3 = quartiles(data)
    return (q3 - q1) / m if m > 0 else float("nan")


def step_info(case: Case, k: int, call_seconds: list[float], compile_seconds: float,
              threads: int, harness_seconds: float) -> dict:
    """extra_info of a throughput case from its timed calls (seconds per call of k steps)."""
    _, m, _ = quartiles(call_seconds)
    sps = m / k
    return {
        "kind": case.kind, "tier": case.tier,
        "backend": case.backend, "variant": case.variant,
        "device": case.device, "dtype": case.dtype, "n": case.n, "E": case.E,
        "optimizer": case.optimizer, "steps_per_call": k, "seconds_per_step": sps,
        "steps_per_second": 1 / sps, "samples_per_second": case.n * case.E / sps,
        "compile_seconds": compile_seconds, "floor_seconds_per_step": None,
        "floor_ratio": None, "floor_ratio_best": None, "threads": threads,
        "iqr_over_median": iqr_over_median(call_seconds),
        "harness_fraction": harness_seconds / m, "round_seconds": [c / k for c in call_seconds],
    }


def floor_info(fl: Floor, k: int, call_seconds: list[float], compile_seconds: float,
               threads: int, harness_seconds: float) -> dict:
    """extra_info of a floor from its timed calls (seconds per call of k passes)."""
    _, m, _ = quartiles(call_seconds)
    return {
        "kind": "floor", "backend": fl.backend, "device": fl.device, "dtype": fl.dtype,
        "n": fl.n, "E": fl.E, "passes_per_call": k, "seconds_per_pass": m / k,
        "compile_seconds": compile_seconds, "threads": threads,
        "iqr_over_median": iqr_over_median(call_seconds), "harness_fraction": harness_seconds / m,
        "round_seconds": [c / k for c in call_seconds],
    }


def op_info(o: Op, k: int, call_seconds: list[float], compile_seconds: float,
            threads: int, harness_seconds: float) -> dict:
    """extra_info of an op case from its timed calls (seconds per call of k passes)."""
    _, m, _ = quartiles(call_seconds)
    return {
        "kind": "op", "backend": o.backend, "tier": o.tier, "op": o.op, "device": o.device,
        "dtype": o.dtype, "n": o.n, "E": o.E, "passes_per_call": k, "seconds_per_pass": m / k,
        "ns_per_element": m / k / (o.n * o.E) * 1e9, "compile_seconds": compile_seconds,
        "threads": threads, "iqr_over_median": iqr_over_median(call_seconds),
        "harness_fraction": harness_seconds / m, "round_seconds": [c / k for c in call_seconds],
    }


def _floor_key(info: dict) -> tuple:
    return info["device"], info["dtype"], info["n"], info["E"]


def add_floor_ratios(infos: list[dict]) -> list[dict]:
    """Fill floor_seconds_per_step, floor_ratio, floor_ratio_best, machine_floor_ratio of every
    throughput and tuned info in place.

    floor_ratio      = seconds_per_step / seconds_per_pass of the same framework's floor case; a case
                       timed in paired rounds (``paired_info``) keeps its own median paired ratio
    floor_ratio_best = seconds_per_step / the fastest floor of any framework, same device and shape
    machine_floor_ratio = seconds_per_step / the cheapest sin + cos pass of any framework and tier
                       (floors and "sincos" op cases), same device and shape: the machine's floor
    None where the floor was not run (filtered out or skipped). Model steps: ``add_model_rooflines``.
    Other kinds pass through untouched.
    """
    own, best, machine = {}, {}, {}
    for i in infos:
        if i.get("kind") == "floor" or (i.get("kind") == "op" and i.get("op") == "sincos"):
            k = _floor_key(i)
            machine[k] = min(machine.get(k, math.inf), i["seconds_per_pass"])
        if i.get("kind") == "floor":
            k = _floor_key(i)
            own[(i["backend"],) + k] = i["seconds_per_pass"]
            best[k] = min(best.get(k, math.inf), i["seconds_per_pass"])
    for i in infos:
        if i.get("kind") not in STEP_KINDS:
            continue
        b, m = best.get(_floor_key(i)), machine.get(_floor_key(i))
        i["floor_ratio_best"] = i["seconds_per_step"] / b if b else None
        i["machine_floor_ratio"] = i["seconds_per_step"] / m if m else None
        if i.get("paired_ratios"):
            continue  # measured in the same rounds as the case: kept
        f = own.get((i["backend"],) + _floor_key(i))
        i["floor_seconds_per_step"] = f
        i["floor_ratio"] = i["seconds_per_step"] / f if f else None
    return add_model_rooflines(infos)  # a model's steps: their paired floors give their rooflines


def step_bytes(dtype: str, n: int, E: int) -> int:
    """Bytes a step must move at least: x and y (n each, ``dtype``) read once. The weights, the
    optimizer state and the history (E values each) are left out: at most 0.1% here but at
    E = 1024, n = 1e3, where the sin and cos of n x E products, not memory, decide."""
    return 2 * n * ITEMSIZE[dtype]


def add_rooflines(infos: list[dict], bandwidth: dict) -> list[dict]:
    """Fill roofline_bytes_per_step, roofline_seconds_per_step (bytes / the device's copy bandwidth
    measured in the run, ``bandwidth[device]["bytes_per_second"]``) and roofline_ratio (seconds per
    step / roofline seconds) of every step info in place; None where the device has no measurement."""
    for i in infos:
        if i.get("kind") not in STEP_KINDS:
            continue
        bps = (bandwidth.get(i["device"]) or {}).get("bytes_per_second")
        nbytes = step_bytes(i["dtype"], i["n"], i["E"])
        i["roofline_bytes_per_step"] = nbytes
        i["roofline_seconds_per_step"] = nbytes / bps if bps else None
        i["roofline_ratio"] = i["seconds_per_step"] / i["roofline_seconds_per_step"] if bps else None
    return infos



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


def model_step_info(case: ModelCase, k: int, call_seconds: list[float], compile_seconds: float,
                    threads: int, harness_seconds: float, flops: float | None = None) -> dict:
    """extra_info of a model case from its timed calls (seconds per call of k steps); ``flops``:
    the model's FLOPs per step (its ``spec.flops``), None if the model gives none."""
    _, m, _ = quartiles(call_seconds)
    sps = m / k
    config = dict(case.config)
    return {
        "kind": MODEL_KIND, "model": case.model, "tier": case.tier,
        "backend": case.backend, "variant": case.variant, "device": case.device, "dtype": case.dtype,
        "config": config, "config_id": config_tag(case.config), "optimizer": case.optimizer,
        "steps_per_call": k, "seconds_per_step": sps, "steps_per_second": 1 / sps,
        "samples_per_second": config.get("batch", 1) / sps,
        "flops_per_step": flops, "flops_per_second": flops / sps if flops else None,
        "compile_seconds": compile_seconds, "floor_seconds_per_step": None, "floor_ratio": None,
        "threads": threads, "iqr_over_median": iqr_over_median(call_seconds),
        "harness_fraction": harness_seconds / m, "round_seconds": [c / k for c in call_seconds],
    }


ROOFLINE_BASIS = ("flops_per_step (the model's spec.flops) / the fastest framework's floor rate on "
                  "this device and config (its fused pass over the step's matmuls, flops_per_step / "
                  "floor_seconds_per_step): a measured matmul rate, not a peak figure")


def add_model_rooflines(infos: list[dict]) -> list[dict]:
    """Fill, in place, every model-throughput info that has flops_per_step and its paired floor:
      floor_flops_per_second   flops_per_step / its own floor's seconds per pass (that framework's rate)
      matmul_flops_per_second  the fastest such rate of any framework, same model, device, dtype, config
      roofline_seconds_per_step = flops_per_step / matmul_flops_per_second; roofline_ratio = the
      step / it (>= 1 unless a step beats every floor); floor_ratio_best = the step / the fastest floor
    None where a figure is missing. Other kinds pass through untouched."""
    rate: dict[tuple, float] = {}
    key = lambda i: (i.get("model"), i.get("device"), i.get("dtype"), i.get("config_id"))  # noqa: E731
    mine = [i for i in infos if i.get("kind") == MODEL_KIND]
    for i in mine:
        f, fl = i.get("flops_per_step"), i.get("floor_seconds_per_step")
        i["floor_flops_per_second"] = f / fl if f and fl else None
        if i["floor_flops_per_second"]:
            rate[key(i)] = max(rate.get(key(i), 0.0), i["floor_flops_per_second"])
    for i in mine:
        r, f = rate.get(key(i)), i.get("flops_per_step")
        i["matmul_flops_per_second"] = r
        i["roofline_seconds_per_step"] = f / r if r and f else None
        i["roofline_ratio"] = i["seconds_per_step"] / i["roofline_seconds_per_step"] if r and f else None
        i["floor_ratio_best"] = i["roofline_ratio"]  # the same figure: the fastest floor's time is the roofline's
        i["roofline_basis"] = ROOFLINE_BASIS
    return infos

# ----------------------------------------------------------------------------------- the summary

def _us(seconds) -> str:
    return "-" if seconds is None else f"{seconds * 1e6:.1f}"


def _x(r) -> str:
    return "-" if r is None else f"{r:.2f}x"


def fastest(infos: list[dict], backend: str, key: tuple) -> dict | None:
    """The throughput info of ``backend`` with the least seconds_per_step for key (device, dtype, n, opt, E)."""
    rows = [i for i in infos if i.get("kind") == "throughput" and i["backend"] == backend
            and (i["device"], i["dtype"], i["n"], i["optimizer"], i["E"]) == key]
    return min(rows, key=lambda i: i["seconds_per_step"]) if rows else None


def summary_lines(infos: list[dict], skipped: list[tuple[str, str]] = (), others: list[tuple[str, dict, float]] = ()) -> list[str]:
    """The terminal summary: one row per (device, dtype, n, optimizer, E), then n = 1e3 overheads,
    the n >= 1e6 floor check, skipped cases with reasons, and cases of other kinds (pass-through)."""
    add_floor_ratios(infos)
    tp = [i for i in infos if i.get("kind") == "throughput"]
    keys = sorted({(i["device"], i["dtype"], i["n"], i["optimizer"], i["E"]) for i in tp},
                  key=lambda k: (k[0], k[1], k[2], k[4], k[3]))
    out = []
    if keys:
        out.append("us/step (median); best variant per framework; ratio to own floor pass; "
                   "jax/torch < 1 means jax is faster")
        head = (f"{'device dtype n opt E':<30}{'torch best':>22}{'jax best':>20}{'jax/torch':>10}"
                f"{'torch/fl':>9}{'jax/fl':>8}{'numpy':>11}")
        out += [head, "-" * len(head)]
    for key in keys:
        t, j, r = (fastest(tp, b, key) for b in ("torch", "jax", "reference"))
        cell = lambda i: "-" if i is None else f"{i['variant']} {_us(i['seconds_per_step'])}"
        ratio = j["seconds_per_step"] / t["seconds_per_step"] if t and j else None
        out.append(f"{'%s %s n=%d %s E=%d' % (key[0], DTYPE_TAG[key[1]], key[2], key[3], key[4]):<30}"
                   f"{cell(t):>22}{cell(j):>20}{_x(ratio):>10}"
                   f"{_x(t and t['floor_ratio']):>9}{_x(j and j['floor_ratio']):>8}"
                   f"{_us(r and r['seconds_per_step']):>11}")
    small = [i for i in tp if i["n"] == min((c["n"] for c in tp), default=0) and i["E"] == 1
             and i["dtype"] == "float32"]
    if small:
        out.append(f"n={small[0]['n']}, E=1: per-step cost (mostly overhead) and fused vs one-step sibling")
        for b, (fused, single) in FUSED.items():
            for dev in sorted({i["device"] for i in small}):
                for opt in OPTIMIZERS:
                    pick = {i["variant"]: i for i in small if i["backend"] == b
                            and i["device"] == dev and i["optimizer"] == opt}
                    if fused in pick and single in pick:
                        f, s = pick[fused]["seconds_per_step"], pick[single]["seconds_per_step"]
                        verdict = "faster" if f < s else "SLOWER"
                        out.append(f"  {b} {dev} {opt}: {single} {_us(s)} us, {fused} {_us(f)} us: "
                                   f"{fused} {s / f:.1f}x {verdict}")
                    else:
                        for v, i in pick.items():
                            out.append(f"  {b} {dev} {opt}: {v} {_us(i['seconds_per_step'])} us")
    big = [i for i in tp if i["n"] >= 1_000_000 and i["E"] == 1]
    if big:
        out.append("n>=1e6: fastest variant of each framework against its own floor (target <= 1.5x)")
        for key in sorted({(i["device"], i["dtype"], i["n"], i["optimizer"], i["E"]) for i in big}):
            for b in ("torch", "jax"):
                i = fastest(big, b, key)
                if i is not None and i["floor_ratio"] is not None:
                    flag = "ok" if i["floor_ratio"] <= 1.5 else "ABOVE 1.5x"
                    out.append(f"  {key[0]} n={key[2]} {key[3]} {b}-{i['variant']}: "
                               f"{_x(i['floor_ratio'])} {flag}")
    tuned = [i for i in infos if i.get("kind") == "tuned"]
    if tuned:
        out.append("tuned tier (docs/gap.md; not in the table above): fastest per framework, us/step, "
                   "and / the machine's floor (cheapest sin+cos pass of any framework and tier)")
        for key in sorted({(i["device"], i["dtype"], i["n"], i["optimizer"], i["E"]) for i in tuned},
                          key=lambda k: (k[0], k[1], k[2], k[4], k[3])):
            cells = []
            for b in ("torch", "jax"):
                rows = [i for i in tuned if i["backend"] == b
                        and (i["device"], i["dtype"], i["n"], i["optimizer"], i["E"]) == key]
                if rows:
                    i = min(rows, key=lambda i: i["seconds_per_step"])
                    cells.append(f"{b}-{i['variant']} {_us(i['seconds_per_step'])} ({_x(i.get('machine_floor_ratio'))})")
            out.append(f"  {key[0]} {DTYPE_TAG[key[1]]} n={key[2]} {key[3]} E={key[4]}: " + ", ".join(cells))
        out.append("  where each step's time goes: paritybench explain <this run's JSON>")
    out += model_summary_lines(infos)
    if skipped:
        out.append(f"skipped: {len(skipped)} cases")
        reasons = {}
        for name, why in skipped:
            reasons.setdefault(why, []).append(name)
        for why, names in reasons.items():
            out.append(f"  {len(names)} x {why} (e.g. {names[0]})")
    ops = [i for i in infos if i.get("kind") == "op"]
    if ops:
        out.append(f"op cases: {len(ops)} (ns per element per framework and tier: paritybench compare)")
    if others:
        kinds = {}
        for name, info, med in others:
            kinds.setdefault(str(info.get("kind", "?")), []).append((med, name))
        out.append("other kinds (not in the table; their own tables above): " + ", ".join(
            f"{k}: {len(v)} cases, slowest {max(v)[1]} {max(v)[0]:.3g} s/call" for k, v in kinds.items()))
    return out


def model_fastest(infos: list[dict], backend: str, key: tuple) -> dict | None:
    """The model-throughput info of ``backend`` with the least seconds_per_step for key
    (model, device, dtype, config_id, optimizer)."""
    rows = [i for i in infos if i.get("kind") == MODEL_KIND and i["backend"] == backend and _model_key(i) == key]
    return min(rows, key=lambda i: i["seconds_per_step"]) if rows else None


def _model_key(i: dict) -> tuple:
    return i["model"], i["device"], i["dtype"], i["config_id"], i["optimizer"]


def model_summary_lines(infos: list[dict]) -> list[str]:
    """Per model: one line per (device, dtype, config, optimizer): the fastest variant of each
    framework, us/step, / its own floor (paired), jax/torch, numpy's step, and the fastest step
    against the roofline (``add_model_rooflines``)."""
    rows = [i for i in infos if i.get("kind") == MODEL_KIND]
    out = []
    for model in sorted({i["model"] for i in rows}):
        out.append(f"{model}: us/step (median), fastest variant per framework (x own floor: its fused "
                   "pass over the step's matmuls); roofline: the model's FLOPs at the fastest floor's rate")
        for key in sorted({_model_key(i) for i in rows if i["model"] == model}):
            t, j, r = (model_fastest(rows, b, key) for b in ("torch", "jax", "reference"))
            cells = [f"{b}-{i['variant']} {_us(i['seconds_per_step'])} ({_x(i.get('floor_ratio'))} fl)"
                     for b, i in (("torch", t), ("jax", j)) if i is not None]
            if t and j:
                cells.append(f"jax/torch {_x(j['seconds_per_step'] / t['seconds_per_step'])}")
            if r:
                cells.append(f"numpy {_us(r['seconds_per_step'])}")
            best = min((i for i in (t, j, r) if i), key=lambda i: i["seconds_per_step"])
            if best.get("roofline_ratio"):
                cells.append(f"fastest {_x(best['roofline_ratio'])} roofline "
                             f"({best['matmul_flops_per_second'] / 1e9:.1f} GFLOP/s measured)")
            out.append(f"  {key[1]} {DTYPE_TAG[key[2]]} {key[3]} {key[4]}: " + ", ".join(cells))
    return out
