"""The team app's charts as inline SVG drawn on the server: pure functions, figures in, markup out.

No script and no `style` attribute: only presentation attributes (fill, stroke, x, y), which a
strict `style-src 'self'` allows. Every chart is an `img` with a title and a description; the
page puts a table of the same figures next to it, and shapes or text marks, not colour alone,
tell segments and significant changes apart. The same geometry can be rasterised for email.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

INK, MUTED, LINE, ACCENT = "#1f2933", "#52606d", "#cbd2d9", "#1d4ed8"
BAND = "#dbe4ff"
# Segment colours meet 3:1 against white; bars also carry their segment's name below.
SEGMENT_COLOURS = {"detractor": "#b42318", "passive": "#7a6a00", "promoter": "#166534"}


@dataclass(frozen=True)
class TrendPoint:
    label: str
    nps: float | None
    low: float | None = None
    high: float | None = None
    change: float | None = None
    significant: bool = False


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(width: int, height: int, title: str, desc: str, body: list[str], cls: str) -> Markup:
    ident = f"{cls}-{zlib.crc32((title + desc).encode()):08x}"
    head = (
        f'<svg class="chart {cls}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, sans-serif" font-size="14">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


def nps_trend(points: Sequence[TrendPoint], title: str = "NPS per period") -> Markup:
    """NPS per period on a −100..100 axis: the 95% band shaded, the NPS as a line of dots,
    a significant change from the previous period as a larger ringed dot marked '▲' or '▼'."""
    width, height, left, right, top, bottom = 480, 260, 40, 12, 18, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(points)

    def x(i: int) -> float:
        return left + (plot_w / 2 if n == 1 else i * plot_w / (n - 1))

    def y(v: float) -> float:
        return top + (100 - v) * plot_h / 200

    body: list[str] = []
    for tick in (-100, -50, 0, 50, 100):
        colour = MUTED if tick == 0 else LINE
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="{colour}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="{MUTED}">'
            f"{tick}</text>"
        )
    known = [(i, p) for i, p in enumerate(points) if p.nps is not None]
    banded = [(i, p) for i, p in known if p.low is not None and p.high is not None]
    if len(banded) > 1:
        upper = [f"{x(i):.1f},{y(p.high):.1f}" for i, p in banded]  # type: ignore[arg-type]
        lower = [f"{x(i):.1f},{y(p.low):.1f}" for i, p in reversed(banded)]  # type: ignore[arg-type]
        body.append(f'<polygon points="{" ".join(upper + lower)}" fill="{BAND}"/>')
    for i, p in banded:
        body.append(
            f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{y(p.high):.1f}" '  # type: ignore[arg-type]
            f'y2="{y(p.low):.1f}" stroke="{ACCENT}" stroke-width="1" stroke-dasharray="3 2"/>'  # type: ignore[arg-type]
        )
    if len(known) > 1:
        line = " ".join(f"{x(i):.1f},{y(p.nps):.1f}" for i, p in known)  # type: ignore[arg-type]
        body.append(f'<polyline points="{line}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    for i, p in known:
        cx, cy = x(i), y(p.nps)  # type: ignore[arg-type]
        if p.significant:
            body.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="7" fill="#fff" stroke="{INK}" '
                f'stroke-width="2"/><circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.5" fill="{INK}"/>'
            )
        else:
            body.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{ACCENT}"/>')
        anchor = "end" if n > 1 and i == n - 1 else "start" if n > 1 and i == 0 else "middle"
        mark = ("▲" if (p.change or 0) > 0 else "▼") if p.significant else ""
        body.append(
            f'<text x="{cx:.1f}" y="{cy - 11:.1f}" text-anchor="{anchor}" fill="{INK}" '
            f'font-weight="600">{_fmt(p.nps)}{mark}</text>'  # type: ignore[arg-type]
        )
    step = max(1, -(-n // 5))  # at most five period labels, so they never overlap
    for i, p in enumerate(points):
        if i % step == 0 or i == n - 1:
            anchor = "end" if n > 1 and i == n - 1 else "start" if n > 1 and i == 0 else "middle"
            body.append(
                f'<text x="{x(i):.1f}" y="{height - bottom + 18}" text-anchor="{anchor}" '
                f'fill="{MUTED}">{escape(p.label)}</text>'
            )
    described = ", ".join(
        f"{p.label}: {'no answers' if p.nps is None else _fmt(p.nps)}"
        + (" (significant change)" if p.significant else "")
        for p in points
    )
    return _svg(width, height, title, f"NPS from −100 to 100. {described}.", body, "trend")


def segment_of_score(score: int) -> str:
    """The segment a 0–10 score falls in, for the histogram's colours and labels only; the rule
    itself lives in surveys.segments, which the figures use."""
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


def score_histogram(counts: Sequence[int], title: str = "Answers by score") -> Markup:
    """Eleven bars, scores 0 to 10, each with its count above it; the segment of each group of
    bars written beneath a bracket under them, so colour is never the only cue."""
    width, height, left, top, bottom = 480, 220, 4, 22, 48
    plot_h = height - top - bottom
    slot = (width - 2 * left) / 11
    peak = max(counts) if counts and max(counts) > 0 else 1
    body: list[str] = []
    for score, count in enumerate(counts):
        bar_h = count * plot_h / peak
        bx = left + score * slot + slot * 0.15
        by = top + plot_h - bar_h
        colour = SEGMENT_COLOURS[segment_of_score(score)]
        body.append(
            f'<rect x="{bx:.1f}" y="{by:.1f}" width="{slot * 0.7:.1f}" height="{bar_h:.1f}" '
            f'fill="{colour}"/>'
            f'<text x="{bx + slot * 0.35:.1f}" y="{by - 5:.1f}" text-anchor="middle" '
            f'fill="{INK}">{count}</text>'
            f'<text x="{bx + slot * 0.35:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
            f'fill="{INK}" font-weight="600">{score}</text>'
        )
    body.append(
        f'<line x1="{left}" x2="{width - left}" y1="{top + plot_h}" y2="{top + plot_h}" '
        f'stroke="{MUTED}"/>'
    )
    for name, first, last in (("Detractors", 0, 6), ("Passives", 7, 8), ("Promoters", 9, 10)):
        mid = left + (first + last + 1) * slot / 2
        # A bracket under the group's bars says which scores the name covers.
        x1, x2, under = left + first * slot + 4, left + (last + 1) * slot - 4, height - 26
        body.append(
            f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{under}" y2="{under}" stroke="{MUTED}"/>'
            f'<text x="{mid:.1f}" y="{height - 8}" text-anchor="middle" fill="{MUTED}">'
            f"{name}</text>"
        )
    described = ", ".join(f"score {s}: {c}" for s, c in enumerate(counts))
    segments = "detractors 0–6, passives 7–8, promoters 9–10"
    return _svg(
        width, height, title, f"Answers per score ({segments}). {described}.", body, "histogram"
    )


def sparkline(values: Sequence[float | None], label: str) -> Markup:
    """A small line of a series (a theme's share per quarter), its last point dotted; the
    figures themselves are in the text beside it."""
    width, height, pad = 120, 32, 4
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    body: list[str] = []
    if known:
        low, high = min(v for _, v in known), max(v for _, v in known)
        span = (high - low) or 1.0
        n = max(len(values) - 1, 1)

        def pos(i: int, v: float) -> str:
            return (
                f"{pad + i * (width - 2 * pad) / n:.1f},"
                f"{height - pad - (v - low) * (height - 2 * pad) / span:.1f}"
            )

        points = " ".join(pos(i, v) for i, v in known)
        body.append(f'<polyline points="{points}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
        cx, cy = pos(*known[-1]).split(",")
        body.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{INK}"/>')
    return _svg(width, height, label, label, body, "spark")
