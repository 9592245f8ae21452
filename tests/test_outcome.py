"""impls.outcome on crafted trajectories: every class, every edge, and the bad inputs."""
from __future__ import annotations

import math

import numpy as np
import pytest

from impls import Data, Trajectory, integers
from impls.outcome import (OUTCOMES, W_LIMIT, basin_halfwidth, classify, fractions, horizon,
                           horizon_arrays, part_tol, solution_distance)

PI2 = math.pi / 2
D100 = integers(100)  # every integer 0..99: h = pi / 396


def traj(w, dtype="float64", loss=None):
    w = np.asarray(w, np.float64)
    return Trajectory("crafted", "test", "cpu", dtype, w, np.zeros_like(w) if loss is None else loss)


def still(value, steps=30):
    return np.full(steps + 1, value)


def test_basin_halfwidth_is_pi_over_4_max_x():
    assert basin_halfwidth(D100) == pytest.approx(math.pi / (4 * 99))
    assert basin_halfwidth(integers(2)) == pytest.approx(math.pi / 4)
    assert basin_halfwidth(Data(np.zeros(3, np.int64), np.zeros(3))) == math.inf
    assert part_tol(D100) == pytest.approx(basin_halfwidth(D100) / 10)


def test_basin_is_exact_for_every_integer():
    # Just inside the basin every integer 0..99 is right; just outside some integer is wrong.
    from impls.metrics import accuracy
    h = basin_halfwidth(D100)
    for k in (0, 1, -3):
        for sign in (1, -1):
            assert accuracy(D100, PI2 + k * math.pi + sign * 0.999 * h)[0] == 1.0
            assert accuracy(D100, PI2 + k * math.pi + sign * 1.001 * h)[0] < 1.0


def test_solution_distance_is_periodic():
    assert solution_distance([PI2, PI2 + math.pi, PI2 - 7 * math.pi]) == pytest.approx([0, 0, 0], abs=1e-14)
    assert solution_distance([PI2 + 0.1, PI2 - 0.1, 0.0])[:2] == pytest.approx([0.1, 0.1])
    assert solution_distance([0.0])[0] == pytest.approx(PI2)


def test_solved_at_a_solution_and_at_another_branch():
    assert classify(traj(still(PI2)), D100) == ["solved"]
    assert classify(traj(still(PI2 + 2 * math.pi)), D100) == ["solved"]
    # still moving, but ending inside the basin: solved wins over wandering
    w = np.linspace(1.4, PI2, 31)
    assert classify(traj(w), D100) == ["solved"]


def test_basin_edges():
    h = basin_halfwidth(D100)
    assert classify(traj(still(PI2 + 0.99 * h)), D100) == ["solved"]
    assert classify(traj(still(PI2 - 0.99 * h)), D100) == ["solved"]
    assert classify(traj(still(PI2 + 1.01 * h)), D100) == ["stuck"]
    assert classify(traj(still(PI2 - 1.01 * h)), D100) == ["stuck"]


def test_aliasing_fit_is_not_solved():
    # x in {0, 2, 4, 8} (all even): w = pi gives sin^2(pi x) = 0, right for all four, but w lies
    # pi/2 from every solution, far outside the basin h = pi/32: a sparse-data fit, not solved.
    x = np.array([0, 2, 4, 8])
    data = Data(x, (x % 2).astype(float))
    from impls.metrics import accuracy
    assert accuracy(data, math.pi)[0] == 1.0
    assert classify(traj(still(math.pi)), data) == ["stuck"]


def test_float32_evaluation_decides_classification():
    # fl32(pi/2) is 4.4e-8 above pi/2. With x up to 2^24 - 1 the float32 product w x is off by more
    # than pi/4 for the largest x, so float32 misclassifies; float64 evaluation still does not.
    x = np.arange(2**24 - 4, 2**24, dtype=np.int64)
    data = Data(x, (x % 2).astype(float))
    w32 = float(np.float32(PI2))
    assert classify(traj(still(w32), "float32"), data) != ["solved"]
    assert classify(traj(still(PI2), "float64"), data) == ["solved"]


def test_stuck_and_wandering_thresholds():
    h = basin_halfwidth(D100)
    w = still(1.3)
    w[-5] += 0.9 * h / 100  # moved less than h/100 in the window: stuck
    assert classify(traj(w), D100) == ["stuck"]
    w[-5] = 1.3 + 1.1 * h / 100  # more: wandering
    assert classify(traj(w), D100) == ["wandering"]
    w = still(1.3)
    w[-22] += 1.0  # moved, but before the 20-step window: stuck
    assert classify(traj(w), D100) == ["stuck"]
    assert classify(traj(w), D100, window=25) == ["wandering"]
    period2 = 1.3 + 0.01 * (np.arange(31) % 2)  # a limit cycle is wandering
    assert classify(traj(period2), D100) == ["wandering"]


def test_float32_ulp_floor_for_stuck():
    # At x_max = 1e6, h/100 = 7.9e-9 is below float32's ulp at 1.3 (1.2e-7): rocking over 2 ulp
    # is stuck in float32; the same span in float64 is motion.
    x = np.array([0, 999_999])
    data = Data(x, (x % 2).astype(float))
    w = still(np.float32(1.3))
    w[-3] = float(np.nextafter(np.nextafter(np.float32(1.3), np.float32(2)), np.float32(2)))
    assert classify(traj(w, "float32"), data) == ["stuck"]
    assert classify(traj(w, "float64"), data) == ["wandering"]


def test_diverged_on_nan_inf_and_blow_up_never_raises():
    for bad in (math.nan, math.inf, -math.inf):
        w = still(1.3)
        w[7] = bad
        assert classify(traj(w), D100) == ["diverged"]
    loss = np.zeros((31, 1))
    loss[3] = math.nan
    assert classify(traj(still(PI2), loss=loss), D100) == ["diverged"]
    w = still(1.3)
    w[10] = 2 * W_LIMIT
    assert classify(traj(w), D100) == ["diverged"]
    assert classify(traj(w), D100, w_limit=3 * W_LIMIT) == ["wandering"]
    assert classify(traj(np.full(5, math.nan)), D100) == ["diverged"]


def test_ensemble_one_outcome_per_member():
    cols = np.stack([still(PI2), still(1.3), 1.3 + 0.01 * (np.arange(31) % 2), still(math.nan)], axis=1)
    assert classify(traj(cols), D100) == ["solved", "stuck", "wandering", "diverged"]
    assert set(classify(traj(cols), D100)) == set(OUTCOMES)


def test_zero_steps():
    assert classify(traj([PI2]), D100) == ["solved"]
    assert classify(traj([1.3]), D100) == ["stuck"]


def test_empty_or_ragged_trajectory_is_a_clear_error():
    with pytest.raises(ValueError, match=r"^trajectory.w: got 'shape \(0, 1\)'"):
        Trajectory("a", "b", "cpu", "float64", np.zeros((0, 1)), np.zeros((0, 1)))

    class Raw:  # a duck-typed trajectory that skipped Trajectory's checks
        dtype = "float64"

        def __init__(self, w, loss):
            self.w, self.loss = w, loss

    with pytest.raises(ValueError, match=r"^trajectory.w: got 'shape \(0, 1\)'; allowed: a non-empty"):
        classify(Raw(np.zeros((0, 1)), np.zeros((0, 1))), D100)
    with pytest.raises(ValueError, match=r"^trajectory.loss: got 'shape \(4, 1\)'; allowed: the shape of w"):
        classify(Raw(np.zeros((5, 1)), np.zeros((4, 1))), D100)
    with pytest.raises(ValueError, match=r"^window: got 0"):
        classify(traj(still(1.3)), D100, window=0)


def test_horizon_first_step_past_tol():
    a = np.zeros((6, 3))
    b = a.copy()
    b[3:, 0] = 2e-3  # parts at 3
    b[1, 1] = 1e-3  # exactly tol is not past it
    b[5, 2] = -5  # parts at the last step
    ta, tb = traj(a), traj(b)
    assert horizon(ta, tb, 1e-3) == [3, None, 5]
    assert horizon(tb, ta, 1e-3) == [3, None, 5]  # symmetric
    assert horizon(ta, ta, 1e-12) == [None, None, None]
    assert horizon(traj([0.0, 1.0]), traj([1.0, 1.0]), 0.5) == [0]  # parted at the start


def test_horizon_non_finite():
    a = np.array([1.0, math.nan, math.nan, math.inf, 1.0])
    assert horizon_arrays(a, a, 1e-9) == [None]  # NaN vs NaN, inf vs inf: not parted
    b = a.copy()
    b[3] = -math.inf
    assert horizon_arrays(a, b, 1e-9) == [3]
    c = np.array([1.0, 1.0, math.nan, math.inf, 1.0])
    assert horizon_arrays(a, c, 1e-9) == [1]  # one NaN, one finite: parted


def test_horizon_bad_input():
    with pytest.raises(ValueError, match=r"^trajectories: got 'shapes \(3, 1\) and \(4, 1\).*same number of steps"):
        horizon(traj(np.zeros(3)), traj(np.zeros(4)), 1e-3)
    with pytest.raises(ValueError, match=r"^trajectories: got 'shapes \(3, 2\) and \(3, 1\)"):
        horizon(traj(np.zeros((3, 2))), traj(np.zeros(3)), 1e-3)
    for tol in (0, -1, math.nan, "x"):
        with pytest.raises(ValueError, match=r"^tol: got"):
            horizon(traj(np.zeros(3)), traj(np.zeros(3)), tol)
    with pytest.raises(ValueError, match=r"^trajectory.w"):
        horizon_arrays(np.zeros((0, 1)), np.zeros((0, 1)), 1e-3)


def test_fractions():
    assert fractions(["solved", "stuck", "stuck", "wandering"]) == {
        "solved": 0.25, "stuck": 0.5, "wandering": 0.25, "diverged": 0.0}
    with pytest.raises(ValueError, match=r"^outcomes: got 'lost'"):
        fractions(["lost"])
    with pytest.raises(ValueError, match=r"^outcomes: got '\[\]'"):
        fractions([])
