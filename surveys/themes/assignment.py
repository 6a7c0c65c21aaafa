"""Assigning responses that arrived after a finished run to its themes, without refitting.

Only each project's newest finished run is kept up to date: it is the one every response's
`theme_id` comes from. Its `assigned_until_id` is the watermark: responses above it are new.
The watermark moves first, by a guarded UPDATE, so two workers never assign the same range.
"""

from __future__ import annotations

import io

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from ml import MODEL_VERSION, load_model
from surveys.models import FrictionPoint, SurveyResponse, ThemeAssignment, ThemeRun
from surveys.themes.runs import RunParams
from surveys.themes.scope import comment_conditions

BATCH = 5000


def assign_new(session: Session, run: ThemeRun, *, batch: int = BATCH) -> int:
    """Assign up to `batch` new matching responses of a done run; returns how many.

    A run fitted by an earlier model version is left as it is: its model cannot place new
    texts (the features changed), so they wait, unassigned, for the next run to be fitted.
    """
    if run.model_version != MODEL_VERSION:
        return 0
    r = SurveyResponse
    low = run.assigned_until_id or 0
    newest = session.scalar(select(func.max(r.id)).where(r.project_id == run.project_id))
    if newest is None or newest <= low:
        return 0
    params = RunParams.from_json(run.params)
    rows = session.execute(
        select(r.id, r.comment)
        .where(*comment_conditions(run.project_id, params), r.id > low, r.id <= newest)
        .order_by(r.id)
        .limit(batch)
    ).all()
    # A full batch ends at its last row; otherwise everything up to `newest` has been seen.
    high = rows[-1].id if len(rows) == batch else newest
    moved = session.execute(
        update(ThemeRun)
        .where(ThemeRun.id == run.id, func.coalesce(ThemeRun.assigned_until_id, 0) == low)
        .values(assigned_until_id=high)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        return 0  # another worker took this range
    run.assigned_until_id = high
    if not rows or run.model is None:
        return 0
    model = load_model(io.BytesIO(run.model))
    labels = model.predict([row.comment for row in rows])
    # A point merged into another sends its cluster's answers to the point it went into.
    point_of = {
        cluster: merged_into or point_id
        for cluster, point_id, merged_into in session.execute(
            select(FrictionPoint.cluster, FrictionPoint.id, FrictionPoint.merged_into_id).where(
                FrictionPoint.run_id == run.id
            )
        )
    }
    session.execute(
        insert(ThemeAssignment),
        [
            {
                "run_id": run.id,
                "response_id": row.id,
                "friction_point_id": point_of.get(int(label)),
            }
            for row, label in zip(rows, labels, strict=True)
        ],
    )
    counts = dict(run.counts or {})
    counts["assigned_after_run"] = int(counts.get("assigned_after_run", 0)) + len(rows)
    run.counts = counts
    session.flush()
    return len(rows)
