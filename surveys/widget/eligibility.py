"""Widget eligibility: the pure rules that decide whether a person sees a survey now, and why not.

Everything the rules need is passed in (the survey's settings, the person's history, `now`), so
they are tested without an app or a database. `surveys.widget.visits` gathers the history with SQL.

The values are NamedTuples: as immutable as frozen dataclasses, and several times cheaper to
build, which counts on the widget's hot path (a few of them per page view).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import NamedTuple

EPOCH = datetime(1970, 1, 1)
# A widget that was shown but neither answered nor dismissed (the person navigated away) is shown
# again on the next page view for this long instead of counting as a spent contact.
RESUME_WINDOW = timedelta(hours=24)
DAY = timedelta(days=1)


class SurveyRules(NamedTuple):
    survey_id: int
    active: bool
    channels: tuple[str, ...]
    min_age_days: int = 30
    cadence_days: int = 90
    dismiss_backoff_days: int = 30
    sample_rate: float = 1.0
    daily_response_cap: int | None = None


class History(NamedTuple):
    """What the rules know about one person; every time is naive UTC or None."""

    person_key: str
    customer_since: datetime | None = None
    last_answer_at: datetime | None = None  # last scored answer to this survey, any channel
    last_dismissal_at: datetime | None = None  # last widget dismissal of this survey
    last_contact_at: datetime | None = None  # last email sent, widget shown or answer, any survey
    open_display_at: datetime | None = None  # latest display of this survey still unresolved
    responses_today: int = 0  # widget answers to this survey since 00:00 UTC, all people


class Decision(NamedTuple):
    show: bool
    reason: str
    # When the answer may change; None when only a change of settings can change it.
    until: datetime | None = None
    resume: bool = False

    def recheck_seconds(self, now: datetime, cap: timedelta = DAY) -> int:
        """How long a client may cache a "no" before asking again: at most a day."""
        if self.until is None:
            return int(cap.total_seconds())
        wait = min(self.until - now, cap)
        return max(60, int(wait.total_seconds()))


def window_index(now: datetime, cadence_days: int) -> int:
    """The number of the cadence window `now` falls in, counted from the epoch."""
    return (now - EPOCH).days // max(1, cadence_days)


def sample_value(survey_id: int, person_key: str, window: int) -> float:
    """A number in [0, 1) that is the same for a person all through one cadence window."""
    seed = f"{survey_id}:{person_key}:{window}".encode()
    return int.from_bytes(hashlib.sha256(seed).digest()[:8], "big") / 2**64


def _after(moment: datetime | None, days: int, now: datetime) -> datetime | None:
    """The end of a `days` backoff starting at `moment`, when it is still in the future."""
    if moment is None or days <= 0:
        return None
    end = moment + timedelta(days=days)
    return end if end > now else None


def decide(
    rules: SurveyRules,
    history: History,
    *,
    throttle_days: int,
    now: datetime,
    force: bool = False,
) -> Decision:
    """Decide one survey for one person. `force` (testing) skips every rule that protects the
    person from fatigue, but never the survey's own state nor "answered this cadence"."""
    if not rules.active:
        return Decision(False, "survey_inactive")
    if "widget" not in rules.channels:
        return Decision(False, "no_widget_channel")
    until = _after(history.last_answer_at, rules.cadence_days, now)
    if until:
        return Decision(False, "answered_recently", until)
    if history.open_display_at is not None and now - history.open_display_at < RESUME_WINDOW:
        return Decision(True, "resumed", resume=True)
    if force:
        return Decision(True, "forced")
    if rules.min_age_days > 0:
        if history.customer_since is None:
            return Decision(False, "too_new", now + timedelta(days=rules.min_age_days))
        until = _after(history.customer_since, rules.min_age_days, now)
        if until:
            return Decision(False, "too_new", until)
    until = _after(history.last_dismissal_at, rules.dismiss_backoff_days, now)
    if until:
        return Decision(False, "dismissed_recently", until)
    until = _after(history.last_contact_at, throttle_days, now)
    if until:
        return Decision(False, "throttled", until)
    window = window_index(now, rules.cadence_days)
    if sample_value(rules.survey_id, history.person_key, window) >= rules.sample_rate:
        next_window = EPOCH + timedelta(days=(window + 1) * max(1, rules.cadence_days))
        return Decision(False, "sampled_out", next_window)
    if rules.daily_response_cap is not None and history.responses_today >= rules.daily_response_cap:
        tomorrow = datetime(now.year, now.month, now.day) + DAY
        return Decision(False, "daily_cap", tomorrow)
    return Decision(True, "eligible")


def first_shown(decisions: list[Decision]) -> int | None:
    """Index of the first decision that shows a survey, if any."""
    for index, decision in enumerate(decisions):
        if decision.show:
            return index
    return None
