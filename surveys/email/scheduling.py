"""Email scheduling rules, pure: who is due when, or why not (cadence, fatigue, sample, spread).

Everything here takes `now` and plain facts; nothing reads the database or the clock, so the
rules are tested without an app and the scheduler can decide for 100,000 people in one pass.

A person's cadence windows start at a *base*: their first due time (`first_delay_days` after
`created_at`, or when they were added if later), or `cadence_days` after their last invitation
or last answer to the survey on any channel. Window k starts at base + k * cadence; the start
names the window (`window_key`), which makes creating invitations idempotent and sampling
stable: the same person, survey and window always hash to the same sample and send slot.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from surveys.memo import memo
from surveys.periods import zone

DEFAULT_WINDOW = (time(9, 0), time(17, 0))
_DAY_MINUTES = 24 * 60
_MIDNIGHT = time(0)


class Reason(StrEnum):
    """Why a person is not invited now."""

    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    NO_EMAIL = "no_email"
    THROTTLED = "throttled"
    SAMPLED_OUT = "sampled_out"
    NOT_DUE = "not_due"


@dataclass(frozen=True)
class Rules:
    """A survey's email rules plus the project settings they depend on."""

    survey_id: int
    cadence_days: int = 90
    first_delay_days: int = 0
    sample_rate: float = 1.0
    # None: the working days of the cadence window; 0: the whole wave at once.
    spread_days: int | None = None
    # Local (start, end); None: any time of day.
    send_window: tuple[time, time] | None = DEFAULT_WINDOW
    reminder_after_days: int | None = None
    throttle_days: int = 30
    project_zone: str = "UTC"


@dataclass(frozen=True)
class Facts:
    """What the scheduler knows about one person for one survey (times naive UTC)."""

    person_id: int
    has_email: bool
    added_at: datetime
    created_at: datetime | None = None
    time_zone: str | None = None
    unsubscribed: bool = False
    bounced: bool = False
    # This survey's latest invitation (kind invite) and latest answer on any channel.
    last_invited_at: datetime | None = None
    last_answered_at: datetime | None = None
    # Latest invitation or widget showing of any survey of the project: the fatigue guard.
    last_contact_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    """`due`: create an invitation for `window_key` due at `at`. Otherwise `reason` says why
    not, and `at` is the next time the person could be due (None: never, as things stand)."""

    due: bool
    at: datetime | None
    window_key: str | None
    reason: Reason | None


def parse_window(start: str | None, end: str | None) -> tuple[time, time] | None:
    """'09:00', '17:00' -> (time, time); either missing -> None (any time)."""
    if not start or not end:
        return None
    return time.fromisoformat(start), time.fromisoformat(end)


def person_zone(rules: Rules, person_zone_name: str | None) -> ZoneInfo:
    """The person's time zone when known and valid, else the project's."""
    return _zone_or(person_zone_name, rules.project_zone)


@memo(maxsize=1024)
def _zone_or(name: str | None, fallback: str) -> ZoneInfo:
    if name:
        try:
            return zone(name)
        except ValueError:
            pass
    return zone(fallback)


def stable_units(*parts: object) -> tuple[float, float]:
    """Two numbers in [0, 1) fixed by their inputs: the same person and window, the same
    draws (one decides the sample, the other the send slot)."""
    return _units(":".join(map(str, parts)))


def _units(text: str) -> tuple[float, float]:
    digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
    return int.from_bytes(digest[:8], "big") / 2**64, int.from_bytes(digest[8:], "big") / 2**64


def _to_local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(tz)


def _to_utc(local: datetime) -> datetime:
    return local.astimezone(UTC).replace(tzinfo=None)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _at_local(day: date, minute: float, tz: ZoneInfo) -> datetime:
    return _to_utc(datetime.combine(day, _MIDNIGHT, tzinfo=tz) + timedelta(minutes=minute))


# Cached: the scheduler asks this for the same `now` and a handful of zones, once per person.
@memo(maxsize=4096)
def into_window(moment: datetime, window: tuple[time, time] | None, tz: ZoneInfo) -> datetime:
    """The earliest time at or after `moment` inside the local send window."""
    if window is None:
        return moment
    local = _to_local(moment, tz)
    start, end = _minutes(window[0]), _minutes(window[1])
    now_minute = local.hour * 60 + local.minute + local.second / 60
    if now_minute < start:
        return _at_local(local.date(), start, tz)
    if now_minute >= end:
        return _at_local(local.date() + timedelta(days=1), start, tz)
    return moment


def first_working_day(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


# Cached: a wave's people share a handful of start dates, and these run once per person.
@memo(maxsize=65536)
def add_working_days(day: date, count: int) -> date:
    """The `count`-th working day (Mon–Fri) after the first working day on or after `day`."""
    day = first_working_day(day)
    weeks, rest = divmod(count, 5)
    day += timedelta(weeks=weeks)
    for _ in range(rest):
        day += timedelta(days=1)
        day = first_working_day(day)
    return day


@memo(maxsize=65536)
def working_days(start: date, days: int) -> int:
    """How many Mon–Fri days lie in [start, start + days)."""
    weeks, rest = divmod(days, 7)
    tail = start + timedelta(weeks=weeks)
    return weeks * 5 + sum((tail + timedelta(days=i)).weekday() < 5 for i in range(rest))


def send_slot(window_start: datetime, slot: float, rules: Rules, tz: ZoneInfo) -> datetime:
    """Where a person with draw `slot` in [0, 1) falls in the wave starting at `window_start`.

    The wave covers `spread_days` working days (default: those of the cadence window) and,
    on each, the local send window; slots are spread evenly over that time.
    """
    if rules.spread_days == 0:
        return into_window(window_start, rules.send_window, tz)
    local_start = _to_local(window_start, tz).date()
    days = rules.spread_days or working_days(local_start, rules.cadence_days) or 1
    position = slot * days
    index = int(position)
    day = add_working_days(local_start, index)
    if rules.send_window is None:
        first, length = 0, _DAY_MINUTES
    else:
        first = _minutes(rules.send_window[0])
        length = _minutes(rules.send_window[1]) - first
    moment = _at_local(day, first + (position - index) * length, tz)
    # The first day's slot may lie before the window opened (e.g. at 15:00 on day one).
    return moment if moment >= window_start else into_window(window_start, rules.send_window, tz)


def base_time(rules: Rules, facts: Facts) -> datetime:
    """When the person's current run of cadence windows begins."""
    invited, answered = facts.last_invited_at, facts.last_answered_at
    last = answered if invited is None else invited if answered is None else max(invited, answered)
    if last is not None:
        return last + timedelta(days=rules.cadence_days)
    customer_since = facts.created_at or facts.added_at
    return max(customer_since + timedelta(days=rules.first_delay_days), facts.added_at)


def window_key(start: datetime) -> str:
    return start.isoformat(timespec="minutes")


def _draw(rules: Rules, facts: Facts, key: str) -> tuple[bool, float]:
    """(sampled in, send slot in [0, 1)) for the window named `key`; the slot's time is
    worked out (`send_slot`) only for those sampled in."""
    sample, slot = _units(f"{rules.survey_id}:{facts.person_id}:{key}")
    return sample < rules.sample_rate, slot


def _blocked(facts: Facts) -> Reason | None:
    if facts.unsubscribed:
        return Reason.UNSUBSCRIBED
    if facts.bounced:
        return Reason.BOUNCED
    if not facts.has_email:
        return Reason.NO_EMAIL
    return None


def decide(rules: Rules, facts: Facts, now: datetime, *, explain: bool = True) -> Decision:
    """Whether to invite this person to this survey now, and if not, why and until when.

    With `explain=False` (the scheduler) the next due time of people not due is not worked
    out (`at` is None), which saves most of the work for the majority in any run.
    """
    blocked = _blocked(facts)
    if blocked is not None:
        return Decision(False, None, None, blocked)
    base = base_time(rules, facts)
    if not explain and now < base:
        # Every slot of a window lies at or after its start.
        return Decision(False, None, None, Reason.NOT_DUE)
    tz = person_zone(rules, facts.time_zone)
    cadence = timedelta(days=rules.cadence_days)
    index = max(0, (now - base) // cadence) if now >= base else 0
    start = base + index * cadence
    key = window_key(start)
    sampled_in, slot = _draw(rules, facts, key)
    if not sampled_in:
        if not explain:
            return Decision(False, None, key, Reason.SAMPLED_OUT)
        # Stable for the whole window: the next chance is the next window's draw.
        following = start + cadence
        next_key = window_key(following)
        _, next_slot = _draw(rules, facts, next_key)
        next_planned = send_slot(following, next_slot, rules, tz)
        return Decision(False, next_planned, next_key, Reason.SAMPLED_OUT)
    planned = send_slot(start, slot, rules, tz)
    if planned > now:
        return Decision(False, planned, key, Reason.NOT_DUE)
    if facts.last_contact_at is not None:
        rested = facts.last_contact_at + timedelta(days=rules.throttle_days)
        if rested > now:
            after = into_window(rested, rules.send_window, tz)
            return Decision(False, after, key, Reason.THROTTLED)
    return Decision(True, into_window(now, rules.send_window, tz), key, None)


def decide_reminder(
    rules: Rules,
    facts: Facts,
    sent_at: datetime | None,
    responded: bool,
    now: datetime,
) -> datetime | None:
    """When to send the single reminder of a sent, unanswered invitation; None: no reminder.

    The fatigue guard does not apply: a reminder belongs to the invitation it follows up.
    """
    if rules.reminder_after_days is None or sent_at is None or responded:
        return None
    if _blocked(facts) is not None:
        return None
    due = sent_at + timedelta(days=rules.reminder_after_days)
    if due > now:
        return None
    return reminder_time(rules, facts.time_zone, now)


def reminder_time(rules: Rules, time_zone: str | None, now: datetime) -> datetime:
    """When a reminder due now goes out: the next opening of the send window where the person
    is. It depends on nothing else, so the scheduler works it out once per time zone."""
    return into_window(now, rules.send_window, person_zone(rules, time_zone))
