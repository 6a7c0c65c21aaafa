"""The SQL twins in `surveys.segments` agree with their Python rules for every score."""

from __future__ import annotations

import pytest
from sqlalchemy import Integer, create_engine, literal, select

from surveys.segments import (
    SEGMENTS,
    in_segment,
    movement_between,
    movement_between_case,
    rank_case,
    rank_of,
    segment_case,
    segment_of,
)

SCORES = [None, *range(11)]
RANKS = [None, 0, 1, 2]


@pytest.fixture(scope="module")
def run():
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        yield lambda expr: connection.scalar(select(expr))
    engine.dispose()


@pytest.mark.parametrize("score", SCORES)
def test_segment_and_rank_cases_match_python(run, score):
    value = literal(score, Integer)
    assert run(segment_case(value)) == segment_of(score)
    assert run(rank_case(value)) == rank_of(score)
    for segment in SEGMENTS:
        assert bool(run(in_segment(value, segment))) == (segment_of(score) == segment)


@pytest.mark.parametrize("before", RANKS)
@pytest.mark.parametrize("after", RANKS)
def test_movement_case_matches_python(run, before, after):
    got = run(movement_between_case(literal(before, Integer), literal(after, Integer)))
    assert got == movement_between(before, after)


def test_ranks_order_segments_and_movement_words():
    assert [rank_of(s) for s in (0, 6, 7, 8, 9, 10)] == [0, 0, 1, 1, 2, 2]
    assert movement_between(0, 2) == "up"
    assert movement_between(2, 1) == "down"
    assert movement_between(1, 1) == "stayed"
    assert movement_between(None, 0) == "new"
    assert movement_between(2, None) == "lapsed"
    assert movement_between(None, None) is None
