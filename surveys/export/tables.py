"""The tables behind the NPS and movement figures, flattened for export: one row per bucket
or per flow between segments.

`nps_metrics` and `movement` answer small nested structures; analysts want them flat, with
the interval and the change beside each bucket. Rows come in the export writers' text
form (ISO times, 'true'/'false'), so every format writes them the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from surveys.export.formats import Column
from surveys.segments import SEGMENT_RANK, Movement, Segment, movement_between

SEGMENT_COUNTS = ("promoters", "passives", "detractors")
METRIC_COLUMNS = (
    Column("level", "str"),
    Column("key", "text"),
    Column("start", "time"),
    Column("end", "time"),
    Column("responses", "int"),
    *(Column(name, "int") for name in SEGMENT_COUNTS),
    *(Column(f"{name}_pct", "float") for name in SEGMENT_COUNTS),
    Column("nps", "float"),
    Column("margin_of_error", "float"),
    Column("ci_low", "float"),
    Column("ci_high", "float"),
    Column("low_sample", "bool"),
    Column("change", "float"),
    Column("change_ci_low", "float"),
    Column("change_ci_high", "float"),
    Column("change_significant", "bool"),
)
WEIGHTED_COLUMNS = (
    *(Column(f"weighted_{name}", "float") for name in SEGMENT_COUNTS),
    Column("weighted_total", "float"),
    Column("effective_n", "float"),
)


def iso_text(value: datetime | None) -> str | None:
    """A naive-UTC or aware time as the export's ISO 8601 text."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"


def bool_text(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def _metric_row(level: str, bucket: dict[str, Any], weighted: bool) -> list[Any]:
    change = bucket.get("change") or {}
    row = [
        level,
        bucket.get("key"),
        iso_text(bucket.get("start")),
        iso_text(bucket.get("end")),
        bucket["responses"],
        *(bucket[name] for name in SEGMENT_COUNTS),
        *(bucket[f"{name}_pct"] for name in SEGMENT_COUNTS),
        bucket["nps"],
        bucket["margin_of_error"],
        bucket["ci_low"],
        bucket["ci_high"],
        bool_text(bucket["low_sample"]),
        change.get("change"),
        change.get("ci_low"),
        change.get("ci_high"),
        bool_text(change.get("significant")),
    ]
    if weighted:
        w = bucket["weighted"]
        row += [w["promoters"], w["passives"], w["detractors"], w["total"], w["effective_n"]]
    return row


def metrics_table(result: dict[str, Any]) -> tuple[tuple[Column, ...], list[Sequence[Any]]]:
    """The overall figure first (level 'overall'), then one row per bucket."""
    weighted = result.get("weight") is not None
    columns = METRIC_COLUMNS + (WEIGHTED_COLUMNS if weighted else ())
    rows = [_metric_row("overall", {**result["overall"], "key": None}, weighted)]
    rows += [_metric_row("bucket", bucket, weighted) for bucket in result["buckets"]]
    return columns, rows


MOVEMENT_COLUMNS = (
    Column("from_period", "str"),
    Column("to_period", "str"),
    Column("from_segment", "str"),
    Column("to_segment", "str"),
    Column("movement", "str"),
    Column("people", "int"),
    Column("pct_of_from_segment", "float"),
)


def _direction(a: str, b: str) -> str:
    return str(movement_between(SEGMENT_RANK[Segment(a)], SEGMENT_RANK[Segment(b)]))


def _pair_rows(pair: dict[str, Any], weighted: bool) -> list[list[Any]]:
    keys = (pair["from"]["key"], pair["to"]["key"])
    weights = pair.get("weighted") or {}
    rows: list[list[Any]] = []
    for a, row in pair["matrix"].items():
        for b, cell in row.items():
            extra = [weights["matrix"][a][b]["weight"]] if weighted else []
            rows.append([*keys, a, b, _direction(a, b), cell["count"], cell["pct"], *extra])
    for kind in (Movement.NEW.value, Movement.LAPSED.value):
        for segment, people in pair[kind].items():
            if segment == "total":
                continue
            sides = (None, segment) if kind == Movement.NEW else (segment, None)
            extra = [weights[kind][segment]] if weighted else []
            rows.append([*keys, *sides, kind, people, None, *extra])
    return rows


def movement_table(result: dict[str, Any]) -> tuple[tuple[Column, ...], list[Sequence[Any]]]:
    """One row per flow between two periods: the 3x3 matrix, then new and lapsed people.

    `result` is `surveys.analytics.movement.movement`'s answer, one pair or a `series` of pairs.
    """
    pairs = result.get("series", [result])
    # Weighted only when the movement answer carries weights (an empty `weight=` does not).
    weighted = any(pair.get("weighted") for pair in pairs)
    columns = MOVEMENT_COLUMNS + ((Column("weight", "float"),) if weighted else ())
    rows = [row for pair in pairs for row in _pair_rows(pair, weighted)]
    return columns, rows
