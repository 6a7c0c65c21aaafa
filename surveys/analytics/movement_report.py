"""Turns one pair of periods' cell counts into the movement answer: matrix, new, lapsed, shares.

Pure: the SQL in `movement` yields one row per (segment in A, segment in B) with its
count and summed weight (a missing segment is None: new or lapsed); everything here is
arithmetic over those at most 15 cells.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from surveys.analytics.movement_stats import paired_nps_change
from surveys.segments import SEGMENT_RANK, SEGMENTS, movement_between

# Segments travel through SQL as their rank: 2 promoter, 1 passive, 0 detractor.
RANKED = tuple(sorted(SEGMENTS, key=lambda s: -SEGMENT_RANK[s]))
NET = {2: 1, 1: 0, 0: -1}  # promoter +1, passive 0, detractor -1: the NPS contribution


@dataclass(frozen=True)
class Cell:
    count: int = 0
    weight: float = 0.0


Cells = Mapping[tuple[int | None, int | None], Cell]


def _pct(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def _sums(cells: Cells, attr: str) -> dict[str, float]:
    """Totals of one measure (count or weight) by kind of movement."""
    out = dict.fromkeys(
        ("from_respondents", "to_respondents", "repeat", "stayed", "moved", "moved_up",
         "moved_down", "new", "lapsed"),
        0.0,
    )  # fmt: skip
    for (a, b), cell in cells.items():
        value = getattr(cell, attr)
        if a is not None:
            out["from_respondents"] += value
        if b is not None:
            out["to_respondents"] += value
        if a is None and b is not None:
            out["new"] += value
        elif b is None and a is not None:
            out["lapsed"] += value
        elif a is not None and b is not None:
            out["repeat"] += value
            kind = movement_between(a, b)
            out["stayed" if kind == "stayed" else "moved"] += value
            if kind != "stayed":
                out[f"moved_{kind}"] += value
    return out


def _by_segment(cells: Cells, attr: str, side: str) -> dict[str, float]:
    """new (segment in B, none in A) or lapsed (segment in A, none in B), by segment."""
    out: dict[str, float] = {s.value: 0 for s in RANKED}
    for (a, b), cell in cells.items():
        if side == "new" and a is None and b is not None:
            out[RANKED[2 - b].value] += getattr(cell, attr)
        if side == "lapsed" and b is None and a is not None:
            out[RANKED[2 - a].value] += getattr(cell, attr)
    out["total"] = sum(out.values())
    return out


def _matrix(cells: Cells, attr: str) -> dict[str, dict[str, dict[str, Any]]]:
    matrix: dict[str, dict[str, dict[str, Any]]] = {}
    for a in (2, 1, 0):
        row_total = sum(getattr(cells.get((a, b), Cell()), attr) for b in (2, 1, 0))
        row = {}
        for b in (2, 1, 0):
            value = getattr(cells.get((a, b), Cell()), attr)
            row[RANKED[2 - b].value] = {attr: value, "pct": _pct(value, row_total)}
        matrix[RANKED[2 - a].value] = row
    return matrix


def _shares(totals: Mapping[str, float]) -> dict[str, float | None]:
    repeat = totals["repeat"]
    return {
        "stayed_pct": _pct(totals["stayed"], repeat),
        "moved_up_pct": _pct(totals["moved_up"], repeat),
        "moved_down_pct": _pct(totals["moved_down"], repeat),
    }


def _rounded(values: Mapping[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in values.items()}


def _weighted(cells: Cells) -> dict[str, Any]:
    totals = _sums(cells, "weight")
    moved_down = totals["moved_down"]
    detractors = sum(c.weight for (a, b), c in cells.items() if b == 0)
    down_to_detractor = sum(
        c.weight for (a, b), c in cells.items() if b == 0 and a is not None and a > 0
    )
    matrix = _matrix(cells, "weight")
    for row in matrix.values():
        for cell in row.values():
            cell["weight"] = round(cell["weight"], 4)
    return {
        "matrix": matrix,
        "new": _rounded(_by_segment(cells, "weight", "new")),
        "lapsed": _rounded(_by_segment(cells, "weight", "lapsed")),
        "totals": _rounded(totals),
        **_shares(totals),
        "revenue_at_risk": _rounded(
            {
                "moved_down": moved_down,
                "detractors": detractors,
                "total": moved_down + detractors - down_to_detractor,
            }
        ),
    }


def pair_report(cells: Cells, weighted_cells: Cells | None = None) -> dict[str, Any]:
    """The movement between two periods from their cells (counts; weights when given)."""
    counts = {k: Cell(c.count) for k, c in cells.items()}
    totals = {k: int(v) for k, v in _sums(counts, "count").items()}
    repeat = {(a, b): c.count for (a, b), c in cells.items() if a is not None and b is not None}
    net_from = sum(NET[a] * n for (a, _), n in repeat.items())
    net_to = sum(NET[b] * n for (_, b), n in repeat.items())
    sum_d2 = sum((NET[b] - NET[a]) ** 2 * n for (a, b), n in repeat.items())
    change = paired_nps_change(totals["repeat"], net_from, net_to, sum_d2)
    return {
        "matrix": _matrix(counts, "count"),
        "new": {k: int(v) for k, v in _by_segment(counts, "count", "new").items()},
        "lapsed": {k: int(v) for k, v in _by_segment(counts, "count", "lapsed").items()},
        "totals": totals,
        **_shares(totals),
        "repeat_nps": {
            "n": change.n,
            "nps_from": change.nps_from,
            "nps_to": change.nps_to,
            "change": change.change,
            "margin_of_error": change.margin_of_error,
            "ci_low": change.ci_low,
            "ci_high": change.ci_high,
            "significant": change.significant,
            "low_sample": change.low_sample,
        },
        "weighted": None if weighted_cells is None else _weighted(weighted_cells),
    }
