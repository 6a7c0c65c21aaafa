"""Recovery: did following up detractors win them back?

Of the detractors of period P (people whose counted answer to the survey in P is 0–6), those
with a resolved follow-up on an answer of theirs to the survey in P are the followed-up group;
the rest (no follow-up, or one still new or contacted) are not followed up. For each group:

- `answered_next`: how many answered again in P+1, and that share of the group's detractors
  with its 95% Wilson interval (`scipy.stats.binomtest(k, n).proportion_ci(method="wilson")`);
- `change`: for those who answered again, the paired NPS change from P to P+1 with its 95%
  t interval (`surveys.analytics.movement_stats.paired_nps_change`). Everyone starts as a
  detractor, so NPS in P is -100 and d_i = (promoter - detractor in P+1) + 1 is 2 for a new
  promoter, 1 for a passive and 0 for a detractor again.

One SQL statement pairs the two periods' counted answers person by person (the same rows as
movement reads) and counts, per group, the people and their segment in P+1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from scipy.stats import binomtest
from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session

from surveys.analytics.movement import (
    MovementQuery,
    counted_answers,
    is_linked_pair,
    resolve_pair,
)
from surveys.analytics.movement_stats import PairedChange, paired_nps_change
from surveys.catalog import get_survey
from surveys.models import FollowUp, PeriodAnswer, PeriodScore, Project, SurveyResponse
from surveys.periods import Period
from surveys.segments import PASSIVE_MIN, rank_case

GROUPS = ("followed_up", "not_followed_up")


@dataclass(frozen=True)
class Share:
    count: int
    of: int
    share: float | None
    ci_low: float | None
    ci_high: float | None


def wilson_share(k: int, n: int) -> Share:
    """k of n as a share with its 95% Wilson interval; no share of nobody."""
    if n <= 0:
        return Share(k, n, None, None, None)
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return Share(k, n, round(k / n, 4), round(float(ci.low), 4), round(float(ci.high), 4))


@dataclass(frozen=True)
class GroupRecovery:
    detractors: int
    answered_next: Share
    promoters_next: int
    passives_next: int
    detractors_next: int
    change: PairedChange


def group_recovery(detractors: int, promoters: int, passives: int, again: int) -> GroupRecovery:
    """The figures of one group from its counts: `detractors` in P, and of those who answered
    in P+1 how many were promoters, passives and detractors again."""
    k = promoters + passives + again
    change = paired_nps_change(k, -k, promoters - again, 4 * promoters + passives)
    return GroupRecovery(
        detractors=detractors,
        answered_next=wilson_share(k, detractors),
        promoters_next=promoters,
        passives_next=passives,
        detractors_next=again,
        change=change,
    )


def _followed_up(survey_id: int, a: Period, person_id: Any) -> Any:
    r = SurveyResponse
    return exists(
        select(FollowUp.response_id)
        .join(r, r.id == FollowUp.response_id)
        .where(
            FollowUp.status == "resolved",
            r.survey_id == survey_id,
            r.person_id == person_id,
            r.created_at >= a.start,
            r.created_at < a.end,
        )
    )


def _followed_people(project_id: int, survey_id: int, a: Period) -> Any:
    """The people with a resolved follow-up on an answer of theirs to the survey in P.

    Read from the project's resolved follow-ups (`ix_follow_ups_project_status`), a few,
    rather than from a period's answers, a quarter of a million.
    """
    r = SurveyResponse
    return (
        select(r.person_id)
        .select_from(FollowUp)
        .join(r, FollowUp.response_id == r.id)
        .where(
            FollowUp.project_id == project_id,
            FollowUp.status == "resolved",
            r.survey_id == survey_id,
            r.created_at >= a.start,
            r.created_at < a.end,
        )
    )


def linked_recovery_counts(
    session: Session, project: Project, survey_id: int, unit: str, a: Period, b: Period
) -> dict[bool, dict[int | None, int]]:
    """`recovery_counts` from P+1's linked rows: P's detractors found again in P+1 are the
    rows there whose `prev_score` is a detractor's, counted by their segment now; how many
    P had comes from `period_scores`; the followed-up group is the same counts over the
    (few) people followed up, and the rest is the difference."""
    pa, ps = PeriodAnswer, PeriodScore
    followed = _followed_people(project.id, survey_id, a)
    rank = rank_case(pa.score).label("rank")

    def again(*where: Any) -> dict[int | None, int]:
        stmt = (
            select(rank, func.count().label("n"))
            .where(
                pa.survey_id == survey_id,
                pa.unit == unit,
                pa.period == b.label,
                pa.prev_score < PASSIVE_MIN,
                *where,
            )
            .group_by(rank)
        )
        return {row.rank: int(row.n) for row in session.execute(stmt)}

    total = session.scalar(
        select(func.coalesce(func.sum(ps.people), 0)).where(
            ps.survey_id == survey_id, ps.unit == unit, ps.period == a.label, ps.score < PASSIVE_MIN
        )
    )
    total_followed = session.scalar(
        select(func.count()).where(
            pa.survey_id == survey_id,
            pa.unit == unit,
            pa.period == a.label,
            pa.score < PASSIVE_MIN,
            pa.person_id.in_(followed),
        )
    )
    everyone = again()
    out: dict[bool, dict[int | None, int]] = {True: again(pa.person_id.in_(followed)), False: {}}
    out[True][None] = int(total_followed or 0) - sum(out[True].values())
    everyone[None] = int(total or 0) - sum(everyone.values())
    for key, n in everyone.items():
        out[False][key] = n - out[True].get(key, 0)
    return {group: {k: n for k, n in counts.items() if n} for group, counts in out.items()}


def recovery_counts(
    session: Session, project: Project, survey_id: int, unit: str, a: Period, b: Period
) -> dict[bool, dict[int | None, int]]:
    """{followed up?: {rank in P+1 (None: did not answer): people}} for P's detractors."""
    if is_linked_pair(project, unit, a, b):
        return linked_recovery_counts(session, project, survey_id, unit, a, b)
    c = counted_answers(project, survey_id, unit, [a, b]).c
    person = (
        select(
            c.person_id,
            func.max(case((c.b == 0, c.score))).label("sa"),
            func.max(case((c.b == 1, c.score))).label("sb"),
        )
        .group_by(c.person_id)
        .subquery()
    )
    p = person.c
    followed = case((_followed_up(survey_id, a, p.person_id), 1), else_=0).label("followed")
    rank = rank_case(p.sb).label("rank")
    stmt = (
        select(followed, rank, func.count().label("n"))
        .where(and_(p.sa.is_not(None), p.sa < PASSIVE_MIN))
        .group_by(followed, rank)
    )
    out: dict[bool, dict[int | None, int]] = {True: {}, False: {}}
    for row in session.execute(stmt):
        out[bool(row.followed)][row.rank] = int(row.n)
    return out


def recovery(
    session: Session,
    project: Project,
    survey_id: int,
    unit: str,
    from_label: str | None,
    now: datetime,
) -> dict[str, Any]:
    """Recovery of P's detractors in P+1, followed up beside not; P defaults to the period
    before the last complete one (so P+1 is the last complete period)."""
    get_survey(session, project.id, survey_id)
    a, b = resolve_pair(project, MovementQuery(survey_id, unit, from_label=from_label), now)
    counts = recovery_counts(session, project, survey_id, unit, a, b)
    groups = {}
    for name, key in zip(GROUPS, (True, False), strict=True):
        c = counts[key]
        groups[name] = asdict(
            group_recovery(sum(c.values()), c.get(2, 0), c.get(1, 0), c.get(0, 0))
        )
    return {
        "survey_id": survey_id,
        "period": unit,
        "time_zone": project.time_zone,
        "from": {"key": a.label, "start": a.start, "end": a.end},
        "to": {"key": b.label, "start": b.start, "end": b.end},
        **groups,
    }
