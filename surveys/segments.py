"""Segments: the one pure function that sorts a 0–10 score into promoter, passive, detractor."""

from enum import StrEnum

MIN_SCORE = 0
MAX_SCORE = 10
PROMOTER_MIN = 9
PASSIVE_MIN = 7


class Segment(StrEnum):
    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"


SEGMENTS = (Segment.PROMOTER, Segment.PASSIVE, Segment.DETRACTOR)
# Higher rank is better; movement compares ranks.
SEGMENT_RANK = {Segment.DETRACTOR: 0, Segment.PASSIVE: 1, Segment.PROMOTER: 2}


def is_valid_score(score: object) -> bool:
    return isinstance(score, int) and not isinstance(score, bool) and 0 <= score <= 10


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
