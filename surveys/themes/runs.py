"""Theme runs as a work queue: queue one, read and list them, claim one under a lease, close it.

A run is queued by the API or the CLI and fitted by a worker (`surveys.themes.fitting.fit_run`).
Claiming is safe with several workers: PostgreSQL skips rows another worker has locked
(`FOR UPDATE SKIP LOCKED`), and the claim itself is a guarded UPDATE (`WHERE status is still
claimable`) whose row count says who won, which is what keeps SQLite safe too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from surveys.catalog import get_survey
from surveys.clock import to_naive_utc
from surveys.database.paging import Page, keyset_page
from surveys.errors import Invalid, NotFound
from surveys.models import ThemeRun

# "feedback" is free-form in-product feedback: no survey and no score.
SEGMENT_CHOICES = ("detractor", "passive", "promoter", "feedback")
DEFAULT_SEGMENTS = ("detractor", "passive", "feedback")
DEFAULT_REVENUE_PROPERTY = "mrr"
MIN_THEMES, MAX_THEMES = 2, 500
STATUSES = ("queued", "running", "done", "failed")
# A fit of 100,000 comments takes about a minute; a run still "running" after this long
# belonged to a worker that died, and another worker may take it over.
LEASE = timedelta(minutes=30)


@dataclass(frozen=True)
class RunParams:
    """What a run clusters: stored as JSON in `ThemeRun.params`."""

    survey_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    segments: tuple[str, ...] = DEFAULT_SEGMENTS
    n_themes: int | None = None
    revenue_property: str = DEFAULT_REVENUE_PROPERTY

    def to_json(self) -> dict[str, Any]:
        return {
            "survey_id": self.survey_id,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "segments": list(self.segments),
            "n_themes": self.n_themes,
            "revenue_property": self.revenue_property,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunParams:
        def moment(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        return cls(
            survey_id=data.get("survey_id"),
            since=moment(data.get("since")),
            until=moment(data.get("until")),
            segments=tuple(data.get("segments") or DEFAULT_SEGMENTS),
            n_themes=data.get("n_themes"),
            revenue_property=data.get("revenue_property") or DEFAULT_REVENUE_PROPERTY,
        )


def make_params(
    *,
    survey_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    segments: list[str] | tuple[str, ...] | None = None,
    n_themes: int | None = None,
    revenue_property: str | None = None,
) -> RunParams:
    """Check and normalise run parameters; raises Invalid naming the bad field."""
    since = to_naive_utc(since) if since else None
    until = to_naive_utc(until) if until else None
    if since and until and since >= until:
        raise Invalid("since must be before until", {"until": ["must be after since"]})
    chosen = tuple(dict.fromkeys(segments)) if segments is not None else DEFAULT_SEGMENTS
    unknown = [s for s in chosen if s not in SEGMENT_CHOICES]
    if not chosen or unknown:
        raise Invalid(
            "segments must be a non-empty list of " + ", ".join(SEGMENT_CHOICES),
            {"segments": [f"unknown: {', '.join(unknown)}" if unknown else "must not be empty"]},
        )
    if n_themes is not None and not MIN_THEMES <= n_themes <= MAX_THEMES:
        raise Invalid(
            f"n_themes must be between {MIN_THEMES} and {MAX_THEMES}",
            {"n_themes": [f"{MIN_THEMES}–{MAX_THEMES}"]},
        )
    prop = DEFAULT_REVENUE_PROPERTY if revenue_property is None else revenue_property.strip()
    if not 1 <= len(prop) <= 100 or '"' in prop or "\\" in prop:
        raise Invalid(
            "revenue_property must be a property name of 1–100 characters without quotes",
            {"revenue_property": ["1–100 characters, no quotes or backslashes"]},
        )
    return RunParams(survey_id, since, until, chosen, n_themes, prop)


def queue_run(session: Session, project_id: int, params: RunParams, *, now: datetime) -> ThemeRun:
    """Add a queued run; another project's (or a missing) survey is NotFound."""
    if params.survey_id is not None:
        get_survey(session, project_id, params.survey_id)
    run = ThemeRun(
        project_id=project_id,
        survey_id=params.survey_id,
        status="queued",
        params=params.to_json(),
        counts={},
        created_at=now,
    )
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, project_id: int, run_id: int) -> ThemeRun:
    run = session.get(ThemeRun, run_id)
    if run is None or run.project_id != project_id:
        raise NotFound(f"theme run {run_id} not found")
    return run


def list_runs(
    session: Session,
    project_id: int,
    *,
    limit: int,
    after: int | None,
    status: str | None = None,
) -> Page[ThemeRun]:
    stmt = select(ThemeRun).where(ThemeRun.project_id == project_id)
    if status is not None:
        stmt = stmt.where(ThemeRun.status == status)
    return keyset_page(session, stmt, ThemeRun.id, limit=limit, after=after)


def _claimable(now: datetime):
    return or_(
        ThemeRun.status == "queued",
        and_(ThemeRun.status == "running", ThemeRun.lease_until < now),
    )


def claim_run(
    session: Session, worker: str, *, now: datetime, run_id: int | None = None
) -> ThemeRun | None:
    """Take the oldest claimable run (or `run_id`) for `worker`; None when there is none.

    The caller commits right away, so that other workers see the claim before the long fit.
    """
    candidates = (
        select(ThemeRun.id)
        .where(_claimable(now))
        .order_by(ThemeRun.id)
        .limit(5)
        .with_for_update(skip_locked=True)
    )
    if run_id is not None:
        candidates = candidates.where(ThemeRun.id == run_id)
    for candidate in session.scalars(candidates).all():
        taken = session.execute(
            update(ThemeRun)
            .where(ThemeRun.id == candidate, _claimable(now))
            .values(
                status="running",
                claimed_by=worker[:128],
                lease_until=now + LEASE,
                started_at=now,
                message=None,
            )
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:
            run = session.get(ThemeRun, candidate, populate_existing=True)
            return run
    return None


def fail_run(session: Session, run_id: int, message: str, *, now: datetime) -> ThemeRun:
    """Close a run as failed with a message a person can act on."""
    run = session.get(ThemeRun, run_id, populate_existing=True)
    if run is None:
        raise NotFound(f"theme run {run_id} not found")
    run.status = "failed"
    run.message = message[:2000]
    run.finished_at = now
    run.lease_until = None
    if run.started_at is not None:
        run.duration_seconds = round((now - run.started_at).total_seconds(), 3)
    session.flush()
    return run


def latest_done_runs(session: Session) -> list[ThemeRun]:
    """The newest finished run of every project: the ones new responses are assigned to."""
    newest = (
        select(func.max(ThemeRun.id)).where(ThemeRun.status == "done").group_by(ThemeRun.project_id)
    )
    return list(session.scalars(select(ThemeRun).where(ThemeRun.id.in_(newest))))
