"""Erased comments taken out of stored themes: their quotes, the label terms only they said,
and the saved models fitted on them.

A friction point keeps words of its comments in three places: `quotes` (whole comments),
`top_terms` and `label` (words and word pairs drawn from its comments), and the run's saved
model (its vocabularies hold every word stem, word pair and character n-gram of the fitted
comments that passed `min_df`, which is 1 for small runs, and its themes the same terms).
Quotes of erased comments are dropped. A term is kept only while a remaining comment of the
point still says it, and the label is made again from the terms kept, in their order of
weight. Models cannot be edited reliably (the words are spread through the TF-IDF weights and
the SVD), so the model of every run that placed an erased comment is dropped; when that run
is the project's newest done one (whose model gives new answers their theme), a run with the
same parameters is queued for the worker to fit on what remains.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import closing
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from surveys.models import FrictionPoint, SurveyResponse, ThemeAssignment, ThemeEdit, ThemeRun
from surveys.response_context import latest_done_run_id
from surveys.themes.runs import RunParams, queue_run

LABEL_CHARS = 255
READ_BATCH = 1000


def forget_comments(
    session: Session, project_id: int, response_ids: Collection[int], *, now: datetime
) -> None:
    """Take these responses' words out of every theme of the project. Call it before the
    responses are deleted: their theme assignments say where the words went."""
    if not response_ids:
        return
    erased = set(response_ids)
    placed = session.execute(
        select(ThemeAssignment.run_id, ThemeAssignment.friction_point_id)
        .where(ThemeAssignment.response_id.in_(erased))
        .distinct()
    ).all()
    run_ids = {run_id for run_id, _ in placed}
    holders = {point_id for _, point_id in placed if point_id is not None}
    if not run_ids:
        return
    # Imported here: erasure is a door of the web app, and `ml` brings scikit-learn (and
    # pandas with it), which no request needs otherwise: about 100 MB per gunicorn worker.
    from ml import ThemeModel, make_label

    model = ThemeModel()
    points = session.scalars(select(FrictionPoint).where(FrictionPoint.run_id.in_(run_ids))).all()
    gone: set[str] = set()
    for point in points:
        quotes = [q for q in point.quotes or [] if q.get("response_id") not in erased]
        if len(quotes) != len(point.quotes or []):
            point.quotes = quotes
        if point.id in holders:
            with closing(_remaining_comments(session, point, erased)) as comments:
                kept = model.terms_in(point.top_terms or [], comments)
            if kept != point.top_terms:
                gone |= set(point.top_terms or []) - set(kept)
                point.top_terms = kept
                point.label = make_label(kept)[:LABEL_CHARS]
    _forget_edit_terms(session, project_id, gone)
    dropped = set(
        session.scalars(
            update(ThemeRun)
            .where(ThemeRun.id.in_(run_ids), ThemeRun.model.is_not(None))
            .values(model=None)
            .returning(ThemeRun.id)
            .execution_options(synchronize_session=False)
        )
    )
    newest = latest_done_run_id(session, project_id)
    if newest in dropped:
        _queue_refit(session, project_id, session.get(ThemeRun, newest), now)
    session.flush()


def _forget_edit_terms(session: Session, project_id: int, gone: set[str]) -> None:
    """Theme edits keep a copy of their themes' top terms to match later runs by: the terms
    taken out of the themes go out of those copies too."""
    if not gone:
        return
    for edit in session.scalars(select(ThemeEdit).where(ThemeEdit.project_id == project_id)):
        terms = [t for t in edit.terms or [] if t not in gone]
        other = [t for t in edit.other_terms or [] if t not in gone]
        if terms != edit.terms or other != edit.other_terms:
            edit.terms, edit.other_terms = terms, other


def _remaining_comments(session: Session, point: FrictionPoint, erased: set[int]):
    """The point's comments other than the erased ones, read a batch at a time."""
    r = SurveyResponse
    return session.scalars(
        select(r.comment)
        .join(ThemeAssignment, ThemeAssignment.response_id == r.id)
        .where(
            ThemeAssignment.run_id == point.run_id,
            ThemeAssignment.friction_point_id == point.id,
            r.id.not_in(erased),
        )
        .order_by(r.id)
        .execution_options(yield_per=READ_BATCH)
    )


def _queue_refit(session: Session, project_id: int, run: ThemeRun, now: datetime) -> None:
    """Queue the newest run again, unless the same run is already waiting for a worker."""
    waiting = session.scalars(
        select(ThemeRun.params).where(
            ThemeRun.project_id == project_id, ThemeRun.status == "queued"
        )
    )
    if any(params == run.params for params in waiting):
        return
    queue_run(session, project_id, RunParams.from_json(run.params), now=now)
