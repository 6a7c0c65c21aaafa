"""Pure scheduling rules: cadence, fatigue guard, stable sampling, spread, send window, reasons."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from surveys.email.scheduling import (
    Facts,
    Reason,
    Rules,
    add_working_days,
    decide,
    decide_reminder,
    working_days,
)

NOW = datetime(2026, 3, 2, 10, 0)  # Monday
ANY_TIME = Rules(survey_id=1, spread_days=0, send_window=None)


def facts(pid: int = 1, **kw) -> Facts:
    kw.setdefault("added_at", datetime(2025, 1, 1))
    return Facts(person_id=pid, has_email=kw.pop("has_email", True), **kw)


def test_first_invitation_waits_for_first_delay_after_created_at():
    rules = Rules(survey_id=1, first_delay_days=14, spread_days=0, send_window=None)
    person = facts(created_at=NOW - timedelta(days=10), added_at=NOW - timedelta(days=10))
    decision = decide(rules, person, NOW)
    assert (decision.due, decision.reason) == (False, Reason.NOT_DUE)
    assert decision.at == NOW + timedelta(days=4)
    assert decide(rules, person, NOW + timedelta(days=4)).due


def test_first_invitation_not_before_the_person_was_added():
    person = facts(created_at=datetime(2020, 1, 1), added_at=NOW + timedelta(hours=1))
    assert decide(ANY_TIME, person, NOW).reason == Reason.NOT_DUE
    assert decide(ANY_TIME, person, NOW + timedelta(hours=1)).due


def test_cadence_counts_from_last_invitation_or_last_answer_on_any_channel():
    invited = facts(last_invited_at=NOW - timedelta(days=89))
    assert decide(ANY_TIME, invited, NOW).at == NOW + timedelta(days=1)
    answered_in_widget = facts(
        last_invited_at=NOW - timedelta(days=100), last_answered_at=NOW - timedelta(days=20)
    )
    decision = decide(ANY_TIME, answered_in_widget, NOW)
    assert decision.reason == Reason.NOT_DUE and decision.at == NOW + timedelta(days=70)
    assert decide(ANY_TIME, facts(last_invited_at=NOW - timedelta(days=90)), NOW).due


def test_fatigue_guard_across_surveys_and_channels():
    rules = Rules(survey_id=1, spread_days=0, send_window=None, throttle_days=30)
    shown = facts(last_contact_at=NOW - timedelta(days=10))
    decision = decide(rules, shown, NOW)
    assert decision.reason == Reason.THROTTLED and decision.at == NOW + timedelta(days=20)
    assert decide(rules, facts(last_contact_at=NOW - timedelta(days=30)), NOW).due


def test_blocked_reasons_come_first():
    assert decide(ANY_TIME, facts(unsubscribed=True, bounced=True), NOW).reason == "unsubscribed"
    assert decide(ANY_TIME, facts(bounced=True), NOW).reason == Reason.BOUNCED
    assert decide(ANY_TIME, facts(has_email=False), NOW).reason == Reason.NO_EMAIL
    assert decide(ANY_TIME, facts(has_email=False), NOW).at is None


def test_sampling_is_stable_per_person_and_window_and_near_the_rate():
    rules = Rules(survey_id=7, sample_rate=0.3, spread_days=0, send_window=None)
    people = [facts(pid) for pid in range(4000)]
    first = [decide(rules, p, NOW).due for p in people]
    again = [decide(rules, p, NOW + timedelta(days=3)).due for p in people]
    assert first == again
    assert 0.27 < sum(first) / len(first) < 0.33
    # A new cadence window is a new draw: others get their turn.
    next_window = [decide(rules, p, NOW + timedelta(days=90)).due for p in people]
    assert next_window != first
    sampled_out = next(p for p, due in zip(people, first, strict=True) if not due)
    decision = decide(rules, sampled_out, NOW)
    assert decision.reason == Reason.SAMPLED_OUT and decision.at > NOW


def test_spread_over_the_working_days_of_the_cadence_inside_the_send_window():
    rules = Rules(survey_id=1, cadence_days=28)  # default spread, 09:00-17:00 UTC
    base = datetime(2026, 3, 2, 0, 0)  # Monday: 20 working days in 28
    people = [facts(pid, added_at=base, created_at=base) for pid in range(2000)]
    slots = [decide(rules, p, base).at for p in people]
    assert all(s >= base for s in slots)
    assert all(s < base + timedelta(days=28) for s in slots)
    assert all(s.weekday() < 5 and time(9) <= s.time() < time(17) for s in slots)
    per_day = Counter(s.date() for s in slots)
    assert len(per_day) == 20
    assert max(per_day.values()) < 2 * min(per_day.values())


def test_spread_zero_sends_the_whole_wave_at_once():
    rules = Rules(survey_id=1, spread_days=0)
    people = [facts(pid, added_at=NOW, created_at=NOW) for pid in range(50)]
    assert {decide(rules, p, NOW).at for p in people} == {NOW}
    assert all(decide(rules, p, NOW).due for p in people)


def test_explicit_spread_days():
    rules = Rules(survey_id=1, spread_days=5, send_window=None)
    base = datetime(2026, 3, 6, 0, 0)  # Friday
    slots = {decide(rules, facts(pid, added_at=base), base).at.date() for pid in range(500)}
    # Friday, then Monday to Thursday: five working days, no weekend.
    assert sorted(slots) == [datetime(2026, 3, d).date() for d in (6, 9, 10, 11, 12)]


def test_send_window_uses_the_persons_zone_else_the_projects():
    rules = Rules(survey_id=1, spread_days=0, project_zone="Europe/Berlin")
    at_night = datetime(2026, 3, 2, 22, 30)  # 23:30 in Berlin, 07:30 in Tokyo
    berlin = decide(rules, facts(), at_night)
    assert berlin.due
    local = berlin.at.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.date().day, local.time()) == (3, time(9, 0))
    tokyo = decide(rules, facts(time_zone="Asia/Tokyo"), at_night)
    local = tokyo.at.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Tokyo"))
    assert (local.date().day, local.time()) == (3, time(9, 0))
    assert tokyo.at < berlin.at
    anytime = Rules(survey_id=1, spread_days=0, send_window=None)
    assert decide(anytime, facts(), at_night).at == at_night


def test_reminder_rules():
    rules = Rules(survey_id=1, reminder_after_days=5, send_window=None)
    sent = NOW - timedelta(days=5)
    assert decide_reminder(rules, facts(), sent, False, NOW) == NOW
    assert decide_reminder(rules, facts(), sent, True, NOW) is None
    assert decide_reminder(rules, facts(unsubscribed=True), sent, False, NOW) is None
    assert decide_reminder(rules, facts(), NOW - timedelta(days=4), False, NOW) is None
    assert decide_reminder(Rules(survey_id=1), facts(), sent, False, NOW) is None


def test_working_day_arithmetic():
    saturday = datetime(2026, 3, 7).date()
    assert add_working_days(saturday, 0) == datetime(2026, 3, 9).date()
    assert add_working_days(saturday, 5) == datetime(2026, 3, 16).date()
    assert working_days(datetime(2026, 3, 2).date(), 90) == 65
    assert working_days(saturday, 2) == 0
