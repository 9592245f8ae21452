"""The machinery every model shares: the driver (impls.models.run), outcome, horizon, steps agreement.

A fake model with a scripted runner exercises the driver without a framework: it solves at a set
step, or turns NaN at one, and records every advance call it gets.
"""
from __future__ import annotations

import math
import sys
import types
from dataclasses import dataclass

import numpy as np
import pytest

from impls.contract import Model, ModelTrajectory, Optim, Train, flatten
from impls.models import outcome as mo
from impls.models import run

FAKE = "_paritybench_fake_model_backend"


@dataclass(frozen=True)
class FakeConfig:
    solve_at: int = 10**9   # the score reaches 1 at this step
    nan_at: int = 10**9     # the parameters turn NaN from this step on


class FakeRunner:
    def __init__(self, cfg, train):
        self.cfg, self.t, self.calls = cfg, 0, []
        self.w = np.array([1.0, -2.0, 0.5])
        self._loss = []

    def advance(self, k):
        self.calls.append(k)
        for _ in range(k):
            self._loss.append(float(self.w @ self.w))
            self.t += 1
            self.w = self.w * 0.99 if self.t < self.cfg.nan_at else self.w * np.nan

    def params(self):
        return {"w": self.w.copy(), "t": np.array([float(self.t)])}

    def losses(self):
        return np.array(self._loss)


RUNNERS = []


def _prepare(cfg, train, variant, device):
    RUNNERS.append(FakeRunner(cfg, train))
    return RUNNERS[-1]


sys.modules[FAKE] = types.SimpleNamespace(prepare=_prepare)

MODEL = Model(
    name="fake", summary="scripted", parameters={}, config=FakeConfig, init=lambda c, s: {},
    batches=lambda c, s, a, k: (), optim=Optim(),
    evaluate=lambda cfg, seed, p: min(1.0, float(p["t"][0]) / cfg.solve_at),
    solved=lambda score: score >= 0.99,
    backends={"fake": FAKE}, variants={"fake": ("one",)}, eval_every=100,
)


def fake_run(cfg=FakeConfig(), steps=1000, **kw):
    traj = run.train(MODEL, "fake", cfg, Train(steps=steps), **kw)
    return traj, RUNNERS[-1]


# ---- the driver ------------------------------------------------------------------------------

def test_blocks():
    assert run.blocks(250, 100) == [100, 200, 250]
    assert run.blocks(200, 100) == [100, 200]
    assert run.blocks(250, 100, 50) == [50, 100, 150, 200, 250]
    assert run.blocks(90, 60, 40) == [20, 40, 60, 80, 90]
    assert run.blocks(0, 100) == []


def test_stops_at_the_first_solved_block():
    traj, runner = fake_run(FakeConfig(solve_at=230))
    assert traj.meta["steps_to_solve"] == 300 and traj.meta["stopped"] == "solved"
    assert runner.calls == [100, 100, 100] and traj.steps == 300 == traj.meta["steps_run"]
    assert sorted(traj.scores) == [100, 200, 300] and traj.scores[300] == 1.0
    assert mo.classify(traj, MODEL.solved) == ("solved", 300)
    assert traj.seconds >= 0 and traj.meta["eval_seconds"] >= 0 and traj.label == "fake-one"


def test_runs_the_budget_when_asked_and_keeps_the_first_solve():
    traj, runner = fake_run(FakeConfig(solve_at=230), steps=550, stop_when_solved=False)
    assert runner.calls == [100] * 5 + [50] and traj.steps == 550
    assert traj.meta["steps_to_solve"] == 300 and traj.meta["stopped"] == "budget"
    assert sorted(traj.scores) == [100, 200, 300, 400, 500, 550]


def test_unsolved_within_the_budget():
    traj, _ = fake_run(FakeConfig(solve_at=5000), steps=400)
    assert traj.meta["steps_to_solve"] is None and mo.classify(traj, MODEL.solved) == ("unsolved", None)


def test_snapshots_at_record_every_flattened_and_at_the_ends():
    traj, runner = fake_run(FakeConfig(solve_at=10**6), steps=250, record_every=50)
    assert sorted(traj.snapshots) == [0, 50, 100, 150, 200, 250]
    assert runner.calls == [50] * 5 and sorted(traj.scores) == [100, 200, 250]
    w = np.array([1.0, -2.0, 0.5]) * 0.99 ** 150
    np.testing.assert_allclose(traj.snapshots[150], flatten({"w": w, "t": np.array([150.0])}))
    assert traj.snapshots[0][0] == 0 and traj.snapshots[250][0] == 250  # names sorted: "t" before "w"


def test_a_nan_run_stops_and_is_diverged():
    traj, runner = fake_run(FakeConfig(nan_at=150), steps=1000, record_every=100)
    assert traj.meta["stopped"] == "diverged" and runner.calls == [100, 100] and 200 not in traj.scores
    assert 200 in traj.snapshots and not np.isfinite(traj.snapshots[200]).all()
    assert mo.classify(traj, MODEL.solved) == ("diverged", None)


def test_a_nan_loss_alone_is_diverged():
    t = ModelTrajectory("sparse-parity", "x", "y", "cpu", "float32", np.array([1.0, np.inf]),
                        scores={2: 1.0}, meta={})
    assert mo.classify(t) == ("diverged", None)


@pytest.mark.parametrize("kw,field", [
    (dict(eval_every=0), "eval_every"), (dict(record_every=-1), "record_every"),
    (dict(variant="two"), "variant"), (dict(stop_when_solved="yes"), "stop_when_solved"),
])
def test_driver_rejects(kw, field):
    with pytest.raises(ValueError) as e:
        run.train(MODEL, "fake", FakeConfig(), Train(steps=10), **kw)
    assert str(e.value).startswith(f"{field}: got ") and "\n" not in str(e.value)


def test_the_seed_model_has_its_own_driver():
    with pytest.raises(ValueError, match=r"^model: got 'seed'; allowed: .*impls.registry"):
        run.train("seed", "reference", None, Train())


# ---- horizon -------------------------------------------------------------------------------

def test_horizon_is_the_first_common_step_beyond_tol():
    b = {t: np.ones(4) for t in (0, 100, 200, 300)}
    a = {0: np.ones(4), 100: np.ones(4) * (1 + 5e-4), 200: np.ones(4) * (1 + 2e-3), 300: np.ones(4)}
    assert mo.horizon(a, b, 1e-3) == 200
    assert mo.horizon(a, b, 3e-3) is None
    assert mo.horizon({0: a[0], 200: a[200]}, {200: b[200], 300: b[300]}, 1e-3) == 200  # common steps only
    assert mo.common_steps(a, b) == 300


def test_horizon_relative_to_b_in_l2_over_the_whole_vector():
    b = np.array([3.0, 4.0])                       # ||b|| = 5
    a = b + np.array([0.0, 0.0051])               # distance 0.00102
    assert mo.distance(a, b) == pytest.approx(0.0051 / 5)
    assert mo.horizon({0: a}, {0: b}, 1e-3) == 0 and mo.horizon({0: a}, {0: b}, 1.1e-3) is None


def test_horizon_non_finite():
    x = np.array([1.0, np.nan])
    assert mo.horizon({0: x}, {0: np.array([1.0, 2.0])}) == 0
    assert mo.horizon({0: np.array([1.0, 2.0])}, {0: x}) == 0
    assert mo.horizon({0: x}, {0: x.copy()}) is None


@pytest.mark.parametrize("a,b,tol,field", [
    ({0: np.ones(2)}, {0: np.ones(2)}, 0, "tol"), ({0: np.ones(2)}, {0: np.ones(2)}, math.nan, "tol"),
    ({0: np.ones(2)}, {1: np.ones(2)}, 1e-3, "snapshots"), ({0: np.ones(2)}, {0: np.ones(3)}, 1e-3, "snapshots"),
])
def test_horizon_rejects(a, b, tol, field):
    with pytest.raises(ValueError, match=f"^{field}: got "):
        mo.horizon(a, b, tol)


def test_the_tolerance_sits_far_above_a_float32_start():
    """A float32 run starts within 2^-24 relative of the float64 parameters: PART_TOL is >= 1e4 x that."""
    x = np.random.default_rng(0).uniform(-1, 1, 31_000)
    d = mo.distance(x.astype(np.float32), x)
    assert 0 < d <= 2.0 ** -24 and mo.PART_TOL >= 1e4 * 2.0 ** -24


# ---- steps-to-solve agreement --------------------------------------------------------------

def test_signed_rank_exact():
    assert mo.signed_rank([0, 0, 0]) == (0.0, 1.0, 0)
    w, p, n = mo.signed_rank([1, 2, 3, 4, 5])
    assert (w, n) == (15.0, 5) and p == pytest.approx(2 / 32)
    assert mo.signed_rank([-1, -2, -3, -4, -5])[1] == pytest.approx(2 / 32)
    assert mo.signed_rank([1, -1, 2, -2])[1] == 1.0
    # ties: |d| = 1, 1, 2 -> ranks 1.5, 1.5, 3; W+ = 4.5 (d = +1, +2); P(W+ >= 4.5) = 3/8 ({1,3},{2,3},{1,2,3})
    assert mo.signed_rank([1, -1, 2])[:2] == (4.5, pytest.approx(min(1.0, 2 * 3 / 8)))


def test_signed_rank_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    for d in ([3, -1, 4, 2, 5, 9, -6, 7, 10, 8, 11, 12], [-3, 1, -4, 2, 5, -9, -6, 7]):
        want = stats.wilcoxon(d, method="exact", zero_method="wilcox").pvalue
        assert mo.signed_rank(d)[1] == pytest.approx(want, rel=1e-9)


def traj(seed, steps_to_solve, budget=1000, block=100, label=("torch", "eager"), nan=False):
    scores = {t: (1.0 if steps_to_solve is not None and t >= steps_to_solve else 0.5)
              for t in range(block, (steps_to_solve or budget) + 1, block)}
    loss = np.full(steps_to_solve or budget, np.nan if nan else 1.0)
    return ModelTrajectory("sparse-parity", *label, "cpu", "float32", loss, scores=scores,
                           meta={"train": {"seed": seed}, "budget": budget, "eval_every": block})


def ensemble(steps, **kw):
    return [traj(i, s, **kw) for i, s in enumerate(steps)]


def test_identical_ensembles_agree():
    s = [300, 500, None, 200, 900, 400]
    r = mo.compare_steps(ensemble(s), ensemble(s, label=("jax", "jit")), parted=[False] * 6)
    assert r.ok and r.p == 1.0 and r.disagreements == [] and not r.resolvable
    assert "torch-eager vs jax-jit over 6 seeds" in r.message()


def test_a_non_parted_seed_must_agree_within_a_block():
    a = ensemble([300, 500, 400])
    assert mo.compare_steps(a, ensemble([400, 500, 400]), parted=[False] * 3).ok   # one block apart
    r = mo.compare_steps(a, ensemble([500, 500, 400]), parted=[False, True, True])
    assert not r.ok and r.disagreements == [0] and "seed 0" in r.failures[0]
    assert mo.compare_steps(a, ensemble([500, 500, 400]), parted=[True] * 3).ok      # parted: chance


def test_a_shift_over_enough_seeds_fails_the_signed_rank_test():
    base = [200 + 100 * (i % 7) for i in range(16)]
    r = mo.compare_steps(ensemble(base, budget=3000), ensemble([s + 300 + 100 * (i % 3) for i, s in
                                                                 enumerate(base)], budget=3000))
    assert r.resolvable and r.p < mo.ALPHA and not r.ok and "signed-rank" in r.failures[0]
    # the same spread, but no direction: differences +-300 alternate
    r = mo.compare_steps(ensemble(base, budget=3000),
                         ensemble([s + (300 if i % 2 else -100) for i, s in enumerate(base)], budget=3000))
    assert r.p > 0.05 and r.ok


def test_unsolved_ranks_after_every_solve_and_fractions_are_compared():
    a = ensemble([300] * 16, budget=1000)
    r = mo.compare_steps(a, ensemble([None] * 16, budget=1000))
    assert not r.ok and r.p < mo.ALPHA and any(f.startswith("solved 1.000 vs 0.000") for f in r.failures)
    r = mo.compare_steps(ensemble([None] * 16), ensemble([None] * 16, nan=True))
    assert any(f.startswith("diverged 0.000 vs 1.000") for f in r.failures)


@pytest.mark.parametrize("b,field", [
    (lambda: ensemble([300, 400]), "ensembles"), (lambda: [traj(5, 300), traj(1, 300), traj(2, 300)], "ensembles"),
    (lambda: ensemble([300, 400, 500], budget=2000), "ensembles"),
])
def test_compare_steps_rejects(b, field):
    with pytest.raises(ValueError, match=f"^{field}: got "):
        mo.compare_steps(ensemble([300, 400, 500]), b())


def test_judge_ensembles_fake_runs_agree_and_never_part():
    r = mo.judge_ensembles(MODEL, FakeConfig(solve_at=230), Train(steps=1000), range(3),
                           ("fake", "one"), ("fake", "one"))
    assert r.ok and r.steps_a == r.steps_b == [300, 300, 300] and r.seeds == [0, 1, 2]
    with pytest.raises(ValueError, match="^seeds: got "):
        mo.judge_ensembles(MODEL, FakeConfig(), Train(steps=10), [1, 1], ("fake", "one"), ("fake", "one"))


def test_judge_ensembles_reference_float32_against_float64():
    """A real ensemble: numpy float32 and float64 over 12 seeds of a small sparse parity solve alike."""
    from impls.models import get
    m = get("sparse-parity")
    r = mo.judge_ensembles(m, m.config(10, 2, 64, 32), Train(m.optim, steps=2000), range(12),
                           ("reference", "numpy"), ("reference", "numpy"), eval_every=20,
                           dtypes=("float32", "float64"))
    assert r.ok, r.message()
    assert r.outcomes_a == r.outcomes_b == ["solved"] * 12 and r.resolvable
