"""The gate's rules: when is a case 'slower' or 'faster' between two runs, and how small a change
it can see there (its resolution; docs/compare.md).

Evidence, per throughput case, in rounds grouped by process (bench/replicas.py: each case is
timed in the pytest process and in replica processes, ``extra_info['process_paired_ratios']``):
  paired    the per-round ratios step / own floor, measured in the same seconds as the step, so
            machine speed and load cancel. The default basis.
  absolute  the per-round seconds per step (``process_round_seconds``): only between runs whose
            numeric environments match (``key_differences`` empty) and only on request.
A file from before replicas has one process (``paired_ratios`` / ``round_seconds``).

Rule (both bases), on logs: A, B = the old and new processes' medians of their rounds (log),
  d          = mean(B) - mean(A); effect = exp(d) (the ratio of the processes' geometric means)
  s_process  = the pooled sd of the process medians about their side's mean (df = nA + nB - 2), at
               least what the rounds' own noise gives a median (1.2533 s_rounds / sqrt(rounds), s_rounds
               = 1.4826 x each process's median absolute deviation, pooled in squares); a
               noise profile of this machine kind (``noise_profile``) pools in its measured
               between-process sd where that is larger, with its degrees of freedom
  s_run      = the run-to-run sd of the case's mean (a drift that moves every process of a run
               alike): from the noise profile; DEFAULT_RUN_SD without one; 0 where both sides ran
               interleaved in one run (``paritybench ab``, the study's splits)
  SE         = sqrt(s_process^2 (1/nA + 1/nB) + 2 s_run^2), df by Welch-Satterthwaite
  threshold  = max(log(1 + min_effect), t(1 - ALPHA/2, df) SE): |d| beyond it is a verdict; under
               A/A that happens with probability ALPHA per case, both directions together
  resolution = exp(threshold + t(POWER, df) SE) - 1: the change the case detects with 80% power
  slower     d > threshold; faster d < -threshold
  too noisy  neither, and the resolution is wider than MAX_RESOLUTION: "same" would claim more
             than the case can see
  same       otherwise ("within the resolution").
With one process on a side the between-process noise is unmeasured: the rounds' noise stands in
and the threshold is at least ROUNDS_ONLY_MIN_EFFECT ('rounds only', said in the verdict), and only
where a noise profile gives the case's run-to-run sd (which, measured on one-process runs, holds the
between-process part too) or both sides ran interleaved (``paritybench ab``); otherwise the case is
'too noisy' with its resolution unmeasured (an op case moved 1.36x between two default runs of one
commit: its rounds alone said nothing of that). A case
without samples (a file from before paired timing) is 'not gated', never 'same'. The exact
Mann-Whitney test of the process medians (``p_process``) is printed as information.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from statistics import median

from . import stats
from ..store.resultfile import Case

ALPHA = 0.001       # per case, both directions: <= 1 false verdict per 1,000 case-comparisons by design
                    # (the default matrix's ~70 gated cases: about 1 run in 14 with one false verdict)
POWER = 0.80        # the resolution: the change a case detects with this probability
MIN_EFFECT = 0.03   # the floor of every case's threshold (a change this small is never a verdict)
MAX_RESOLUTION = 0.20  # wider: the case is 'too noisy' to call 'same'
ROUNDS_ONLY_MIN_EFFECT = 0.20  # one process a side: between-process noise unmeasured, the old flat threshold
UNMEASURED = ", its between-process and run-to-run noise unmeasured (no noise-profile entry)"
DEFAULT_RUN_SD = 0.01  # run-to-run sd of a case's log mean where no noise profile gives it (docs/compare.md)
MIN_ROUNDS = 8      # fewer samples on either side: not gated
MEMORY_MIN_BYTES = 8 << 20  # a memory change smaller than 8 MiB is not judged (pages, allocator reuse)
MEMORY_MIN_EFFECT = 0.20  # memory: the smallest change that counts
PROCESS_ALPHA = 0.05  # the process medians' exact test (memory; information for time)
MIN_PROCESSES = 3   # fewer processes on a side: the exact process test is left out (3 vs 3 reaches 0.1 at best)

@dataclass(frozen=True)
class Rules:
    alpha: float = ALPHA
    min_effect: float = MIN_EFFECT
    process_alpha: float = PROCESS_ALPHA
    absolute: bool = False  # also gate absolute times (honoured only on the same machine)


@dataclass(frozen=True)
class Noise:
    """What a case's verdict could see (the module docstring): sds on the log scale."""
    sd_process: float     # between-process sd of a process median
    df_process: float
    sd_run: float         # run-to-run sd of the case's mean (0: one interleaved run)
    df_run: float
    se: float             # sd of the log effect when nothing changed
    df: float
    threshold: float      # the change (fraction) beyond which a verdict is given
    resolution: float     # the change (fraction) detected with POWER
    source: str           # what s_process and s_run rest on

    def why(self) -> str:
        """Which part of the noise sets the resolution, in words."""
        v1 = self.se ** 2 - 2 * self.sd_run ** 2
        if self.source.endswith(UNMEASURED):
            return f"resolution unmeasured: {self.source}"
        if self.source.startswith("rounds only"):
            part = f"threshold at least {100 * ROUNDS_ONLY_MIN_EFFECT:.0f}%"
        else:
            part = (f"run-to-run sd {100 * self.sd_run:.1f}%" if 2 * self.sd_run ** 2 > v1 else
                    f"between-process sd {100 * self.sd_process:.1f}%")
        return f"resolution {100 * self.resolution:.0f}%: {part} ({self.source}), df {self.df:.0f}"


@dataclass(frozen=True)
class Verdict:
    label: str            # slower | faster | same | too noisy | not gated | no verdict
    basis: str            # paired | absolute | -
    effect: float | None  # new / old of the basis (the processes' geometric means of their medians)
    p: float | None       # two-sided p of d against SE (t with df)
    why: str = ""
    p_process: float | None = None  # the process medians' exact test (information); None: left out
    noise: Noise | None = None

    @property
    def resolution(self) -> float | None:
        return self.noise.resolution if self.noise else None

    @property
    def threshold(self) -> float | None:
        return self.noise.threshold if self.noise else None


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


def judge(old: Case, new: Case, rules: Rules, basis: str = "paired", prior: dict | None = None,
          same_run: bool = False, first_apart: bool = False) -> Verdict:
    """The rule of the module docstring on one basis (``prior``: the case's noise-profile entry)."""
    a, b = samples(old, basis), samples(new, basis)
    if a is None or b is None:
        which = "old" if a is None else "new"
        return Verdict("not gated", "-", None, None, f"no {basis} samples in the {which} file")
    return judge_samples(a, b, rules, basis, prior, same_run, first_apart)


def _pooled_var(groups: list[list[float]], center) -> tuple[float, int]:
    """(pooled variance about each group's ``center``, its degrees of freedom)."""
    ss = sum((x - center(g)) ** 2 for g in groups for x in g)
    df = sum(len(g) - 1 for g in groups)
    return (ss / df if df > 0 else 0.0), df


def _first_apart(ma: list[float], mb: list[float]) -> tuple[float, float, int]:
    """(d, residual variance, df) of the additive model side + kind of process, where each side's
    first process is of its own kind (the pytest process; the others are replicas): the least-squares
    side effect with the kind as a block (weights n_A n_B / (n_A + n_B) per kind), and the residual
    variance about the fitted cells, N - 3 degrees of freedom. Needs >= 3 processes a side."""
    mean = lambda g: sum(g) / len(g)
    ra, rb = ma[1:], mb[1:]
    d0, dr = mb[0] - ma[0], mean(rb) - mean(ra)
    w0, wr = 0.5, len(ra) * len(rb) / (len(ra) + len(rb))
    d = (w0 * d0 + wr * dr) / (w0 + wr)
    rss = sum((x - mean(ra)) ** 2 for x in ra) + sum((x - mean(rb)) ** 2 for x in rb)
    rss += w0 * (d0 - d) ** 2 + wr * (dr - d) ** 2  # the kinds' effects differing between the sides
    df = len(ma) + len(mb) - 3
    return d, rss / df, df


def noise(la: list[list[float]], lb: list[list[float]], rules: Rules, prior: dict | None = None,
          same_run: bool = False, first_apart: bool = False, unmeasured_blocks: bool = True) -> Noise:
    """The case's noise and resolution from its log rounds per process (module docstring);
    ``first_apart``: each side's first process is the pytest process, whose offset from the
    replicas is a block of its own (``_first_apart``); ``unmeasured_blocks``: one process a side
    without a profile's run-to-run sd gives no verdict (the paired basis; the absolute/control
    basis leans on its drift control instead, as before)."""
    na, nb = len(la), len(lb)
    mean = lambda g: sum(g) / len(g)
    dfw = sum(len(g) - 1 for g in la + lb)
    # the rounds' sd, robust: 1.4826 x each process's median absolute deviation, pooled over processes
    sw = math.sqrt(sum((1.4826 * median([abs(x - median(g)) for x in g])) ** 2 for g in la + lb) / (na + nb))
    m = min(len(g) for g in la + lb)
    med_sd = 1.2533 * sw / math.sqrt(m)  # the sd of a median of m rounds from the rounds' noise alone
    prior = prior or {}
    min_effect = rules.min_effect
    if first_apart and min(na, nb) >= 3:
        _, v, df1 = _first_apart([median(g) for g in la], [median(g) for g in lb])
        sp, source = max(math.sqrt(v), med_sd), f"{na} + {nb} processes, the pytest process's offset apart"
    elif min(na, nb) >= 2:
        v, df1 = _pooled_var([[median(g) for g in la], [median(g) for g in lb]], mean)
        sp, source = max(math.sqrt(v), med_sd), f"{na} + {nb} processes"
    if min(na, nb) >= 2:
        ps, pdf = prior.get("sd_process"), prior.get("df_process")
        if isinstance(ps, (int, float)) and isinstance(pdf, (int, float)) and pdf > 0:
            pooled = math.sqrt((df1 * sp * sp + pdf * ps * ps) / (df1 + pdf))
            if pooled > sp:  # the profile says this case is noisier than these runs showed
                sp, df1, source = pooled, df1 + pdf, source + " and the noise profile"
    else:  # rounds only: between-process noise unmeasured
        sp, df1, source = med_sd, max(dfw, 1), f"rounds only, {na} and {nb} processes"
        min_effect = max(min_effect, ROUNDS_ONLY_MIN_EFFECT)
        if unmeasured_blocks and not same_run and not isinstance(prior.get("sd_run"), (int, float)):
            # neither this comparison nor a noise profile measured how far a one-process case moves
            # between processes and runs (op cases: up to 1.36x between runs of one commit,
            # docs/compare.md): no threshold can hold the false-call rate, so no verdict
            return Noise(sp, df1, math.inf, 0.0, math.inf, 0.0, math.inf, math.inf, source + UNMEASURED)
    if same_run:
        sr, dfr = 0.0, math.inf
        source += ", one interleaved run"
    elif isinstance(prior.get("sd_run"), (int, float)):
        sr, dfr = float(prior["sd_run"]), float(prior["df_run"]) if prior.get("df_run") else math.inf
        source += f", run-to-run from the noise profile ({prior.get('runs')} runs)"
    else:
        sr, dfr = DEFAULT_RUN_SD, math.inf
        source += f", run-to-run {100 * DEFAULT_RUN_SD:.0f}% assumed (no noise profile)"
    return resolve(sp, df1, sr, dfr, na, nb, rules.alpha, min_effect, source)


def resolve(sp: float, df1: float, sr: float, dfr: float, na: int, nb: int, alpha: float,
            min_effect: float, source: str = "") -> Noise:
    """The threshold and resolution from the sds (module docstring): SE = sqrt(sp^2 (1/na + 1/nb)
    + 2 sr^2), Welch-Satterthwaite df, threshold max(log(1 + min_effect), t(1 - alpha/2) SE)."""
    v1, v2 = sp * sp * (1 / na + 1 / nb), 2 * sr * sr
    se = math.sqrt(v1 + v2)
    df = stats.satterthwaite([(v1, df1), (v2, dfr)])
    df = df if math.isfinite(df) else 1e6
    tau = max(math.log1p(min_effect), stats.t_ppf(1 - alpha / 2, df) * se)
    res = math.expm1(tau + stats.t_ppf(POWER, df) * se)
    return Noise(sp, df1, sr, dfr, se, df, math.expm1(tau), res, source)


def judge_samples(a: list[list[float]], b: list[list[float]], rules: Rules, basis: str,
                  prior: dict | None = None, same_run: bool = False, first_apart: bool = False) -> Verdict:
    """The rule on per-process samples, old ``a`` against new ``b`` (``first_apart``: ``noise``)."""
    if min(len(x) for x in a + b) < MIN_ROUNDS:
        return Verdict("not gated", "-", None, None, f"fewer than {MIN_ROUNDS} rounds in a process")
    la = [[math.log(v) for v in x] for x in a]
    lb = [[math.log(v) for v in x] for x in b]
    nz = noise(la, lb, rules, prior, same_run, first_apart, unmeasured_blocks=basis == "paired")
    ma, mb = [median(x) for x in la], [median(x) for x in lb]
    d = sum(mb) / len(mb) - sum(ma) / len(ma)
    if first_apart and min(len(ma), len(mb)) >= 3:
        d = _first_apart(ma, mb)[0]  # the same as the plain difference when both sides have as many
    p = (None if math.isinf(nz.se) else min(1.0, 2 * stats.t_sf(abs(d) / nz.se, nz.df)) if nz.se > 0
         else (0.0 if d else 1.0))
    p_proc = stats.mann_whitney_exact(ma, mb)[1] if process_test_possible(len(a), len(b), rules) else None
    why = nz.source if nz.source.startswith("rounds only") else ""
    tau = math.log1p(nz.threshold)
    label = "slower" if d > tau else "faster" if d < -tau else "same"
    if label == "same" and nz.resolution > MAX_RESOLUTION:
        label, why = "too noisy", nz.why()
    return Verdict(label, basis, math.exp(d), p, why, p_proc, nz)


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


def judge_controlled(old: Case, new: Case, ctl_old: Case | None, ctl_new: Case | None, rules: Rules,
                     same_run: bool = False) -> Verdict:
    """Absolute times of a case whose framework changed between the runs (same hardware), over a
    drift control whose software did not change (``floor_rounds`` of ``ctl_*``); without a
    control, plain absolute times (basis 'absolute, no control'). Effect = time ratio / drift."""
    if ctl_old is None or ctl_new is None:
        v = judge(old, new, rules, "absolute", None, same_run)
        return v if v.basis == "-" else dataclasses.replace(v, basis="absolute, no control")
    co, cn = floor_rounds(ctl_old), floor_rounds(ctl_new)
    a = controlled(old, co) if co else None
    b = controlled(new, cn) if cn else None
    if a is None or b is None:
        return Verdict("not gated", "-", None, None, "no absolute rounds or no control rounds")
    return judge_samples(a, b, rules, "absolute/control", None, same_run)


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
    MIN_PROCESSES values a side the exact test on them (p < process_alpha); MEMORY_MIN_EFFECT."""
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
    if ok and effect > 1 + MEMORY_MIN_EFFECT:
        label = "more memory"
    elif ok and effect < 1 / (1 + MEMORY_MIN_EFFECT):
        label = "less memory"
    return Verdict(label, "memory", effect, None, "", p_proc)


def judge_case(old: Case, new: Case, rules: Rules, same_machine: bool, prior: dict | None = None,
               same_run: bool = False, first_apart: bool = False) -> Verdict:
    """The case's verdict: paired; with ``rules.absolute`` on the same machine, a change in
    absolute time counts too (slower if either basis says slower; the profile is the paired basis')."""
    v = judge(old, new, rules, "paired", prior, same_run, first_apart)
    if not (rules.absolute and same_machine):
        return v
    va = judge(old, new, rules, "absolute", None, same_run, first_apart)
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
