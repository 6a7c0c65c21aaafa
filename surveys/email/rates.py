"""The email response rate per period: of the invitations sent in a period, the share answered.

Bucketed by when each invitation was sent, with the same period CASE as the NPS figures, so
the overview can show a quarter's NPS beside that quarter's response rate. Reminders are not
invitations and are not counted, as in the per-survey counts (`delivery.counts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from surveys.catalog import get_survey
from surveys.clock import to_naive_utc
from surveys.errors import Invalid
from surveys.models import Invitation, Project
from surveys.period_answers import period_case
from surveys.periods import Period, periods_between

MAX_PERIODS = 60
DEFAULT_SPAN = timedelta(days=365)


@dataclass(frozen=True)
class PeriodRate:
    key: str
    sent: int
    responded: int

    @property
    def rate(self) -> float | None:
        return round(self.responded / self.sent, 4) if self.sent else None


def rates_by_period(
    session: Session, project_id: int, periods: list[Period], survey_id: int | None = None
) -> list[PeriodRate]:
    """One row per period, in order, zero where nothing was sent; one GROUP BY."""
    if not periods:
        return []
    i = Invitation
    bucket = period_case(periods, list(range(len(periods))), i.sent_at).label("bucket")
    conditions = [i.project_id == project_id, i.kind == "invite", i.status == "sent"]
    conditions += [i.sent_at >= periods[0].start, i.sent_at < periods[-1].end]
    if survey_id is not None:
        conditions.append(i.survey_id == survey_id)
    inner = select(bucket, i.responded_at).where(*conditions).subquery()
    stmt = (
        select(
            inner.c.bucket,
            func.count(),
            func.sum(case((inner.c.responded_at.is_not(None), 1), else_=0)),
        )
        .where(inner.c.bucket.is_not(None))
        .group_by(inner.c.bucket)
    )
    found = {row[0]: (row[1], row[2] or 0) for row in session.execute(stmt)}
    return [PeriodRate(p.label, *found.get(n, (0, 0))) for n, p in enumerate(periods)]


def survey_rates(
    session: Session,
    project: Project,
    survey_id: int,
    unit: str,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
) -> list[tuple[Period, PeriodRate]]:
    """A survey's response rate for every period from `since` to `until` (the last year by
    default), in the project's time zone."""
    get_survey(session, project.id, survey_id)
    last = to_naive_utc(until) if until else now
    first = to_naive_utc(since) if since else last - DEFAULT_SPAN
    if first > last:
        raise Invalid("since is after until", {"since": ["must not be after until"]})
    periods = periods_between(first, last, unit, project.time_zone)
    if len(periods) > MAX_PERIODS:
        raise Invalid(
            f"too many {unit} periods ({len(periods)}); narrow since/until",
            {"group_by": [f"at most {MAX_PERIODS} periods"]},
        )
    return list(zip(periods, rates_by_period(session, project.id, periods, survey_id), strict=True))
