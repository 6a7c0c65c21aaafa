"""Segment bands at every edge."""

import pytest

from surveys.segments import Segment, score_range, segment_of


@pytest.mark.parametrize(
    ("score", "segment"),
    [
        (0, Segment.DETRACTOR),
        (6, Segment.DETRACTOR),
        (7, Segment.PASSIVE),
        (8, Segment.PASSIVE),
        (9, Segment.PROMOTER),
        (10, Segment.PROMOTER),
    ],
)
def test_band_edges(score, segment):
    assert segment_of(score) is segment


def test_no_score_has_no_segment():
    assert segment_of(None) is None


@pytest.mark.parametrize("bad", [-1, 11, 7.5, True, "9"])
def test_invalid_scores_are_refused(bad):
    with pytest.raises(ValueError):
        segment_of(bad)


def test_score_ranges_cover_0_to_10_once():
    covered = []
    for seg in Segment:
        low, high = score_range(seg)
        covered += list(range(low, high + 1))
        assert all(segment_of(s) is seg for s in range(low, high + 1))
    assert sorted(covered) == list(range(11))
