"""NPS and adjusted-Wald intervals against values computed by hand.

Hand computation for 5 promoters, 3 passives, 2 detractors: n' = 13, p' = 5.75/13 = 0.44231,
d' = 2.75/13 = 0.21154, nps' = 0.23077, var = (0.65385 - 0.05325)/13 = 0.046199,
margin = 1.96 * 0.21494 * 100 = 42.13, CI = 23.08 +/- 42.13 = [-19.05, 65.20].
"""

import pytest

from surveys.analytics.statistics import effective_sample_size, nps_change, nps_estimate


def test_mixed_sample():
    e = nps_estimate(5, 3, 2)
    assert e.nps == 30.0
    assert e.margin_of_error == 42.13
    assert (e.ci_low, e.ci_high) == (-19.05, 65.2)
    assert e.low_sample
    assert e.percentages() == {"promoters_pct": 50.0, "passives_pct": 30.0, "detractors_pct": 20.0}


def test_no_answers_has_no_nps_but_a_full_width_interval():
    # n' = 3, p' = d' = 0.25: var = 0.5/3, margin = 1.96 * 0.40825 * 100 = 80.02
    e = nps_estimate(0, 0, 0)
    assert e.nps is None
    assert e.margin_of_error == 80.02
    assert e.percentages()["promoters_pct"] is None


def test_one_promoter():
    # n' = 4, p' = 0.4375, d' = 0.1875: var = (0.625 - 0.0625)/4, margin = 1.96 * 0.375 = 73.50
    e = nps_estimate(1, 0, 0)
    assert e.nps == 100.0
    assert e.margin_of_error == 73.5
    assert (e.ci_low, e.ci_high) == (-48.5, 98.5)


def test_one_detractor_mirrors_one_promoter():
    e = nps_estimate(0, 0, 1)
    assert e.nps == -100.0
    assert (e.ci_low, e.ci_high) == (-98.5, 48.5)


def test_all_promoters_keeps_a_nonzero_margin_and_clips_at_100():
    # n' = 103, p' = 100.75/103, d' = 0.75/103: margin = 4.00, upper bound clipped to 100
    e = nps_estimate(100, 0, 0)
    assert e.nps == 100.0
    assert e.margin_of_error == 4.0
    assert e.ci_low == 93.09
    assert e.ci_high == 100.0
    assert not e.low_sample


def test_low_sample_threshold():
    assert nps_estimate(10, 10, 9).low_sample
    assert not nps_estimate(10, 10, 10).low_sample


def test_change_between_independent_periods():
    # a: var = 0.597087/103 = 0.0057970; b: nps' = 0.485437, var = 0.0044517;
    # se = sqrt(0.0102487) = 0.101236; CI = 48.54 +/- 19.84 = [28.70, 68.39]
    ch = nps_change(nps_estimate(30, 40, 30), nps_estimate(60, 30, 10))
    assert ch.change == 50.0
    assert (ch.ci_low, ch.ci_high) == (28.7, 68.39)
    assert ch.significant


def test_small_change_is_not_significant():
    ch = nps_change(nps_estimate(5, 3, 2), nps_estimate(6, 2, 2))
    assert ch.change == 10.0
    assert not ch.significant


def test_change_with_an_empty_period_is_none():
    ch = nps_change(nps_estimate(0, 0, 0), nps_estimate(1, 0, 0))
    assert ch.change is None and not ch.significant


def test_weighted_uses_kish_effective_n():
    # weights 100 (promoter) and 50 (detractor): n_eff = 150^2 / (100^2 + 50^2) = 1.8
    n_eff = effective_sample_size(150, 100**2 + 50**2)
    assert n_eff == pytest.approx(1.8)
    e = nps_estimate(100.0, 0.0, 50.0, effective_n=n_eff)
    assert e.nps == 33.33
    assert e.low_sample
    assert effective_sample_size(0, 0) == 0.0
