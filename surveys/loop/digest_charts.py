"""The digest's charts as PNG images drawn on the server with Pillow: figures in, bytes out.

Mail clients show neither script nor SVG reliably, but every one shows a PNG attached as an
inline part. Images are drawn at twice their displayed size so they stay sharp on dense
screens; values are written next to the marks and significant changes carry their own shape,
so nothing is told by colour alone. The caller writes the alt text (`trend_alt`, `bar_alt`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Protocol

from PIL import Image, ImageDraw, ImageFont

SCALE = 2
TREND_SIZE = (560, 220)
BAR_SIZE = (560, 72)
INK, MUTED, LINE, ACCENT, BAND = "#1f2933", "#52606d", "#cbd2d9", "#1d4ed8", "#dbe4ff"
SEGMENT_COLOURS = {"detractors": "#b42318", "passives": "#7a6a00", "promoters": "#166534"}


class Point(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def nps(self) -> float | None: ...
    @property
    def low(self) -> float | None: ...
    @property
    def high(self) -> float | None: ...
    @property
    def significant(self) -> bool: ...


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's bundled font: the same drawing on every machine, no system fonts needed.
    return ImageFont.load_default(size=size * SCALE)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _y_range(points: Sequence[Point]) -> tuple[int, int]:
    """The NPS scale shown: the band's extent widened to multiples of 20, within ±100."""
    values = [v for p in points for v in (p.low, p.high, p.nps) if v is not None]
    if not values:
        return -100, 100
    low = max(-100, int((min(values) - 1) // 20 * 20))
    high = min(100, int(-((-max(values) - 1) // 20) * 20))
    return (low, high) if high > low else (low - 20, high + 20)


def nps_trend(points: Sequence[Point], title: str) -> bytes:
    """NPS per period: its 95% band, the line through the estimates, each value written above
    its point, and a diamond where the change from the period before is significant."""
    width, height = TREND_SIZE
    img = Image.new("RGB", (width * SCALE, height * SCALE), "white")
    draw = ImageDraw.Draw(img)
    small, label_font = _font(12), _font(13)
    left, right, top, bottom = 44, 14, 30, 40
    draw.text((left * SCALE, 6 * SCALE), title, fill=INK, font=_font(15))
    low, high = _y_range(points)

    def y(value: float) -> float:
        return (top + (high - value) / (high - low) * (height - top - bottom)) * SCALE

    step = (width - left - right) / max(len(points), 1)

    def x(i: int) -> float:
        return (left + step * (i + 0.5)) * SCALE

    for tick in range(low, high + 1, 20):
        draw.line([(left * SCALE, y(tick)), ((width - right) * SCALE, y(tick))], fill=LINE)
        text = str(tick)
        w = draw.textlength(text, font=small)
        draw.text(((left - 6) * SCALE - w, y(tick) - 7 * SCALE), text, fill=MUTED, font=small)
    pairs = list(zip(range(len(points)), points, strict=True))
    for (i, a), (j, b) in zip(pairs, pairs[1:], strict=False):
        if None in (a.low, a.high, b.low, b.high):
            continue
        band = [(x(i), y(a.high)), (x(j), y(b.high)), (x(j), y(b.low)), (x(i), y(a.low))]
        draw.polygon(band, fill=BAND)
    for i, p in pairs:
        if p.low is not None and p.high is not None:
            draw.line([(x(i), y(p.high)), (x(i), y(p.low))], fill="#9db4f5", width=SCALE)
    for (i, a), (j, b) in zip(pairs, pairs[1:], strict=False):
        if a.nps is not None and b.nps is not None:
            draw.line([(x(i), y(a.nps)), (x(j), y(b.nps))], fill=ACCENT, width=2 * SCALE)
    for i, p in pairs:
        if p.nps is not None:
            cx, cy, r = x(i), y(p.nps), (6 if p.significant else 4) * SCALE
            if p.significant:
                diamond = [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)]
                draw.polygon(diamond, fill="white", outline=ACCENT, width=2 * SCALE)
            else:
                draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=ACCENT)
            text = _fmt(p.nps)
            w = draw.textlength(text, font=label_font)
            draw.text((cx - w / 2, cy - r - 16 * SCALE), text, fill=INK, font=label_font)
        text = p.label.split("-", 1)[-1]
        w = draw.textlength(text, font=small)
        draw.text((x(i) - w / 2, (height - bottom + 6) * SCALE), text, fill=MUTED, font=small)
    legend = "Shaded: 95% interval.  Diamond: significant change from the period before."
    draw.text((left * SCALE, (height - 18) * SCALE), legend, fill=MUTED, font=small)
    return _png(img)


def segment_bar(promoters_pct: float, passives_pct: float, detractors_pct: float) -> bytes:
    """One bar split into detractors, passives and promoters, each share named below it."""
    width, height = BAR_SIZE
    img = Image.new("RGB", (width * SCALE, height * SCALE), "white")
    draw = ImageDraw.Draw(img)
    font = _font(13)
    left, right, bar_top, bar_height = 4, 4, 6, 26
    span = (width - left - right) * SCALE
    shares = (
        ("detractors", "Detractors", detractors_pct),
        ("passives", "Passives", passives_pct),
        ("promoters", "Promoters", promoters_pct),
    )
    start = left * SCALE
    for key, _, pct in shares:
        end = start + span * pct / 100.0
        if end > start:
            box = [start, bar_top * SCALE, end, (bar_top + bar_height) * SCALE]
            draw.rectangle(box, fill=SEGMENT_COLOURS[key], outline="white", width=SCALE)
        start = end
    cursor = left * SCALE
    for key, name, pct in shares:
        y = (bar_top + bar_height + 12) * SCALE
        draw.rectangle(
            [cursor, y + 2 * SCALE, cursor + 10 * SCALE, y + 12 * SCALE], fill=SEGMENT_COLOURS[key]
        )
        text = f"{name} {_fmt(pct)}%"
        draw.text((cursor + 14 * SCALE, y), text, fill=INK, font=font)
        cursor += 14 * SCALE + draw.textlength(text, font=font) + 24 * SCALE
    return _png(img)


def trend_alt(points: Sequence[Point], title: str) -> str:
    """The trend in words, for readers who cannot see the image."""
    parts = []
    for p in points:
        if p.nps is None:
            parts.append(f"{p.label}: no answers")
            continue
        band = (
            f" (95% interval {_fmt(p.low)} to {_fmt(p.high)})"
            if p.low is not None and p.high is not None
            else ""
        )
        mark = ", a significant change" if p.significant else ""
        parts.append(f"{p.label}: {_fmt(p.nps)}{band}{mark}")
    return f"{title}. " + "; ".join(parts) + "." if parts else f"{title}: no answers yet."


def bar_alt(promoters_pct: float, passives_pct: float, detractors_pct: float) -> str:
    return (
        f"Segments: detractors {_fmt(detractors_pct)}%, passives {_fmt(passives_pct)}%, "
        f"promoters {_fmt(promoters_pct)}%."
    )
