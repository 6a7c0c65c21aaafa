"""Recovery of last period's detractors, followed up beside not, against hand-computed values."""

from __future__ import annotations

import math

import pytest

from surveys.loop.recovery import group_recovery, wilson_share
from tests.loop.triage.conftest import answer

T975_DF1 = 12.706204736174698  # Student's t, 97.5% quantile, one degree of freedom
Z = 1.959963984540054


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval written out by hand."""
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


def test_wilson_share_by_hand():
    s = wilson_share(2, 3)
    low, high = wilson(2, 3)
    assert (s.count, s.of, s.share) == (2, 3, 0.6667)
    assert s.ci_low == pytest.approx(low, abs=1e-4) and s.ci_high == pytest.approx(high, abs=1e-4)
    assert s.ci_low == pytest.approx(0.2077, abs=1e-4) and s.ci_high == pytest.approx(
        0.9385, abs=1e-4
    )
    assert wilson_share(0, 0).share is None
    assert wilson_share(0, 5).ci_low == 0.0


def test_group_of_ten_by_hand():
    # 10 detractors; 6 answered again: 3 promoters (d=2), 2 passives (d=1), 1 detractor (d=0).
    g = group_recovery(10, 3, 2, 1)
    assert g.answered_next.count == 6 and g.answered_next.share == 0.6
    # mean d = 8/6; change = 133.33; s_d^2 = (sum d^2 - n mean^2)/(n-1) = (14 - 6*16/9)/5
    mean = 8 / 6
    var = (14 - 6 * mean * mean) / 5
    margin = 100 * 2.570581835636314 * math.sqrt(var / 6)  # t(0.975, 5)
    assert g.change.n == 6 and g.change.nps_from == -100.0 and g.change.nps_to == 33.33
    assert g.change.change == 133.33
    assert g.change.margin_of_error == pytest.approx(margin, abs=0.01)
    assert g.change.significant is (133.33 - margin > 0)


def test_recovery_api_by_hand(api, survey_id, ana):
    def q1(who, score, day=10):
        return answer(api, survey_id, who, score, when=f"2026-02-{day:02d}T10:00:00Z")

    def q2(who, score):
        return answer(api, survey_id, who, score, when="2026-05-10T10:00:00Z")

    def follow(response, **body):
        r = api.patch(f"/api/v1/responses/{response['id']}/follow-up", json=body)
        assert r.status_code == 200, r.json

    resolved = {"status": "resolved", "reason": "called back"}
    d1, d2, d3 = q1("d1", 3), q1("d2", 5), q1("d3", 0)
    d4, d5, d6 = q1("d4", 6), q1("d5", 2), q1("d6", 4)
    q1("p1", 9)
    x = q1("x", 2, day=1)
    q1("x", 9, day=20)  # x's counted answer in Q1 is a promoter: not one of the detractors
    for d in (d1, d2, d3, x):
        follow(d, **resolved)
    follow(d4, status="contacted")  # not resolved: counts as not followed up
    q2("d1", 10), q2("d2", 8), q2("d4", 5), q2("d5", 9), q2("p1", 3), q2("x", 0)
    _ = (d5, d6)
    r = api.get(f"/api/v1/metrics/recovery?survey_id={survey_id}&from=2026-Q1")
    assert r.status_code == 200, r.json
    body = r.json
    assert body["from"]["key"] == "2026-Q1" and body["to"]["key"] == "2026-Q2"
    f, n = body["followed_up"], body["not_followed_up"]
    low, high = wilson(2, 3)
    for g in (f, n):
        assert g["detractors"] == 3
        assert g["answered_next"]["count"] == 2 and g["answered_next"]["of"] == 3
        assert g["answered_next"]["ci_low"] == pytest.approx(low, abs=1e-4)
        assert g["answered_next"]["ci_high"] == pytest.approx(high, abs=1e-4)
    # Followed up: d = [2, 1]; mean 1.5; s_d^2 = (5 - 2 * 2.25) / 1 = 0.5.
    assert (f["promoters_next"], f["passives_next"], f["detractors_next"]) == (1, 1, 0)
    fc = f["change"]
    assert (fc["n"], fc["nps_from"], fc["nps_to"], fc["change"]) == (2, -100.0, 50.0, 150.0)
    margin = 100 * T975_DF1 * math.sqrt(0.5 / 2)
    assert fc["margin_of_error"] == pytest.approx(margin, abs=0.01)
    assert fc["ci_low"] == pytest.approx(150 - margin, abs=0.01)
    # Not followed up: d = [0, 2]; mean 1; s_d^2 = (4 - 2) / 1 = 2.
    assert (n["promoters_next"], n["passives_next"], n["detractors_next"]) == (1, 0, 1)
    nc = n["change"]
    assert (nc["n"], nc["nps_to"], nc["change"]) == (2, 0.0, 100.0)
    assert nc["margin_of_error"] == pytest.approx(100 * T975_DF1, abs=0.01)
    assert nc["significant"] is False


def test_recovery_errors(api, other_api, survey_id):
    base = "/api/v1/metrics/recovery"
    assert other_api.get(f"{base}?survey_id={survey_id}").status_code == 404
    assert api.get(f"{base}?survey_id={survey_id}&from=2026-Q9").status_code == 422
    assert api.get(f"{base}?survey_id={survey_id}&period=week").status_code == 422
    assert api.get(base).status_code == 422
    empty = api.get(f"{base}?survey_id={survey_id}&period=month&from=2026-03").json
    assert empty["to"]["key"] == "2026-04"
    assert empty["followed_up"]["answered_next"]["share"] is None
    assert empty["followed_up"]["change"]["n"] == 0
