"""NPS and its uncertainty: pure functions over segment counts (or summed weights).

The interval is the adjusted-Wald interval for a difference of two proportions from one
multinomial sample (Rocks, 2016): add 3 to n and 3/4 to the promoter and detractor counts,

    n' = n + 3,  p' = (P + 3/4) / n',  d' = (D + 3/4) / n',  nps' = p' - d'
    var = (p' + d' - nps'^2) / n'
    margin_of_error = z * sqrt(var) * 100,   CI = nps' * 100 +/- margin (clipped to [-100, 100])

with z = 1.96 for 95%. The adjustment keeps the interval honest for tiny samples, including 0
and 1 answers and all-promoter samples where the plain Wald interval collapses to zero width.
Weighted NPS uses the Kish effective sample size n_eff = (sum w)^2 / sum w^2 in place of n.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054
LOW_SAMPLE = 30


@dataclass(frozen=True)
class NpsEstimate:
    responses: float
    promoters: float
    passives: float
    detractors: float
    nps: float | None
    margin_of_error: float
    ci_low: float
    ci_high: float
    low_sample: bool
    # The adjusted proportions and effective n, kept to compare two estimates.
    adjusted_nps: float
    variance: float

    def percentages(self) -> dict[str, float | None]:
        if self.responses <= 0:
            return {"promoters_pct": None, "passives_pct": None, "detractors_pct": None}
        return {
            "promoters_pct": round(100.0 * self.promoters / self.responses, 2),
            "passives_pct": round(100.0 * self.passives / self.responses, 2),
            "detractors_pct": round(100.0 * self.detractors / self.responses, 2),
        }


def nps_estimate(
    promoters: float,
    passives: float,
    detractors: float,
    *,
    effective_n: float | None = None,
    z: float = Z95,
) -> NpsEstimate:
    """NPS (-100..100) with its adjusted-Wald interval.

    Counts may be summed weights; then `effective_n` (Kish) sets the sample size and the
    proportions come from the weights.
    """
    total = promoters + passives + detractors
    n = total if effective_n is None else effective_n
    if total > 0:
        p_share, d_share = promoters / total, detractors / total
        nps: float | None = 100.0 * (p_share - d_share)
    else:
        p_share = d_share = 0.0
        nps = None
    n_adj = n + 3.0
    p_adj = (p_share * n + 0.75) / n_adj
    d_adj = (d_share * n + 0.75) / n_adj
    nps_adj = p_adj - d_adj
    variance = max(p_adj + d_adj - nps_adj**2, 0.0) / n_adj
    margin = 100.0 * z * math.sqrt(variance)
    centre = 100.0 * nps_adj
    return NpsEstimate(
        responses=total,
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        nps=None if nps is None else round(nps, 2),
        margin_of_error=round(margin, 2),
        ci_low=round(max(-100.0, centre - margin), 2),
        ci_high=round(min(100.0, centre + margin), 2),
        low_sample=n < LOW_SAMPLE,
        adjusted_nps=nps_adj,
        variance=variance,
    )


@dataclass(frozen=True)
class Change:
    change: float | None
    ci_low: float | None
    ci_high: float | None
    significant: bool


def nps_change(before: NpsEstimate, after: NpsEstimate, *, z: float = Z95) -> Change:
    """Change between two independent samples (e.g. two quarters), with a 95% test.

    The difference of the two adjusted NPS values has variance var_before + var_after; the
    change is significant when its interval excludes zero.
    """
    if before.nps is None or after.nps is None:
        return Change(None, None, None, False)
    diff_adj = after.adjusted_nps - before.adjusted_nps
    se = math.sqrt(before.variance + after.variance)
    low = 100.0 * (diff_adj - z * se)
    high = 100.0 * (diff_adj + z * se)
    return Change(
        change=round(after.nps - before.nps, 2),
        ci_low=round(low, 2),
        ci_high=round(high, 2),
        significant=low > 0 or high < 0,
    )


def effective_sample_size(sum_w: float, sum_w2: float) -> float:
    """Kish's effective n; 0 when there is no weight."""
    if sum_w2 <= 0:
        return 0.0
    return sum_w * sum_w / sum_w2
