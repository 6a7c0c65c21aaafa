"""The chart drawing as pure functions, without an app: valid SVG with a title and description
that say the figures, marks beyond colour, no script and no style attribute."""

from __future__ import annotations

from xml.etree import ElementTree

from service.app import charts

SVG = "{http://www.w3.org/2000/svg}"


def parsed(markup: str) -> ElementTree.Element:
    root = ElementTree.fromstring(str(markup))
    assert root.tag == SVG + "svg" and root.get("role") == "img"
    for element in root.iter():
        assert "style" not in element.attrib and element.tag != SVG + "script"
    return root


def test_trend_band_line_and_significant_mark():
    points = [
        charts.TrendPoint("2026-Q1", 10.0, -20.0, 40.0),
        charts.TrendPoint("2026-Q2", 60.0, 40.0, 80.0, change=50.0, significant=True),
        charts.TrendPoint("2026-Q3", None),
        charts.TrendPoint("2026-Q4", -30.5, -60.0, 0.0, change=-90.5, significant=True),
    ]
    root = parsed(charts.nps_trend(points, "NPS per quarter"))
    assert root.find(SVG + "title").text == "NPS per quarter"
    desc = root.find(SVG + "desc").text
    assert "2026-Q2: 60 (significant change)" in desc and "2026-Q3: no answers" in desc
    assert len(root.findall(SVG + "polygon")) == 1  # the band
    texts = [t.text for t in root.iter(SVG + "text")]
    assert "60▲" in texts and "-30.5▼" in texts and "10" in texts
    assert {"2026-Q1", "2026-Q4"} <= set(texts)
    # 0 on the axis is 100 below 100: half the plot's height.
    zero = next(
        t for t in root.iter(SVG + "text") if t.text == "0" and t.get("text-anchor") == "end"
    )
    top = next(t for t in root.iter(SVG + "text") if t.text == "100")
    bottom = next(t for t in root.iter(SVG + "text") if t.text == "-100")
    assert float(zero.get("y")) - float(top.get("y")) == float(bottom.get("y")) - float(
        zero.get("y")
    )


def test_a_single_period_and_no_period_draw_without_error():
    assert "<polyline" not in charts.nps_trend([charts.TrendPoint("2026-Q1", 5.0, -10.0, 20.0)])
    parsed(charts.nps_trend([]))


def test_histogram_bars_scale_and_name_their_segments():
    counts = [0, 1, 0, 0, 0, 0, 2, 0, 3, 0, 4]
    root = parsed(charts.score_histogram(counts))
    bars = root.findall(SVG + "rect")
    assert len(bars) == 11
    heights = [float(b.get("height")) for b in bars]
    assert heights[10] == max(heights) and heights[0] == 0
    assert heights[6] == heights[10] / 2
    assert {bars[0].get("fill"), bars[7].get("fill"), bars[9].get("fill")} == set(
        charts.SEGMENT_COLOURS.values()
    )
    texts = [t.text for t in root.iter(SVG + "text")]
    assert {"Detractors", "Passives", "Promoters"} <= set(texts)
    assert "passives 7–8" in root.find(SVG + "desc").text
    assert "score 10: 4" in root.find(SVG + "desc").text
    parsed(charts.score_histogram([0] * 11))


def test_sparkline_and_escaping():
    root = parsed(charts.sparkline([0.1, None, 0.3, 0.2], "Share <per> quarter"))
    assert root.find(SVG + "title").text == "Share <per> quarter"
    assert len(root.find(SVG + "polyline").get("points").split()) == 3
    assert root.find(SVG + "polyline") is not None and root.find(SVG + "circle") is not None
    assert parsed(charts.sparkline([None, None], "nothing")).find(SVG + "polyline") is None
    assert charts.segment_of_score(6) == "detractor" and charts.segment_of_score(7) == "passive"
