"""How a model's run ended, when two runs part, and whether two frameworks' ensembles solve alike.

Any model under impls/contract.py, read through its ``ModelTrajectory`` (impls.models.run.train).
The seed's model keeps its own, finer rules (impls/outcome.py: solved / stuck / wandering in w).

Outcome (``classify``), first match wins:
  diverged   a loss or a recorded parameter vector is NaN or inf (the driver stops a run at its
             first non-finite parameters: there is nothing to learn after NaN);
  solved     some scored step's score is solved (``model.solved``): solved at the first such step
             t, ``steps_to_solve`` = t, an upper bound of one eval block (the solve happened in
             (t - eval_every, t]);
  unsolved   the budget was reached unsolved: still on the plateau, still learning, or stuck; the
             final score says which it looks like, the class does not pretend to know.

Horizon (``horizon``): over the parameter vector theta (``impls.contract.flatten``: every
parameter, raveled, float64), the first recorded step t, of the steps both runs recorded, at which
the relative L2 distance ||theta_a(t) - theta_b(t)|| / ||theta_b(t)|| exceeds ``tol``; None when it
never does. b is the reference (the denominator). A non-finite vector parts from a finite one;
two vectors equal entry for entry (NaN in the same places included) have not parted.

The tolerance ``PART_TOL`` = 1e-3 (relative). Why:
  * rounding: a float32 run starts from the float64 initial parameters rounded once, a relative
    distance of at most 2^-24 = 6e-8 per entry (so also in L2); float64 runs start equal. 1e-3
    is four orders of magnitude above where a float32 run starts, and ~30 times what one ReLU or
    hinge kink crossed in one run and not in the other adds (measured below): reaching it takes an
    amplification of rounding by the dynamics, not a few more roundings or a stray kink;
  * solutions: training moves theta far from its start (the paper's hidden progress: the weights'
    movement before the jump); runs that reach distinct solutions are at relative distances of
    order 1 (two starts: sqrt 2), three orders above the tolerance, so runs within it are one run;
  * the L2 norm is taken over the whole vector, so one large layer (W1: width x n entries) does not
    hide behind a small one: its share of ||theta|| is its share of the distance.
Measured (sparse parity at the paper's defaults, n 30, k 3, width 1000, batch 32, sgd 0.1, wd
0.01; numpy float32 against the float64 reference, AMD EPYC, seeds 0-3, every 100 steps):
  start 2.6e-8; step 100: 2.7e-7 (seeds 1-3) or 5e-5 (seed 0: one ReLU or hinge kink crossed in
  one precision and not the other, a discrete jump of ~lr |w2| / B, no smooth amplification); the
  plateau (accuracy ~50%) stays at 7e-7 to 7e-4; the jump to 100% (steps 800-1,100 here) takes it
  to 2e-2 - 5e-2, where it stays. The horizon at 1e-3 falls at the jump or after (seeds 0-3:
  steps 1,000, 2,100, 1,400, 1,000), and float32 solved at the float64 run's eval step in all four
  seeds (1,100, 1,400, 1,000, 1,200). After the jump both are solutions, 5e-2 apart, against 1.41
  between the solutions reached from two different starts (seeds 0 and 1's initial parameters,
  seed 0's task); theta moves 0.74 of ||theta_0|| from its start by the solve.

Agreement of steps-to-solve over an ensemble of S seeds (``compare_steps``). Paired by seed: the
same seed gives both frameworks the same secret, initial parameters and batches, so seed i's two
runs differ by rounding alone, and the test compares each seed's two steps-to-solve:
  * a seed whose runs never parted (``parted[i]`` False; ``judge_ensembles``: their horizon
    against each other is None over the steps both ran) must agree within one eval block, and in
    its outcome: a deterministic check, as the seed's non-chaotic cases must end alike;
  * over all seeds, the differences d_i = t_a,i - t_b,i are tested by the exact Wilcoxon
    signed-rank test (two-sided; zero differences dropped, Wilcoxon's convention; tied |d|
    mid-ranked, the exact null distribution computed for those ranks). Once rounding has been
    amplified, which framework's run solves first is a coin flip under the null (their roundings
    are exchangeable perturbations of the same dynamics), so d_i is symmetric about 0. Pairing
    removes the spread between seeds (secret, start and batches: 1,000 to 1,400 steps over seeds
    0-3 at the paper's defaults, more at larger n), which an unpaired test (Mann-Whitney) would
    have to see through;
  * not solved within the budget counts as budget + eval_every ("later than any solve"), so a
    framework that fails to solve ranks late rather than being dropped; the outcome fractions
    (solved / unsolved / diverged) are also compared by impls.agreement's two-proportion bound
    (z = 4.5), as the seed's ensembles are.
``ALPHA`` = 1e-3: a matrix of a few tens of such comparisons raises a false alarm with probability
of a few percent at most. The exact test can reach it only from S = 11 seeds on (its smallest
two-sided p is 2^(1 - S)): fewer seeds can flag paired disagreements, never a distribution shift;
``StepsAgreement.resolvable`` says which.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..agreement import Z, proportion_bound
from ..contract import ModelTrajectory, invalid

OUTCOMES = ("solved", "unsolved", "diverged")
PART_TOL = 1e-3
ALPHA = 1e-3


def classify(traj: ModelTrajectory, solved=None) -> tuple[str, int | None]:
    """(outcome, steps to solve or None). ``solved``: score -> bool, default the model's own."""
    if solved is None:
        from . import get
        solved = get(traj.model).solved
    loss = np.asarray(traj.loss, np.float64)
    snaps = [np.asarray(v, np.float64) for v in traj.snapshots.values()]
    if not np.isfinite(loss).all() or not all(np.isfinite(v).all() for v in snaps) \
            or traj.meta.get("stopped") == "diverged":
        return "diverged", None
    for t in sorted(traj.scores):
        if solved(traj.scores[t]):
            return "solved", int(t)
    return "unsolved", None


def distance(a, b) -> float:
    """||a - b|| / ||b||, float64 L2 over the flattened vectors (inf where a is not finite and b is)."""
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    if a.shape != b.shape:
        raise invalid("snapshots", f"vectors of {a.size} and {b.size} parameters", "vectors of one model")
    if np.array_equal(a, b, equal_nan=True):
        return 0.0
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return math.inf
    nb = float(np.linalg.norm(b))
    d = float(np.linalg.norm(a - b))
    return d / nb if nb > 0 else math.inf


def _snapshots(x) -> dict:
    snaps = x.snapshots if isinstance(x, ModelTrajectory) else x
    if not isinstance(snaps, dict):
        raise invalid("snapshots", type(x).__name__, "a ModelTrajectory or a dict step -> vector")
    return snaps


def horizon(snap_a, snap_b, tol: float = PART_TOL) -> int | None:
    """The first step recorded by both at which ``distance(a, b) > tol``; None when never.

    ``snap_a``, ``snap_b``: ModelTrajectory or dict step -> flattened parameters; b is the
    reference. ValueError (one line) for tol <= 0, no step in common, or vectors of other sizes.
    """
    try:
        tol = float(tol)
    except (TypeError, ValueError):
        raise invalid("tol", tol, "a number > 0") from None
    if not tol > 0:
        raise invalid("tol", tol, "a number > 0")
    a, b = _snapshots(snap_a), _snapshots(snap_b)
    common = sorted(set(a) & set(b))
    if not common:
        raise invalid("snapshots", f"steps {sorted(a)[:3]}... and {sorted(b)[:3]}...",
                      "two runs with at least one recorded step in common")
    for t in common:
        if distance(a[t], b[t]) > tol:
            return int(t)
    return None


def common_steps(snap_a, snap_b) -> int:
    """The last step both recorded: how far a horizon of None ('never') reaches."""
    common = set(_snapshots(snap_a)) & set(_snapshots(snap_b))
    return max(common) if common else 0


# ---- steps-to-solve over an ensemble of seeds -------------------------------------------------

def _midranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for m in range(i, j + 1):
            ranks[order[m]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def signed_rank(d) -> tuple[float, float, int]:
    """(W+, exact two-sided p, n used): Wilcoxon's signed-rank test of d symmetric about 0.

    Zeros are dropped; tied |d| get mid-ranks, and the null distribution is computed exactly for
    those ranks (all 2^n sign assignments, by counting sums of doubled ranks). p = 2 min(P(W <= W+),
    P(W >= W+)), capped at 1; 1.0 when no difference is non-zero.
    """
    d = [float(v) for v in d]
    if not all(math.isfinite(v) for v in d):
        raise invalid("differences", d, "finite numbers")
    nz = [v for v in d if v != 0]
    n = len(nz)
    if n == 0:
        return 0.0, 1.0, 0
    ranks2 = [int(round(2 * r)) for r in _midranks([abs(v) for v in nz])]  # doubled: integers
    w2 = sum(r for r, v in zip(ranks2, nz) if v > 0)
    total = sum(ranks2)
    counts = [0] * (total + 1)
    counts[0] = 1
    for r in ranks2:
        for s in range(total, r - 1, -1):
            counts[s] += counts[s - r]
    all_ = 2 ** n
    lo = sum(counts[: w2 + 1]) / all_
    hi = sum(counts[w2:]) / all_
    return w2 / 2, min(1.0, 2 * min(lo, hi)), n


@dataclass
class StepsAgreement:
    """The verdict on two ensembles' steps-to-solve, paired by seed."""

    a: str
    b: str
    seeds: list
    steps_a: list
    steps_b: list
    outcomes_a: list
    outcomes_b: list
    budget: int
    eval_every: int
    w_plus: float = 0.0
    p: float = 1.0
    n_nonzero: int = 0
    disagreements: list = field(default_factory=list)  # seeds with |t_a - t_b| > eval_every
    failures: list = field(default_factory=list)
    alpha: float = ALPHA

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def resolvable(self) -> bool:
        """Whether the signed-rank test could reject at ``alpha`` with this many seeds."""
        return 2.0 ** (1 - len(self.seeds)) < self.alpha

    def message(self) -> str:
        sa = [s for s in self.steps_a if s is not None]
        sb = [s for s in self.steps_b if s is not None]
        med = lambda xs: f"{float(np.median(xs)):.0f}" if xs else "-"
        head = (f"{self.a} vs {self.b} over {len(self.seeds)} seeds (budget {self.budget}, block "
                f"{self.eval_every}): solved {len(sa)} vs {len(sb)}, median steps {med(sa)} vs {med(sb)}, "
                f"{len(self.disagreements)} seeds apart by more than a block, signed-rank p = {self.p:.3g}"
                + ("" if self.resolvable else f" (cannot reach alpha {self.alpha:g} with {len(self.seeds)} seeds)"))
        return head + ("" if self.ok else "; " + "; ".join(self.failures))


def _ranked(steps, outcome: str, budget: int, eval_every: int) -> int:
    return int(steps) if outcome == "solved" else budget + eval_every


def compare_steps(a: list[ModelTrajectory], b: list[ModelTrajectory], parted=None,
                  alpha: float = ALPHA, z: float = Z, solved=None) -> StepsAgreement:
    """Judge two ensembles run over the same seeds (a[i] and b[i] share seed i's data and start).

    ``parted[i]``: whether seed i's runs parted (horizon) before the earlier of their solves;
    None: treat every seed as parted (only the statistical checks apply). ``solved``: as for
    ``classify``.
    """
    if len(a) != len(b) or not a:
        raise invalid("ensembles", f"{len(a)} and {len(b)} runs", "two non-empty lists of one length")
    seeds = [t.meta.get("train", {}).get("seed") for t in a]
    if seeds != [t.meta.get("train", {}).get("seed") for t in b]:
        raise invalid("ensembles", "different seeds", "runs paired by seed, in the same order")
    budgets = {t.meta.get("budget") for t in a + b}
    blocks = {t.meta.get("eval_every") for t in a + b}
    if len(budgets) != 1 or len(blocks) != 1:
        raise invalid("ensembles", f"budgets {sorted(budgets, key=str)}, blocks {sorted(blocks, key=str)}",
                      "one budget and one eval block for every run")
    budget, block = budgets.pop(), blocks.pop()
    if parted is None:
        parted = [True] * len(a)
    if len(parted) != len(a):
        raise invalid("parted", f"{len(parted)} flags", f"one per seed ({len(a)})")
    oa, ob = [classify(t, solved) for t in a], [classify(t, solved) for t in b]
    tag = (lambda t: f"{t.label} {t.dtype}") if a[0].dtype != b[0].dtype else (lambda t: t.label)
    res = StepsAgreement(tag(a[0]), tag(b[0]), seeds, [s for _, s in oa], [s for _, s in ob],
                         [o for o, _ in oa], [o for o, _ in ob], budget, block, alpha=alpha)
    ra = [_ranked(s, o, budget, block) for o, s in oa]
    rb = [_ranked(s, o, budget, block) for o, s in ob]
    for i, seed in enumerate(seeds):
        apart = abs(ra[i] - rb[i]) > block or oa[i][0] != ob[i][0]
        if apart:
            res.disagreements.append(seed)
            if not parted[i]:
                res.failures.append(f"seed {seed}: {oa[i][0]} at {oa[i][1]} vs {ob[i][0]} at {ob[i][1]}, "
                                    "although the runs never parted")
    res.w_plus, res.p, res.n_nonzero = signed_rank([x - y for x, y in zip(ra, rb)])
    if res.p < alpha:
        res.failures.append(f"steps-to-solve differ: signed-rank p = {res.p:.3g} < {alpha:g}")
    outs_a, outs_b = res.outcomes_a, res.outcomes_b
    for c in OUTCOMES:
        fa, fb = outs_a.count(c) / len(outs_a), outs_b.count(c) / len(outs_b)
        bound = proportion_bound(fa, fb, len(outs_a), len(outs_b), z)
        if abs(fa - fb) > bound:
            res.failures.append(f"{c} {fa:.3f} vs {fb:.3f} (bound {bound:.3f})")
    return res


def judge_ensembles(model, cfg, train, seeds, a: tuple[str, str], b: tuple[str, str], device: str = "cpu",
                    eval_every: int | None = None, dtypes: tuple[str, str] | None = None,
                    tol: float = PART_TOL) -> StepsAgreement:
    """Train ``a`` = (backend, variant) and ``b`` over ``seeds`` (``train`` with each seed; dtypes
    ``train.dtype`` unless ``dtypes`` says otherwise), each stopping at its first solve, with
    snapshots at every eval block; a seed's runs have parted when ``horizon(a_i, b_i, tol)`` is
    not None; then ``compare_steps``. The snapshots are dropped once each seed is judged."""
    from dataclasses import replace

    from .run import train as run_train

    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise invalid("seeds", seeds, "a non-empty list of distinct seeds")
    da, db = dtypes or (train.dtype, train.dtype)
    every = model.eval_every if eval_every is None else eval_every
    ta, tb, parted = [], [], []
    for s in seeds:
        x = run_train(model, a[0], cfg, replace(train, seed=s, dtype=da), a[1], device, every, record_every=every)
        y = run_train(model, b[0], cfg, replace(train, seed=s, dtype=db), b[1], device, every, record_every=every)
        parted.append(horizon(x, y, tol) is not None)
        x.snapshots.clear(), y.snapshots.clear()
        ta.append(x), tb.append(y)
    return compare_steps(ta, tb, parted, solved=model.solved)
