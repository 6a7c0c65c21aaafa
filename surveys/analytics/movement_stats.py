"""Paired NPS change of repeat respondents: the mean per-person difference with a t interval.

Each person who answered in both periods contributes one pair. With p and d their promoter and
detractor indicators (1 or 0),

    d_i = (p_B - d_B) - (p_A - d_A)          in {-2, -1, 0, 1, 2}
    change = 100 * mean(d)                    = NPS_B - NPS_A over the same people
    s_d^2  = (sum d^2 - n * mean(d)^2) / (n - 1)
    CI     = 100 * (mean(d) +/- t(0.975, n - 1) * s_d / sqrt(n))

A paired interval is narrower than one from two independent samples because a person's two
answers are correlated. Under two pairs there is no interval; the change is then never
significant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from surveys.analytics.statistics import LOW_SAMPLE, Z95

# Student's t, 97.5% quantile, for 1..30 degrees of freedom (scipy.stats.t.ppf, 6 decimals).
_T975 = (
    12.706205,
    4.302653,
    3.182446,
    2.776445,
    2.570582,
    2.446912,
    2.364624,
    2.306004,
    2.262157,
    2.228139,
    2.200985,
    2.178813,
    2.160369,
    2.144787,
    2.13145,
    2.119905,
    2.109816,
    2.100922,
    2.093024,
    2.085963,
    2.079614,
    2.073873,
    2.068658,
    2.063899,
    2.059539,
    2.055529,
    2.051831,
    2.048407,
    2.04523,
    2.042272,
)


def t975(df: int) -> float:
    """The 97.5% quantile of Student's t with `df` degrees of freedom (df >= 1).

    A table up to 30; beyond it the Cornish-Fisher expansion around z (Abramowitz & Stegun
    26.7.5), which agrees with the exact value to 1e-6 there.
    """
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if df <= len(_T975):
        return _T975[df - 1]
    z = Z95
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


@dataclass(frozen=True)
class PairedChange:
    n: int
    nps_from: float | None
    nps_to: float | None
    change: float | None
    margin_of_error: float | None
    ci_low: float | None
    ci_high: float | None
    significant: bool
    low_sample: bool


def paired_nps_change(
    n: int, net_from: int, net_to: int, sum_d2: int, *, quantile: float | None = None
) -> PairedChange:
    """NPS in A and B of the same n people, and the paired change with its 95% interval.

    `net_from` = promoters - detractors in A, `net_to` the same in B (so sum d = net_to -
    net_from) and `sum_d2` = sum of d_i squared. `quantile` overrides t(0.975, n - 1).
    """
    if n <= 0:
        return PairedChange(0, None, None, None, None, None, None, False, True)
    mean = (net_to - net_from) / n
    nps_from = round(100.0 * net_from / n, 2)
    nps_to = round(100.0 * net_to / n, 2)
    change = round(100.0 * mean, 2)
    if n < 2:
        return PairedChange(n, nps_from, nps_to, change, None, None, None, False, True)
    variance = max(sum_d2 - n * mean * mean, 0.0) / (n - 1)
    t = quantile if quantile is not None else t975(n - 1)
    margin = 100.0 * t * math.sqrt(variance / n)
    low, high = 100.0 * mean - margin, 100.0 * mean + margin
    return PairedChange(
        n=n,
        nps_from=nps_from,
        nps_to=nps_to,
        change=change,
        margin_of_error=round(margin, 2),
        ci_low=round(low, 2),
        ci_high=round(high, 2),
        significant=low > 0 or high < 0,
        low_sample=n < LOW_SAMPLE,
    )
