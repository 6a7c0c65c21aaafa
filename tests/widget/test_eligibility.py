"""The pure eligibility rules: every reason, its order, its `until`, sampling and forcing."""

from datetime import datetime, timedelta

import pytest

from surveys.widget.eligibility import (
    Decision,
    History,
    SurveyRules,
    decide,
    first_shown,
    sample_value,
    window_index,
)

NOW = datetime(2026, 5, 15, 12, 0)
OLD = NOW - timedelta(days=365)


def rules(**changes) -> SurveyRules:
    base = {"survey_id": 1, "active": True, "channels": ("email", "widget")}
    return SurveyRules(**{**base, **changes})


def history(**changes) -> History:
    return History(**{"person_key": "7", "customer_since": OLD, **changes})


def check(r=None, h=None, throttle_days=30, **kwargs) -> Decision:
    return decide(r or rules(), h or history(), throttle_days=throttle_days, now=NOW, **kwargs)


def test_eligible_by_default():
    assert check() == Decision(True, "eligible")


def test_inactive_and_channel():
    assert check(rules(active=False)).reason == "survey_inactive"
    assert check(rules(channels=("email",))).reason == "no_widget_channel"
    # Forcing never opens a closed survey or another channel.
    assert check(rules(active=False), force=True).reason == "survey_inactive"


@pytest.mark.parametrize(("age_days", "shown"), [(29, False), (30, True), (400, True)])
def test_min_age(age_days, shown):
    d = check(h=history(customer_since=NOW - timedelta(days=age_days)))
    assert d.show is shown
    if not shown:
        assert d.reason == "too_new"
        assert d.until == NOW - timedelta(days=age_days) + timedelta(days=30)


def test_min_age_zero_and_unknown_age():
    assert check(rules(min_age_days=0), history(customer_since=None)).show
    d = check(h=history(customer_since=None))
    assert d.reason == "too_new" and d.until == NOW + timedelta(days=30)


def test_cadence():
    d = check(h=history(last_answer_at=NOW - timedelta(days=89)))
    assert (d.show, d.reason, d.until) == (False, "answered_recently", NOW + timedelta(days=1))
    assert check(h=history(last_answer_at=NOW - timedelta(days=90))).show
    assert check(rules(cadence_days=30), history(last_answer_at=NOW - timedelta(days=31))).show


def test_answered_recently_beats_force_and_resume():
    h = history(last_answer_at=NOW - timedelta(days=1), open_display_at=NOW - timedelta(hours=1))
    assert check(h=h, force=True).reason == "answered_recently"


def test_dismissal_backoff():
    d = check(h=history(last_dismissal_at=NOW - timedelta(days=10)))
    assert (d.reason, d.until) == ("dismissed_recently", NOW + timedelta(days=20))
    assert check(
        rules(dismiss_backoff_days=7), history(last_dismissal_at=NOW - timedelta(days=8))
    ).show


def test_fatigue_guard_shared_with_email():
    h = history(last_contact_at=NOW - timedelta(days=3))
    d = check(h=h)
    assert (d.reason, d.until) == ("throttled", NOW + timedelta(days=27))
    assert check(h=h, throttle_days=0).show
    assert check(h=h, throttle_days=2).show


def test_open_display_resumes_within_a_day():
    h = history(open_display_at=NOW - timedelta(hours=2), last_contact_at=NOW - timedelta(hours=2))
    d = check(h=h)
    assert (d.show, d.reason, d.resume) == (True, "resumed", True)
    stale = history(
        open_display_at=NOW - timedelta(days=2), last_contact_at=NOW - timedelta(days=2)
    )
    assert check(h=stale).reason == "throttled"


def test_force_skips_fatigue_rules():
    h = history(
        customer_since=NOW,
        last_dismissal_at=NOW - timedelta(days=1),
        last_contact_at=NOW - timedelta(days=1),
    )
    assert check(rules(sample_rate=0.0), h, force=True) == Decision(True, "forced")


def test_sampling_is_stable_per_person_and_window():
    values = [sample_value(1, str(key), 5) for key in range(2000)]
    assert all(0 <= v < 1 for v in values)
    assert 0.45 < sum(v < 0.5 for v in values) / len(values) < 0.55
    assert sample_value(1, "7", 5) == sample_value(1, "7", 5)
    assert sample_value(1, "7", 5) != sample_value(1, "7", 6)
    assert sample_value(1, "7", 5) != sample_value(2, "7", 5)
    assert check(rules(sample_rate=0.0)).reason == "sampled_out"
    assert check(rules(sample_rate=1.0)).show
    # Within one cadence window the answer never changes, whatever the day.
    r = rules(sample_rate=0.5)
    start = datetime(1970, 1, 1) + timedelta(days=window_index(NOW, 90) * 90)
    answers = {
        decide(r, history(), throttle_days=0, now=start + timedelta(days=day)).show
        for day in range(0, 90, 7)
    }
    assert len(answers) == 1


def test_sampled_out_until_next_window():
    d = check(rules(sample_rate=0.0))
    assert d.until is not None and d.until > NOW
    assert window_index(d.until, 90) == window_index(NOW, 90) + 1


def test_daily_cap():
    d = check(rules(daily_response_cap=10), history(responses_today=10))
    assert (d.reason, d.until) == ("daily_cap", datetime(2026, 5, 16))
    assert check(rules(daily_response_cap=10), history(responses_today=9)).show
    assert check(rules(daily_response_cap=None), history(responses_today=10**6)).show


def test_reason_order():
    everything = history(
        customer_since=NOW,
        last_dismissal_at=NOW - timedelta(days=1),
        last_contact_at=NOW - timedelta(days=1),
        responses_today=99,
    )
    r = rules(sample_rate=0.0, daily_response_cap=1)
    assert check(r, everything).reason == "too_new"
    assert check(r, history(last_dismissal_at=NOW, last_contact_at=NOW)).reason == (
        "dismissed_recently"
    )
    assert check(r, history(last_contact_at=NOW)).reason == "throttled"
    assert check(r, history(responses_today=99)).reason == "sampled_out"


def test_recheck_is_at_most_a_day():
    assert Decision(False, "x", None).recheck_seconds(NOW) == 86400
    assert Decision(False, "x", NOW + timedelta(days=9)).recheck_seconds(NOW) == 86400
    assert Decision(False, "x", NOW + timedelta(hours=2)).recheck_seconds(NOW) == 7200
    assert Decision(False, "x", NOW + timedelta(seconds=5)).recheck_seconds(NOW) == 60


def test_first_shown():
    assert first_shown([Decision(False, "a"), Decision(True, "b")]) == 1
    assert first_shown([Decision(False, "a")]) is None
