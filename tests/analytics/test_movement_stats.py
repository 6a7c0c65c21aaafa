"""The paired change, the t quantile and the report arithmetic, without a database."""

import math

import pytest
from scipy.stats import t as student_t

from surveys.analytics.movement_report import Cell, pair_report
from surveys.analytics.movement_stats import paired_nps_change, t975


@pytest.mark.parametrize("df", [1, 2, 5, 9, 29, 30, 31, 45, 100, 1000, 250000])
def test_t_quantile_matches_scipy(df):
    assert t975(df) == pytest.approx(float(student_t.ppf(0.975, df)), abs=2e-6)


def test_t_quantile_needs_a_degree_of_freedom():
    with pytest.raises(ValueError):
        t975(0)


def test_paired_change_by_hand():
    # n = 10, net A = 0, net B = 8, sum d^2 = 22 (see test_movement_api).
    c = paired_nps_change(10, 0, 8, 22)
    assert (c.nps_from, c.nps_to, c.change) == (0.0, 80.0, 80.0)
    se = math.sqrt((22 - 10 * 0.8**2) / 9 / 10)
    assert c.margin_of_error == round(100 * 2.262157 * se, 2) == 94.18
    assert (c.ci_low, c.ci_high, c.significant, c.low_sample) == (-14.18, 174.18, False, True)


def test_paired_change_small_samples():
    assert paired_nps_change(0, 0, 0, 0).change is None
    one = paired_nps_change(1, -1, 1, 4)
    assert (one.change, one.ci_low, one.significant) == (200.0, None, False)


def test_report_of_one_cell_each():
    report = pair_report(
        {(2, 0): Cell(3), (None, 1): Cell(2), (0, None): Cell(1)},
        {(2, 0): Cell(2, 12.5), (None, 0): Cell(1, 4.0)},
    )
    assert report["matrix"]["promoter"]["detractor"] == {"count": 3, "pct": 100.0}
    assert report["new"]["passive"] == 2 and report["lapsed"]["detractor"] == 1
    assert report["totals"]["moved_down"] == 3 and report["moved_down_pct"] == 100.0
    risk = report["weighted"]["revenue_at_risk"]
    assert risk == {"moved_down": 12.5, "detractors": 16.5, "total": 16.5}
