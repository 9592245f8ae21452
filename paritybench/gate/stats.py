"""The statistics of paired timing and of the gate: medians, their confidence intervals, a rank test.

Pure Python (math only), so that bench/ and compare share it without a framework or scipy.

  median_ci(xs, 0.95)   distribution-free CI of a median from order statistics: [x_(j), x_(k)]
                        with j, k the binomial(n, 1/2) quantiles (Conover, Practical Nonparametric
                        Statistics, 3rd ed., sec. 3.2); exact coverage >= the level.
  mann_whitney(a, b)    two-sided Mann-Whitney U test, normal approximation with the tie
                        correction and a continuity correction (valid for n_a, n_b >= 8; the
                        suite records >= 10 rounds per case).
  mann_whitney_exact(a, b)  the same test with the exact null distribution of U, for small
                        samples (the gate's process medians, 4 against 4): P(U <= u) counts the
                        C(n_a + n_b, n_a) equally likely orderings (Mann & Whitney 1947).
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


def _u_counts(na: int, nb: int) -> list[int]:
    """counts[u] = orderings of na a's and nb b's with U_b = u pairs (b after a), no ties."""
    # f(i, j) = distribution of U for i a's and j b's: the last element is a b (it beats all i
    # a's: U += i) or an a (U unchanged).
    table = {(i, 0): [1] for i in range(na + 1)}
    for j in range(1, nb + 1):
        table[(0, j)] = [1]
        for i in range(1, na + 1):
            with_b, with_a = [0] * i + table[(i, j - 1)], table[(i - 1, j)]
            size = max(len(with_b), len(with_a))
            table[(i, j)] = [(with_b[u] if u < len(with_b) else 0) + (with_a[u] if u < len(with_a) else 0)
                             for u in range(size)]
    return table[(na, nb)]


def mann_whitney_exact(a, b) -> tuple[float, float]:
    """(U_b, two-sided exact p) for small samples (n_a, n_b <= 20): p = 2 P(U <= min(U_b, n_a n_b - U_b))
    under the null of no ordering, capped at 1. Ties count 1/2 in U_b (then p is approximate)."""
    a, b = _check(a, "old sample"), _check(b, "new sample")
    if max(len(a), len(b)) > 20:
        raise ValueError(f"sample: got {len(a)} and {len(b)} values; allowed: at most 20 each (exact test)")
    u_b = sum(1.0 if y > x else 0.5 if y == x else 0.0 for x in a for y in b)
    counts = _u_counts(len(a), len(b))
    tail = min(u_b, len(a) * len(b) - u_b)
    p = 2 * sum(c for u, c in enumerate(counts) if u <= tail) / math.comb(len(a) + len(b), len(a))
    return u_b, min(1.0, p)


def ratio_ci(a_groups, b_groups, level: float = 0.95, resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of median(b) / median(a) over grouped samples (one group per
    process): each resample draws groups with replacement, then values within each drawn group
    (the two-stage bootstrap of clustered data; Davison & Hinkley 1997, sec. 3.8). Deterministic."""
    import random

    rng = random.Random(seed)
    a_groups = [_check(g, "old sample") for g in a_groups]
    b_groups = [_check(g, "new sample") for g in b_groups]

    def draw(groups):
        out = []
        for _ in groups:
            g = groups[rng.randrange(len(groups))]
            out += [g[rng.randrange(len(g))] for _ in g]
        out.sort()
        n = len(out)
        return (out[(n - 1) // 2] + out[n // 2]) / 2

    ratios = sorted(draw(b_groups) / draw(a_groups) for _ in range(resamples))
    lo = ratios[int((1 - level) / 2 * resamples)]
    hi = ratios[min(resamples - 1, int((1 + level) / 2 * resamples))]
    return lo, hi


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularized incomplete beta (modified Lentz; Numerical
    Recipes, 3rd ed., sec. 6.4)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return h


def _betai(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularized incomplete beta function."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    lbt = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1) / (a + b + 2):
        return math.exp(lbt) * _betacf(a, b, x) / a
    return 1 - math.exp(lbt) * _betacf(b, a, 1 - x) / b


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` (> 0, not necessarily whole) degrees of freedom."""
    if not df > 0:
        raise ValueError(f"df: got {df!r}; allowed: a number > 0")
    if math.isinf(df):
        return 0.5 * math.erfc(t / math.sqrt(2))
    tail = 0.5 * _betai(df / 2, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1 - tail


def t_ppf(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t with ``df`` degrees of freedom (bisection on ``t_sf``)."""
    if not 0 < q < 1:
        raise ValueError(f"q: got {q!r}; allowed: a probability > 0 and < 1")
    if q < 0.5:
        return -t_ppf(1 - q, df)
    lo, hi = 0.0, 1.0
    while t_sf(hi, df) > 1 - q:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        if t_sf(mid, df) > 1 - q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def satterthwaite(parts) -> float:
    """Welch-Satterthwaite degrees of freedom of a sum of variance estimates [(v_i, df_i), ...]:
    (sum v)^2 / sum(v_i^2 / df_i); parts with v = 0 drop out; inf when every part is known."""
    parts = [(v, d) for v, d in parts if v > 0]
    den = sum(v * v / d for v, d in parts if math.isfinite(d))
    if not parts or den == 0:
        return math.inf
    return sum(v for v, _ in parts) ** 2 / den
