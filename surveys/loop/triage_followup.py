"""Follow-ups: the call-back on a response (owner, status, due time) and the project's rules.

A follow-up goes new -> contacted -> resolved; resolving needs a reason, and reopening (back
to new or contacted) drops the reason. It is due `sla_hours[segment]` after it opened, for the
segment of the response's score; a segment without an SLA has no due time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.answers import get_response
from surveys.clock import to_naive_utc
from surveys.database.inserts import insert_rows_or_ignore
from surveys.errors import Invalid, NotFound
from surveys.loop.triage import is_member
from surveys.models import FollowUp, FollowUpSettings, SurveyResponse, User
from surveys.response_filters import FOLLOW_UP_STATUSES
from surveys.segments import SEGMENTS, segment_of

STATUSES = FOLLOW_UP_STATUSES
OPEN_STATUSES = ("new", "contacted")
MAX_REASON = 2000
MAX_SLA_HOURS = 24 * 365
DEFAULT_SLA_HOURS = {"detractor": 48}
UNSET: Any = object()


@dataclass(frozen=True)
class FollowUpView:
    response_id: int
    status: str
    owner_id: int | None
    owner_email: str | None
    reason: str | None
    due_at: datetime | None
    overdue: bool
    source: str
    opened_at: datetime
    contacted_at: datetime | None
    resolved_at: datetime | None


def is_overdue(follow_up: FollowUp, now: datetime) -> bool:
    return (
        follow_up.status != "resolved" and follow_up.due_at is not None and follow_up.due_at < now
    )


def view_of(follow_up: FollowUp, owner_email: str | None, now: datetime) -> FollowUpView:
    f = follow_up
    return FollowUpView(
        f.response_id,
        f.status,
        f.owner_id,
        owner_email,
        f.reason,
        f.due_at,
        is_overdue(f, now),
        f.source,
        f.opened_at,
        f.contacted_at,
        f.resolved_at,
    )


# Settings


def get_settings(session: Session, project_id: int) -> FollowUpSettings:
    """The project's settings; off with the default SLA until someone changes them."""
    settings = session.get(FollowUpSettings, project_id)
    if settings is None:
        settings = FollowUpSettings(
            project_id=project_id,
            enabled=False,
            sla_hours=dict(DEFAULT_SLA_HOURS),
            owner_property=None,
            scanned_until_id=0,
        )
    return settings


def check_sla(sla: dict[str, Any]) -> dict[str, int]:
    names = {s.value for s in SEGMENTS}
    out: dict[str, int] = {}
    for key, hours in sla.items():
        if key not in names:
            raise Invalid(f"unknown segment {key!r}", {"sla_hours": [f"unknown segment {key}"]})
        if hours is None:
            continue
        if not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= MAX_SLA_HOURS:
            raise Invalid(
                "SLA hours are whole hours from 1 to a year",
                {"sla_hours": [f"{key}: 1 to {MAX_SLA_HOURS}"]},
            )
        out[key] = hours
    return out


def update_settings(
    session: Session, project_id: int, changes: dict[str, Any], now: datetime
) -> FollowUpSettings:
    """Change the rules. Turning follow-up on opens follow-ups for answers recorded from then
    on: the opening pass starts after the newest response stored now, so switching on does
    not flood the team with every detractor of the past."""
    settings = get_settings(session, project_id)
    if settings not in session:
        session.add(settings)
    if "sla_hours" in changes:
        settings.sla_hours = check_sla(changes["sla_hours"] or {})
    if "owner_property" in changes:
        name = (changes["owner_property"] or "").strip()
        settings.owner_property = name or None
    if "enabled" in changes:
        turning_on = bool(changes["enabled"]) and not settings.enabled
        settings.enabled = bool(changes["enabled"])
        if turning_on:
            newest = session.scalar(
                select(func.max(SurveyResponse.id)).where(SurveyResponse.project_id == project_id)
            )
            settings.scanned_until_id = int(newest or 0)
    settings.updated_at = now
    session.flush()
    return settings


def due_at(settings: FollowUpSettings, score: int | None, opened_at: datetime) -> datetime | None:
    segment = segment_of(score)
    hours = (settings.sla_hours or {}).get(segment.value) if segment else None
    return opened_at + timedelta(hours=int(hours)) if hours else None


# Follow-ups


def _owner_email(session: Session, owner_id: int | None) -> str | None:
    return session.scalar(select(User.email).where(User.id == owner_id)) if owner_id else None


def read_follow_up(
    session: Session, project_id: int, response_id: int, now: datetime
) -> FollowUpView | None:
    """The response's follow-up, or None when it has none."""
    get_response(session, project_id, response_id)
    f = session.get(FollowUp, response_id)
    if f is None:
        return None
    return view_of(f, _owner_email(session, f.owner_id), now)


def get_follow_up(
    session: Session, project_id: int, response_id: int, now: datetime
) -> FollowUpView:
    found = read_follow_up(session, project_id, response_id, now)
    if found is None:
        raise NotFound(f"response {response_id} has no follow-up")
    return found


def _set_status(f: FollowUp, status: str, reason: str | None, now: datetime) -> None:
    if status not in STATUSES:
        raise Invalid(f"unknown status {status!r}", {"status": [", ".join(STATUSES)]})
    if status == "resolved":
        if not reason:
            raise Invalid("resolving needs a reason", {"reason": ["required to resolve"]})
        f.reason = reason
        f.resolved_at = f.resolved_at if f.status == "resolved" else now
        f.contacted_at = f.contacted_at or now
    else:
        f.reason, f.resolved_at = None, None
        if status == "contacted":
            f.contacted_at = f.contacted_at or now
        else:
            f.contacted_at = None
    f.status = status


def change_follow_up(
    session: Session,
    project_id: int,
    response_id: int,
    *,
    now: datetime,
    status: str | None = None,
    reason: str | None = None,
    owner_id: int | None = UNSET,
    due: datetime | None = UNSET,
) -> FollowUpView:
    """Open the response's follow-up if it has none, then change what is given. `owner_id`
    must be a member of the project (the caller resolves emails with `member_by_email`)."""
    response = get_response(session, project_id, response_id)
    f = session.get(FollowUp, response_id)
    if f is None:
        settings = get_settings(session, project_id)
        insert_rows_or_ignore(
            session,
            FollowUp,
            [
                {
                    "response_id": response_id,
                    "project_id": project_id,
                    "status": "new",
                    "source": "manual",
                    "opened_at": now,
                    "updated_at": now,
                    "due_at": due_at(settings, response.score, now),
                }
            ],
        )
        f = session.get(FollowUp, response_id)
        assert f is not None
    clean_reason = reason.strip() if reason else None
    if clean_reason and len(clean_reason) > MAX_REASON:
        raise Invalid("a reason has at most 2000 characters", {"reason": ["too long"]})
    if status is not None:
        _set_status(f, status, clean_reason or f.reason, now)
    elif clean_reason:
        if f.status != "resolved":
            raise Invalid("a reason belongs to a resolved follow-up", {"reason": ["not resolved"]})
        f.reason = clean_reason
    if owner_id is not UNSET:
        if owner_id is not None and not is_member(session, project_id, owner_id):
            raise Invalid("the owner must be a member of this project", {"owner": ["not a member"]})
        f.owner_id = owner_id
    if due is not UNSET:
        f.due_at = to_naive_utc(due) if due is not None else None
    f.updated_at = now
    session.flush()
    return view_of(f, _owner_email(session, f.owner_id), now)


def follow_ups_of(
    session: Session, response_ids: list[int], now: datetime
) -> dict[int, FollowUpView]:
    """The follow-ups of a page of responses, in one query."""
    if not response_ids:
        return {}
    rows = session.execute(
        select(FollowUp, User.email)
        .outerjoin(User, User.id == FollowUp.owner_id)
        .where(FollowUp.response_id.in_(response_ids))
    ).all()
    return {f.response_id: view_of(f, email, now) for f, email in rows}
