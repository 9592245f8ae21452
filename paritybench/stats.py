"""The statistics of paired timing and of the gate: medians, their confidence intervals, a rank test.

Pure Python (math only), so that bench/ and compare share it without a framework or scipy.

  median_ci(xs, 0.95)   distribution-free CI of a median from order statistics: [x_(j), x_(k)]
                        with j, k the binomial(n, 1/2) quantiles (Conover, Practical Nonparametric
                        Statistics, 3rd ed., sec. 3.2); exact coverage >= the level.
  mann_whitney(a, b)    two-sided Mann-Whitney U test, normal approximation with the tie
                        correction and a continuity correction (valid for n_a, n_b >= 8; the
                        suite records >= 10 rounds per case).
"""
from __future__ import annotations

import math


def _check(xs, field: str) -> list[float]:
    xs = [float(v) for v in xs]
    if not xs or not all(math.isfinite(v) for v in xs):
        raise ValueError(f"{field}: got {len(xs)} values (or a non-finite one); allowed: a non-empty "
                         "list of finite numbers")
    return xs


def _binom_cdf(k: int, n: int) -> float:
    """P(X <= k), X ~ binomial(n, 1/2)."""
    return sum(math.comb(n, i) for i in range(0, k + 1)) / 2.0**n


def median_ci(xs, level: float = 0.95) -> tuple[float, float]:
    """(lo, hi): order-statistic confidence interval of the median of ``xs`` at ``level``.

    The largest j with P(X <= j - 1) <= (1 - level) / 2 gives lo = x_(j), hi = x_(n + 1 - j)
    (1-based). With n < 6 no such j exists at 95%: the interval is the sample's range.
    """
    xs = sorted(_check(xs, "sample"))
    n, alpha = len(xs), (1 - level) / 2
    j = 0
    while j + 1 <= n and _binom_cdf(j, n) <= alpha:  # j is then a valid count below lo
        j += 1
    j = max(j, 1)
    return xs[j - 1], xs[n - j]


def _ranks(values: list[float]) -> tuple[list[float], float]:
    """Mid-ranks (1-based) of ``values`` and the tie term sum(t^3 - t) over tied groups."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties = 0.0
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mid = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = mid
        t = j - i + 1
        ties += t**3 - t
        i = j + 1
    return ranks, ties


def mann_whitney(a, b) -> tuple[float, float]:
    """(U_b, two-sided p): U_b counts pairs with b > a (ties 1/2); large U_b means b is larger."""
    a, b = _check(a, "old sample"), _check(b, "new sample")
    na, nb = len(a), len(b)
    ranks, ties = _ranks(a + b)
    u_b = sum(ranks[na:]) - nb * (nb + 1) / 2
    mu = na * nb / 2
    n = na + nb
    var = na * nb / 12 * ((n + 1) - ties / (n * (n - 1)))
    if var <= 0:
        return u_b, 1.0
    z = (abs(u_b - mu) - 0.5) / math.sqrt(var)
    return u_b, min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2)))
