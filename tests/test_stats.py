"""paritybench/gate/stats.py against scipy's implementations (an independent oracle) and hand counts."""
from __future__ import annotations

import itertools
import math
import random

import pytest

from paritybench.gate import stats


def test_exact_mann_whitney_counts_the_orderings():
    # 4 against 4: 70 orderings, one with every b above every a: two-sided p = 2/70
    assert stats.mann_whitney_exact([1, 2, 3, 4], [5, 6, 7, 8]) == (16.0, pytest.approx(2 / 70))
    assert stats.mann_whitney_exact([5, 6, 7, 8], [1, 2, 3, 4]) == (0.0, pytest.approx(2 / 70))
    # one swap: U = 15, P(U >= 15) = 2/70 per side -> p = 4/70
    assert stats.mann_whitney_exact([1, 2, 3, 5], [4, 6, 7, 8])[1] == pytest.approx(4 / 70)
    # 3 against 3 cannot go below 2/20
    assert stats.mann_whitney_exact([1, 2, 3], [4, 5, 6])[1] == pytest.approx(0.1)
    # the null distribution by brute force over every ordering (5 against 4)
    counts = stats._u_counts(5, 4)
    brute = [0] * 21
    for pos in itertools.combinations(range(9), 4):  # where the b's sit in the sorted order
        brute[sum(p - i for i, p in enumerate(pos))] += 1  # each b beats the a's before it
    assert counts == brute and sum(counts) == math.comb(9, 4)


def test_exact_and_approximate_tests_match_scipy():
    scipy_stats = pytest.importorskip("scipy.stats", reason="scipy absent: no oracle")
    rng = random.Random(1)
    for na, nb in ((4, 4), (5, 3), (6, 6)):
        for shift in (0.0, 0.5, 1.5):
            a = [rng.gauss(0, 1) for _ in range(na)]
            b = [rng.gauss(shift, 1) for _ in range(nb)]
            ref = scipy_stats.mannwhitneyu(b, a, alternative="two-sided", method="exact")
            u, p = stats.mann_whitney_exact(a, b)
            assert u == ref.statistic and p == pytest.approx(ref.pvalue, rel=1e-12)
    for shift in (0.0, 0.3, 1.0):
        a = [rng.gauss(0, 1) for _ in range(30)]
        b = [round(rng.gauss(shift, 1), 1) for _ in range(25)]  # ties
        ref = scipy_stats.mannwhitneyu(b, a, alternative="two-sided", method="asymptotic",
                                       use_continuity=True)
        u, p = stats.mann_whitney(a, b)
        assert u == ref.statistic and p == pytest.approx(ref.pvalue, rel=1e-9)


def test_median_ci_order_statistics_and_bad_input():
    xs = list(range(1, 21))
    assert stats.median_ci(xs) == (6, 15)  # binomial(20, 1/2): P(X <= 5) = 0.0207 <= 0.025 < P(X <= 6)
    assert stats.median_ci([3, 1, 2]) == (1, 3)  # n < 6: the range
    with pytest.raises(ValueError, match="sample: got 0 values"):
        stats.median_ci([])
    with pytest.raises(ValueError, match="allowed: at most 20 each"):
        stats.mann_whitney_exact(range(21), range(3))


def test_the_process_test_runs_only_where_it_can_reach_its_level():
    from paritybench.gate import rules as V

    rules = V.Rules()
    assert V.process_test_possible(4, 4, rules)      # 2/70 = 0.029 < 0.05
    assert not V.process_test_possible(3, 4, rules)  # 2/35 = 0.057: could never say 'slower'
    assert not V.process_test_possible(3, 3, rules)
    assert not V.process_test_possible(1, 4, rules)
    assert V.process_test_possible(3, 4, V.Rules(process_alpha=0.1))


def test_student_t_quantiles_and_tails_match_scipy():
    sp = pytest.importorskip("scipy.stats")
    for df in (2, 6, 6.7, 30, 1e4):
        for q in (0.8, 0.975, 0.9995):
            assert stats.t_ppf(q, df) == pytest.approx(sp.t.ppf(q, df), rel=1e-9)
        assert stats.t_sf(1.3, df) == pytest.approx(sp.t.sf(1.3, df), rel=1e-9)
    assert stats.t_sf(-1.3, 6) == pytest.approx(sp.t.sf(-1.3, 6), rel=1e-9)
    # Welch-Satterthwaite: two equal parts of 6 df give 12; a known part adds no uncertainty
    assert stats.satterthwaite([(1.0, 6), (1.0, 6)]) == pytest.approx(12)
    assert stats.satterthwaite([(1.0, 6), (1.0, math.inf)]) == pytest.approx(24)
    with pytest.raises(ValueError, match="q: got"):
        stats.t_ppf(1.0, 6)
