"""The digest's pure parts: which period a digest covers, its charts' images and alt text."""

from __future__ import annotations

import io
from datetime import datetime

from PIL import Image

from surveys.loop.digest import TrendPoint
from surveys.loop.digest_charts import (
    BAR_SIZE,
    SCALE,
    TREND_SIZE,
    _y_range,
    bar_alt,
    nps_trend,
    segment_bar,
    trend_alt,
)
from surveys.loop.digest_subscriptions import covered_period


def _open(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_the_covered_period_is_the_last_complete_one_in_the_projects_zone():
    # Monday 03:00 UTC is still Sunday evening in New York: the week before is not over there.
    monday = datetime(2026, 7, 6, 3, 0)
    assert covered_period(monday, "weekly", "UTC").label == "2026-W27"
    assert covered_period(monday, "weekly", "America/New_York").label == "2026-W26"
    assert covered_period(monday, "monthly", "UTC").label == "2026-06"
    june = covered_period(monday, "monthly", "Europe/Berlin")
    # Berlin's June starts at 22:00 UTC on 31 May (summer time).
    assert (june.start, june.end) == (datetime(2026, 5, 31, 22), datetime(2026, 6, 30, 22))


def test_the_scale_widens_the_band_to_twenties_within_a_hundred():
    points = [TrendPoint("2026-W01", 12, -3, 27), TrendPoint("2026-W02", 30, 21, 39)]
    assert _y_range(points) == (-20, 40)
    assert _y_range([TrendPoint("a", 90, 70, 100)]) == (60, 100)
    assert _y_range([TrendPoint("a", None, None, None)]) == (-100, 100)


def test_the_trend_is_a_png_of_its_size_with_or_without_answers():
    points = [
        TrendPoint("2026-W01", 12, -3, 27),
        TrendPoint("2026-W02", None, None, None),
        TrendPoint("2026-W03", 55, 44, 66, significant=True),
    ]
    image = _open(nps_trend(points, "NPS per week"))
    assert image.format == "PNG"
    assert image.size == (TREND_SIZE[0] * SCALE, TREND_SIZE[1] * SCALE)
    assert _open(nps_trend([], "NPS per week")).size == image.size


def test_the_segment_bar_draws_each_share_in_its_colour():
    image = _open(segment_bar(50.0, 25.0, 25.0)).convert("RGB")
    assert image.size == (BAR_SIZE[0] * SCALE, BAR_SIZE[1] * SCALE)
    middle = 20 * SCALE
    span = image.size[0] - 8 * SCALE
    # Detractors fill the first quarter, passives the second, promoters the rest.
    assert image.getpixel((4 * SCALE + span // 8, middle)) == (0xB4, 0x23, 0x18)
    assert image.getpixel((4 * SCALE + 3 * span // 8, middle)) == (0x7A, 0x6A, 0x00)
    assert image.getpixel((4 * SCALE + 3 * span // 4, middle)) == (0x16, 0x65, 0x34)


def test_alt_texts_say_every_figure():
    points = [
        TrendPoint("2026-W01", 12.5, -3, 27),
        TrendPoint("2026-W02", None, None, None),
        TrendPoint("2026-W03", 55, 44, 66, significant=True),
    ]
    assert trend_alt(points, "NPS per week") == (
        "NPS per week. 2026-W01: 12.5 (95% interval -3 to 27); 2026-W02: no answers; "
        "2026-W03: 55 (95% interval 44 to 66), a significant change."
    )
    assert trend_alt([], "NPS per week") == "NPS per week: no answers yet."
    assert bar_alt(50, 25.25, 24.75) == (
        "Segments: detractors 24.8%, passives 25.2%, promoters 50%."
    )
