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

from scipy.stats import t as student_t

from surveys.analytics.statistics import LOW_SAMPLE


def t975(df: int) -> float:
    """The 97.5% quantile of Student's t with `df` degrees of freedom (df >= 1)."""
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    return float(student_t.ppf(0.975, df))


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
