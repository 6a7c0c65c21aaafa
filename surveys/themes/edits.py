"""Theme edits: rename a friction point, merge two, hide one; and apply them again to later runs.

An edit changes the point of the run it was made on and is kept as a `ThemeEdit` with the
point's top terms. When a later run finishes, every kept edit is applied, oldest first, to the
point of the new run that matches: the one whose top terms overlap the edit's most, by Jaccard
overlap of the first MATCH_TERMS terms of each, at least MATCH_THRESHOLD. Top terms are what a
theme is about (the c-TF-IDF words of its comments), and unlike the responses in it they exist
for every run, including one fitted over another period. A merge needs both of its points to
match (two different points of the new run); a point matches no edit below the threshold and
then keeps the name the model gave it.

Merging moves the responses of one point to the other (their assignments in the run), marks the
merged point hidden with `merged_into_id`, so that answers assigned later by the run's model to
its cluster land in the kept point too, and measures the run's points again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from surveys.errors import Conflict, Invalid
from surveys.models import FrictionPoint, Project, ThemeAssignment, ThemeEdit, ThemeRun
from surveys.themes.measuring import measure_run
from surveys.themes.reading import get_point

MATCH_TERMS = 10
MATCH_THRESHOLD = 0.4
MAX_LABEL = 255


def jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    """|A ∩ B| / |A ∪ B| of the first MATCH_TERMS terms of each; 0 when both are empty."""
    left, right = set(a[:MATCH_TERMS]), set(b[:MATCH_TERMS])
    union = left | right
    return len(left & right) / len(union) if union else 0.0


def best_match(
    terms: Sequence[str], points: Sequence[FrictionPoint], but: int | None = None
) -> FrictionPoint | None:
    """The point whose top terms overlap `terms` most, at least MATCH_THRESHOLD (ties: the
    better ranked one)."""
    scored = [
        (jaccard(terms, p.top_terms or []), -p.rank, p)
        for p in points
        if p.id != but and p.merged_into_id is None
    ]
    scored = [s for s in scored if s[0] >= MATCH_THRESHOLD]
    if not scored:
        return None
    return max(scored, key=lambda s: (s[0], s[1]))[2]


def _live(session: Session, project_id: int, point_id: int) -> FrictionPoint:
    point = get_point(session, project_id, point_id)
    if point.merged_into_id is not None:
        raise Conflict(
            f"theme {point_id} was merged into theme {point.merged_into_id}",
            {"merged_into_id": point.merged_into_id},
        )
    return point


def _rename(point: FrictionPoint, label: str) -> None:
    point.label = label


def _merge(session: Session, keep: FrictionPoint, gone: FrictionPoint) -> None:
    session.execute(
        update(ThemeAssignment)
        .where(ThemeAssignment.run_id == gone.run_id, ThemeAssignment.friction_point_id == gone.id)
        .values(friction_point_id=keep.id)
    )
    # Points merged into the one now going follow it.
    session.execute(
        update(FrictionPoint)
        .where(FrictionPoint.run_id == gone.run_id, FrictionPoint.merged_into_id == gone.id)
        .values(merged_into_id=keep.id)
    )
    keep.quotes = list(keep.quotes or []) + list(gone.quotes or [])
    gone.merged_into_id, gone.hidden = keep.id, True
    gone.size, gone.share, gone.quotes = 0, 0.0, []


def _remeasure(session: Session, run_id: int, now: datetime) -> None:
    run = session.get(ThemeRun, run_id)
    project = session.get(Project, run.project_id) if run else None
    if run is not None and project is not None:
        measure_run(session, run, project.time_zone, run.finished_at or now)


def rename(
    session: Session, project_id: int, point_id: int, label: str, now: datetime
) -> FrictionPoint:
    clean = " ".join((label or "").split())
    if not clean or len(clean) > MAX_LABEL:
        raise Invalid("a theme's name has 1 to 255 characters", {"label": ["1 to 255 characters"]})
    point = _live(session, project_id, point_id)
    _rename(point, clean)
    session.add(
        ThemeEdit(
            project_id=project_id,
            kind="rename",
            terms=list(point.top_terms),
            label=clean,
            created_at=now,
        )
    )
    session.flush()
    return point


def set_hidden(
    session: Session, project_id: int, point_id: int, hidden: bool, now: datetime
) -> FrictionPoint:
    """Hide a point from the lists (or show it again); later runs hide the points matching it."""
    point = _live(session, project_id, point_id)
    point.hidden = hidden
    session.add(
        ThemeEdit(
            project_id=project_id,
            kind="hide" if hidden else "show",
            terms=list(point.top_terms),
            created_at=now,
        )
    )
    session.flush()
    return point


def merge(
    session: Session, project_id: int, keep_id: int, other_id: int, now: datetime
) -> FrictionPoint:
    """Merge `other_id` into `keep_id` (two points of the same run); answers the kept point."""
    if keep_id == other_id:
        raise Invalid("a theme cannot merge with itself", {"theme_id": ["another theme"]})
    keep = _live(session, project_id, keep_id)
    other = _live(session, project_id, other_id)
    if keep.run_id != other.run_id:
        raise Invalid(
            "only themes of the same run merge", {"theme_id": [f"a theme of run {keep.run_id}"]}
        )
    _merge(session, keep, other)
    session.add(
        ThemeEdit(
            project_id=project_id,
            kind="merge",
            terms=list(keep.top_terms),
            other_terms=list(other.top_terms),
            created_at=now,
        )
    )
    session.flush()
    _remeasure(session, keep.run_id, now)
    return keep


def apply_edits(session: Session, run: ThemeRun, now: datetime) -> int:
    """Apply the project's kept edits to a newly finished run; returns how many applied."""
    edits = session.scalars(
        select(ThemeEdit).where(ThemeEdit.project_id == run.project_id).order_by(ThemeEdit.id)
    ).all()
    if not edits:
        return 0
    points = list(session.scalars(select(FrictionPoint).where(FrictionPoint.run_id == run.id)))
    applied, merged = 0, False
    for edit in edits:
        target = best_match(edit.terms, points)
        if target is None:
            continue
        if edit.kind == "rename" and edit.label:
            _rename(target, edit.label)
        elif edit.kind in ("hide", "show"):
            target.hidden = edit.kind == "hide"
        elif edit.kind == "merge":
            other = best_match(edit.other_terms, points, but=target.id)
            if other is None:
                continue
            session.flush()
            _merge(session, target, other)
            merged = True
        applied += 1
    session.flush()
    if merged:
        _remeasure(session, run.id, now)
    return applied


def edits_of(session: Session, project_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(ThemeEdit).where(ThemeEdit.project_id == project_id).order_by(ThemeEdit.id)
    )
    return [
        {"id": e.id, "kind": e.kind, "label": e.label, "terms": e.terms, "created_at": e.created_at}
        for e in rows
    ]
