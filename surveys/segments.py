"""Segments: the one home of the thresholds, segments, ranks and movement words, with SQL twins.

Each rule is a pure Python function next to its SQL twin (a SQLAlchemy expression), so SQL
aggregates and Python answers sort and compare scores the same way; tests check each pair
agree for every score.
"""

from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, case, literal, null

MIN_SCORE = 0
MAX_SCORE = 10
PROMOTER_MIN = 9
PASSIVE_MIN = 7


class Segment(StrEnum):
    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"


class Movement(StrEnum):
    """A person's segment in one period (or answer) against the one before."""

    UP = "up"
    DOWN = "down"
    STAYED = "stayed"
    NEW = "new"
    LAPSED = "lapsed"


SEGMENTS = (Segment.PROMOTER, Segment.PASSIVE, Segment.DETRACTOR)
# Higher rank is better; movement compares ranks.
SEGMENT_RANK = {Segment.DETRACTOR: 0, Segment.PASSIVE: 1, Segment.PROMOTER: 2}
MOVEMENTS = tuple(Movement)


def is_valid_score(score: object) -> bool:
    return (
        isinstance(score, int) and not isinstance(score, bool) and MIN_SCORE <= score <= MAX_SCORE
    )


def segment_of(score: int | None) -> Segment | None:
    """None for an answer without a score (free-form feedback)."""
    if score is None:
        return None
    if not is_valid_score(score):
        raise ValueError(f"score must be an integer from {MIN_SCORE} to {MAX_SCORE}")
    if score >= PROMOTER_MIN:
        return Segment.PROMOTER
    if score >= PASSIVE_MIN:
        return Segment.PASSIVE
    return Segment.DETRACTOR


def score_range(segment: Segment) -> tuple[int, int]:
    """Inclusive score bounds of a segment, for SQL filters."""
    return {
        Segment.PROMOTER: (PROMOTER_MIN, MAX_SCORE),
        Segment.PASSIVE: (PASSIVE_MIN, PROMOTER_MIN - 1),
        Segment.DETRACTOR: (MIN_SCORE, PASSIVE_MIN - 1),
    }[segment]


def rank_of(score: int | None) -> int | None:
    """2 promoter, 1 passive, 0 detractor, so ranks compare as movement; None stays None."""
    segment = segment_of(score)
    return None if segment is None else SEGMENT_RANK[segment]


def movement_between(before: int | None, after: int | None) -> Movement | None:
    """The movement from rank `before` to rank `after`; a missing side makes it new or lapsed,
    two missing sides no movement at all."""
    if before is None:
        return None if after is None else Movement.NEW
    if after is None:
        return Movement.LAPSED
    if after > before:
        return Movement.UP
    if after < before:
        return Movement.DOWN
    return Movement.STAYED


def in_segment(score: Any, segment: Segment) -> ColumnElement[bool]:
    """SQL twin of `segment_of(score) == segment`, as plain comparisons an index can use."""
    if segment is Segment.PROMOTER:
        return score >= PROMOTER_MIN
    if segment is Segment.PASSIVE:
        return and_(score >= PASSIVE_MIN, score < PROMOTER_MIN)
    return score < PASSIVE_MIN


def segment_case(score: Any) -> ColumnElement[str]:
    """SQL twin of `segment_of`: the segment's name, null for a null score."""
    return case(
        (score >= PROMOTER_MIN, literal(Segment.PROMOTER.value)),
        (score >= PASSIVE_MIN, literal(Segment.PASSIVE.value)),
        (score.is_not(None), literal(Segment.DETRACTOR.value)),
        else_=None,
    )


def rank_case(score: Any) -> ColumnElement[int | None]:
    """SQL twin of `rank_of`."""
    return case(
        (score >= PROMOTER_MIN, SEGMENT_RANK[Segment.PROMOTER]),
        (score >= PASSIVE_MIN, SEGMENT_RANK[Segment.PASSIVE]),
        (score.is_not(None), SEGMENT_RANK[Segment.DETRACTOR]),
        else_=null(),
    )


def movement_between_case(before: Any, after: Any) -> ColumnElement[str | None]:
    """SQL twin of `movement_between`, over two ranks."""
    return case(
        (and_(before.is_(None), after.is_(None)), None),
        (before.is_(None), literal(Movement.NEW.value)),
        (after.is_(None), literal(Movement.LAPSED.value)),
        (after > before, literal(Movement.UP.value)),
        (after < before, literal(Movement.DOWN.value)),
        else_=literal(Movement.STAYED.value),
    )
