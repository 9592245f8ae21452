"""The gate's rules: when is a case 'slower' or 'faster' between two runs (docs/compare.md).

Evidence, per throughput case, in rounds grouped by process (bench/replicas.py: each case is
timed in the pytest process and in replica processes, ``extra_info['process_paired_ratios']``):
  paired    the per-round ratios step / own floor, measured in the same seconds as the step, so
            machine speed and load cancel. The default basis.
  absolute  the per-round seconds per step (``process_round_seconds``): only between runs whose
            numeric environments match (``key_differences`` empty) and only on request.
A file from before replicas has one process (``paired_ratios`` / ``round_seconds``).
Rule (both bases): with A, B = the old and new processes' samples,
  effect     = median of B's process medians / median of A's process medians
  p_rounds   = two-sided Mann-Whitney U p-value, all rounds of A against all rounds of B
  p_process  = two-sided exact Mann-Whitney U p-value of the process medians (needs >= MIN_PROCESSES
               on both sides; 4 against 4 reaches 0.029 only when every new process is on the
               same side of every old one)
  slower     p_rounds < alpha, p_process < process_alpha and effect > 1 + min_effect
  faster     the same with effect < 1 / (1 + min_effect)
  same       otherwise.
With fewer processes on a side the process test is left out and the verdict says so ('rounds
only'): between-process noise is then unmeasured (docs/compare.md). A case without samples
(a file from before paired timing) is 'not gated', never 'same'.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from statistics import median

from . import stats
from .resultfile import Case, Run, flatten

ALPHA = 0.001       # per case; the matrix has ~65 cases: P(any false p < alpha | no change) <= 6.5%
MIN_EFFECT = 0.20   # the smallest change that counts: above the A/A drift measured (docs/compare.md)
MIN_ROUNDS = 8      # fewer samples on either side: not gated (the rank test's approximation)
MEMORY_MIN_BYTES = 8 << 20  # a memory change smaller than 8 MiB is not judged (pages, allocator reuse)
PROCESS_ALPHA = 0.05  # the process medians' exact test (4 vs 4: complete separation, p = 0.029)
MIN_PROCESSES = 3   # fewer processes on a side: the process test is left out (3 vs 3 reaches 0.1 at best)

# The machine (machine_info paths): when any differs, two runs are different hardware and no timing
# verdict is drawn unless asked (``--across-machines``): no time, and not even a step/floor ratio,
# travels between CPUs (docs/compare.md, "Across hardware").
HARDWARE_FIELDS = ("numeric.cpu_model", "numeric.isa", "numeric.numpy_simd.found", "numeric.torch.cpu_capability",
                   "numeric.torch.threads", "numeric.jax.xla_cpu_max_isa", "numeric.thread_env",
                   "threads.set", "cpu.brand_raw", "devices")
# The software, by what it can change: a package name -> its machine_info paths. When only these
# differ, verdicts stay: that is the upgrade question ("did jax 0.10 make this slower here?").
SOFTWARE_FIELDS = {"torch": ("numeric.torch.version", "torch"),
                   "jax": ("numeric.jax.version", "jax", "jaxlib", "optax"),
                   "numpy": ("numpy", "numeric.numpy_blas"),
                   "libc": ("numeric.libc",), "malloc": ("malloc.mode",)}
# Which backends' timings a package can move (libc and malloc: every backend's).
AFFECTS = {"torch": ("torch",), "jax": ("jax",), "numpy": ("reference",),
           "libc": ("reference", "torch", "jax"), "malloc": ("reference", "torch", "jax")}
KEY_FIELDS = HARDWARE_FIELDS + tuple(f for fs in SOFTWARE_FIELDS.values() for f in fs)


@dataclass(frozen=True)
class Rules:
    alpha: float = ALPHA
    min_effect: float = MIN_EFFECT
    process_alpha: float = PROCESS_ALPHA
    absolute: bool = False  # also gate absolute times (honoured only on the same machine)


@dataclass(frozen=True)
class Verdict:
    label: str            # slower | faster | same | not gated
    basis: str            # paired | absolute | -
    effect: float | None  # median(new) / median(old) of the basis
    p: float | None
    why: str = ""
    p_process: float | None = None  # the process medians' exact test; None: left out (``why``)


def key_differences(old: Run, new: Run, fields: tuple[str, ...] = KEY_FIELDS) -> list[str]:
    """'field: old -> new' for each of ``fields`` that differs (absent in both: not listed)."""
    a, b = flatten(old.machine_info), flatten(new.machine_info)

    def pick(flat: dict, key: str):
        hits = {k: v for k, v in flat.items() if k == key or k.startswith(key + ".")}
        return None if not hits else (hits[key] if key in hits else tuple(sorted(hits.items())))

    out = []
    for k in fields:
        va, vb = pick(a, k), pick(b, k)
        if va != vb:
            out.append(f"{k}: {_brief(va)} -> {_brief(vb)}")
    return out


def hardware_differences(old: Run, new: Run) -> list[str]:
    """The HARDWARE_FIELDS that differ: non-empty means no timing verdict by default."""
    return key_differences(old, new, HARDWARE_FIELDS)


def changed_software(old: Run, new: Run) -> dict[str, list[str]]:
    """{package: its differing fields} for each SOFTWARE_FIELDS package whose fields differ."""
    return {pkg: d for pkg, fields in SOFTWARE_FIELDS.items() if (d := key_differences(old, new, fields))}


def affected_backends(changed) -> set[str]:
    """The backends whose timings the changed packages can move (AFFECTS)."""
    return {b for pkg in changed for b in AFFECTS[pkg]}


def _brief(v) -> str:
    if v is None:
        return "(absent)"
    if isinstance(v, tuple):  # a flattened list/dict
        text = ",".join(str(x[1]) for x in v)
        return text if len(text) <= 40 else text[:37] + "..."
    return str(v)


def samples(c: Case, basis: str) -> list[list[float]] | None:
    """The case's per-round samples for ``basis``, one list per process (None where the file has none)."""
    many, one = (("process_paired_ratios", "paired_ratios") if basis == "paired"
                 else ("process_round_seconds", "round_seconds"))
    groups = c.get(many)
    if not isinstance(groups, list) or not groups:
        groups = [c.get(one)]
    if all(isinstance(v, list) and v and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                            and math.isfinite(x) and x > 0 for x in v) for v in groups):
        return [[float(x) for x in v] for v in groups]
    return None


def process_test_possible(na: int, nb: int, rules: Rules) -> bool:
    """Whether the exact test on na against nb process medians can reach p < process_alpha at all
    (complete separation gives p = 2 / C(na + nb, na): 3 against 3 gives 0.1, 4 against 4 0.029)."""
    return min(na, nb) >= MIN_PROCESSES and 2 / math.comb(na + nb, na) < rules.process_alpha


def judge(old: Case, new: Case, rules: Rules, basis: str = "paired") -> Verdict:
    """The rule of the module docstring on one basis."""
    a, b = samples(old, basis), samples(new, basis)
    if a is None or b is None:
        which = "old" if a is None else "new"
        return Verdict("not gated", "-", None, None, f"no {basis} samples in the {which} file")
    return judge_samples(a, b, rules, basis)


def judge_samples(a: list[list[float]], b: list[list[float]], rules: Rules, basis: str) -> Verdict:
    """The rule on per-process samples, old ``a`` against new ``b``."""
    if min(len(x) for x in a + b) < MIN_ROUNDS:
        return Verdict("not gated", "-", None, None, f"fewer than {MIN_ROUNDS} rounds in a process")
    ma, mb = [median(x) for x in a], [median(x) for x in b]
    effect = median(mb) / median(ma)
    _, p = stats.mann_whitney([v for x in a for v in x], [v for x in b for v in x])
    p_proc, why, ok = None, "", p < rules.alpha
    if process_test_possible(len(a), len(b), rules):
        _, p_proc = stats.mann_whitney_exact(ma, mb)
        ok = ok and p_proc < rules.process_alpha
    else:
        why = f"rounds only: {len(a)} and {len(b)} processes (between-process noise unmeasured)"
    label = "same"
    if ok and effect > 1 + rules.min_effect:
        label = "slower"
    elif ok and effect < 1 / (1 + rules.min_effect):
        label = "faster"
    return Verdict(label, basis, effect, p, why, p_proc)


def floor_rounds(c: Case) -> list[list[float]] | None:
    """Per process, the seconds per floor pass of a step case's paired rounds (round seconds /
    paired ratio, round by round): a drift control timed in the same processes as the step."""
    steps, ratios = samples(c, "absolute"), samples(c, "paired")
    if steps is None or ratios is None or [len(x) for x in steps] != [len(x) for x in ratios]:
        return None
    return [[s / r for s, r in zip(xs, rs)] for xs, rs in zip(steps, ratios)]


def controlled(c: Case, control: list[list[float]]) -> list[list[float]] | None:
    """The case's absolute rounds, each over the control's median in the same process (over the
    control's overall median where the process counts differ: a floor case has one process)."""
    a = samples(c, "absolute")
    if a is None:
        return None
    if len(control) == len(a):
        return [[x / median(ctl) for x in xs] for xs, ctl in zip(a, control)]
    m = median([v for x in control for v in x])
    return [[x / m for x in xs] for xs in a]


def judge_controlled(old: Case, new: Case, ctl_old: Case | None, ctl_new: Case | None, rules: Rules) -> Verdict:
    """Absolute times of a case whose framework changed between the runs (same hardware), over a
    drift control whose software did not change (``floor_rounds`` of ``ctl_*``); without a
    control, plain absolute times (basis 'absolute, no control'). Effect = time ratio / drift."""
    if ctl_old is None or ctl_new is None:
        v = judge(old, new, rules, "absolute")
        return v if v.basis == "-" else dataclasses.replace(v, basis="absolute, no control")
    co, cn = floor_rounds(ctl_old), floor_rounds(ctl_new)
    a = controlled(old, co) if co else None
    b = controlled(new, cn) if cn else None
    if a is None or b is None:
        return Verdict("not gated", "-", None, None, "no absolute rounds or no control rounds")
    return judge_samples(a, b, rules, "absolute/control")


def _device_peak(c: Case) -> bool:
    mem = c.get("memory") if isinstance(c.get("memory"), dict) else {}
    return isinstance(mem.get("device_peak_bytes"), (int, float))


def memory_bytes(c: Case) -> list[float] | None:
    """The case's memory figure, one value per process: the GPU peak the framework reports
    (``memory.device_peak_bytes``), else the peak RSS each process added (CPU)."""
    mem = c.get("memory") if isinstance(c.get("memory"), dict) else {}
    if _device_peak(c):
        return [float(mem["device_peak_bytes"])]
    per = c.get("process_peak_rss_increase_bytes")
    vals = per if isinstance(per, list) and per else [mem.get("peak_rss_increase_bytes")]
    vals = [float(v) for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return vals or None


def judge_memory(old: Case, new: Case, rules: Rules) -> Verdict:
    """'more memory' | 'less memory' | 'same' | 'not gated', like time: effect = median(new) /
    median(old) beyond the threshold, a change of at least MEMORY_MIN_BYTES, and with >=
    MIN_PROCESSES values a side the exact test on them (p < process_alpha)."""
    a, b = memory_bytes(old), memory_bytes(new)
    if not a or not b:
        return Verdict("not gated", "memory", None, None, "no memory figure in a file")
    ma, mb = median(a), median(b)
    if abs(mb - ma) < MEMORY_MIN_BYTES:
        return Verdict("same", "memory", (mb / ma) if ma > 0 else None, None)
    p_proc, ok = None, True
    if process_test_possible(len(a), len(b), rules):
        _, p_proc = stats.mann_whitney_exact(a, b)
        ok = p_proc < rules.process_alpha
    elif max(len(a), len(b)) > 1 or not _device_peak(new):
        # one RSS figure a side is a lower bound that depends on the cases run before: not gated
        return Verdict("not gated", "memory", None, None, "too few processes for the memory test")
    effect = mb / ma if ma > 0 else math.inf
    label = "same"
    if ok and effect > 1 + rules.min_effect:
        label = "more memory"
    elif ok and effect < 1 / (1 + rules.min_effect):
        label = "less memory"
    return Verdict(label, "memory", effect, None, "", p_proc)


def judge_case(old: Case, new: Case, rules: Rules, same_machine: bool) -> Verdict:
    """The case's verdict: paired; with ``rules.absolute`` on the same machine, a change in
    absolute time counts too (slower if either basis says slower)."""
    v = judge(old, new, rules, "paired")
    if not (rules.absolute and same_machine):
        return v
    va = judge(old, new, rules, "absolute")
    if "slower" in (v.label, va.label):
        return v if v.label == "slower" else va
    if v.label == "not gated":
        return va
    return v


def conclusion_change(o: Case, n: Case) -> str | None:
    """What a case concluded, old -> new, when it got worse; None otherwise.

    Chaotic agreement cases are judged by the suite's ensemble verdict (``agree``): their single
    run's outcome differs between machines by design. Every other case by its outcome.
    """
    if n.kind == "agreement" and (o.get("chaotic") or n.get("chaotic")):
        oa, na = o.get("agree"), n.get("agree")
        return f"ensemble agreement {oa} -> {na}" if na is False and oa is not False else None
    oo, no = o.get("outcome"), n.get("outcome")
    if (oo is not None or no is not None) and oo != no:
        return f"outcome {_short_outcome(oo)} -> {_short_outcome(no)}"
    return None


def _short_outcome(o) -> str:
    if isinstance(o, list):
        return f"{sum(v == 'solved' for v in o)}/{len(o)} solved"
    return str(o)
