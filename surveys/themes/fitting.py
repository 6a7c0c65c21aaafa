"""Fitting a claimed theme run: load its comments, cluster them, store ranked friction points.

The fit reads the comments by SQL, fits `ml.ThemeModel`, stores one `FrictionPoint` per theme
and one `ThemeAssignment` per comment (null when the comment fits no theme), measures each
point in SQL and ranks them by NPS impact (`surveys.themes.measuring`), and saves the fitted
model with the run, so that later responses can be assigned without refitting. Only the
worker imports this module: it brings scikit-learn.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ml import MODEL_VERSION, ThemeModel, save_model
from surveys import events
from surveys.models import FrictionPoint, Project, SurveyResponse, ThemeAssignment, ThemeRun
from surveys.themes.edits import apply_edits
from surveys.themes.impact import overall
from surveys.themes.measuring import measure_points
from surveys.themes.runs import RunParams
from surveys.themes.scope import comment_conditions

Progress = Callable[[float, str], None]
QUOTE_CHARS = 500
INSERT_CHUNK = 5000
RANDOM_STATE = 0


class FitError(Exception):
    """A run that cannot be fitted as asked; the message is shown on the run."""


def _scaled(progress: Progress | None, low: float, high: float) -> Progress:
    def report(fraction: float, stage: str) -> None:
        if progress is not None:
            progress(low + (high - low) * min(max(fraction, 0.0), 1.0), stage)

    return report


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


def fit_run(
    session: Session,
    run: ThemeRun,
    *,
    now: datetime,
    progress: Progress | None = None,
    timer: Callable[[], float] = time.perf_counter,
) -> ThemeRun:
    """Fit a claimed run and store its friction points; raises FitError (or the model's
    error) when it cannot, leaving the caller to roll back and `fail_run`."""
    started = timer()
    params = RunParams.from_json(run.params)
    project = session.get(Project, run.project_id)
    if project is None:
        raise FitError(f"project {run.project_id} no longer exists")
    report = _scaled(progress, 0.0, 1.0)
    report(0.0, "loading")
    r = SurveyResponse
    # Responses above this id arrived after the run: the assignment pass takes them.
    watermark = session.scalar(select(func.max(r.id)).where(r.project_id == run.project_id))
    rows = session.execute(
        select(r.id, r.comment, r.score)
        .where(*comment_conditions(run.project_id, params), r.id <= (watermark or 0))
        .order_by(r.id)
    ).all()
    ids = [row.id for row in rows]
    texts = [row.comment for row in rows]
    if params.n_themes is not None and params.n_themes > len(texts):
        raise FitError(
            f"n_themes={params.n_themes} asks for more themes than the {len(texts)} comments "
            "that match; ask for fewer themes or widen the date range or segments"
        )
    run.assigned_until_id = watermark or 0
    base = overall(session, run.project_id, params)
    counts = {
        "comments": len(texts),
        "themes": 0,
        "assigned": 0,
        "unassigned": 0,
        "respondents": base.respondents,
        "detractors": base.detractors,
        "nps": base.nps,
        "assigned_after_run": 0,
    }
    if not texts:
        run.message = "no comments matched the run's survey, dates and segments"
        run.unassigned_share = 0.0
        return _finish(session, run, counts, started, timer, now)

    model = ThemeModel(n_themes=params.n_themes, random_state=RANDOM_STATE)
    model.fit(texts, progress=_scaled(progress, 0.05, 0.85))
    report(0.85, "storing")
    points = _store_points(session, run, model, ids, rows)
    labels = [int(label) for label in model.labels_]
    assigned = _store_assignments(session, run.id, ids, labels, points)
    measure_points(
        session, run, params, points, (len(texts), base.respondents), project.time_zone, now
    )

    buffer = io.BytesIO()
    save_model(model, buffer)
    run.model = buffer.getvalue()
    run.model_version = str(MODEL_VERSION)
    counts.update(themes=len(points), assigned=assigned, unassigned=len(texts) - assigned)
    run.unassigned_share = round((len(texts) - assigned) / len(texts), 4)
    run.message = None
    report(1.0, "done")
    _finish(session, run, counts, started, timer, now)
    apply_edits(session, run, now)
    return run


def _finish(
    session: Session,
    run: ThemeRun,
    counts: dict,
    started: float,
    timer: Callable[[], float],
    now: datetime,
) -> ThemeRun:
    duration = max(timer() - started, 0.0)
    run.counts = counts
    run.status = "done"
    run.duration_seconds = round(duration, 3)
    run.finished_at = now + timedelta(seconds=duration)
    run.lease_until = None
    session.flush()
    events.record(session, run.project_id, events.THEME_RUN_COMPLETED, run.id, run.finished_at)
    return run


def _store_points(
    session: Session, run: ThemeRun, model: ThemeModel, ids: list[int], rows: list
) -> dict[int, FrictionPoint]:
    """One friction point per theme, keyed by the model's label value."""
    points: dict[int, FrictionPoint] = {}
    for theme in model.themes_:
        quotes = [
            {"response_id": ids[i], "text": _quote(rows[i].comment), "score": rows[i].score}
            for i in theme.quote_indices
            if 0 <= i < len(ids)
        ]
        point = FrictionPoint(
            run_id=run.id,
            project_id=run.project_id,
            cluster=int(theme.id),
            rank=0,
            label=(theme.label or ", ".join(theme.top_terms[:3]) or f"theme {theme.id}")[:255],
            top_terms=[str(t) for t in theme.top_terms][:20],
            size=int(theme.size),
            quotes=quotes,
            trend=[],
        )
        session.add(point)
        points[int(theme.id)] = point
    session.flush()
    return points


def _store_assignments(
    session: Session,
    run_id: int,
    ids: list[int],
    labels: list[int],
    points: dict[int, FrictionPoint],
) -> int:
    """Insert every comment's assignment in chunks; returns how many landed in a theme."""
    assigned = 0
    chunk: list[dict] = []
    for response_id, label in zip(ids, labels, strict=True):
        point = points.get(label)
        assigned += point is not None
        chunk.append(
            {
                "run_id": run_id,
                "response_id": response_id,
                "friction_point_id": point.id if point is not None else None,
            }
        )
        if len(chunk) >= INSERT_CHUNK:
            session.execute(insert(ThemeAssignment), chunk)
            chunk = []
    if chunk:
        session.execute(insert(ThemeAssignment), chunk)
    return assigned
