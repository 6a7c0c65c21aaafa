"""CSV files of answers turned into batch rows: our own export's columns, Delighted's export
columns, or any CSV with a column mapping.

Rows come out in the shape `POST /responses/batch` takes (JSON values), so one loader checks
both doors. Reading is a stream: one CSV record at a time, with the line it starts on, so a
file of any length costs the memory of one chunk. Every row gets an idempotency key that a
re-run of the same file gives again: the source's answer id where the format has one (ours,
Delighted, a mapped `idempotency_key`), else a hash of the row's values.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from surveys.errors import Invalid
from surveys.export.formats import DEFANG_PREFIX, FORMULA_STARTS
from surveys.export.responses import PROPERTY_PREFIX

FORMATS = ("ours", "delighted", "mapping")
# What a column can be mapped to (`--map column=field`), besides property.<name>.
FIELDS = (
    "survey_id",
    "external_id",
    "email",
    "name",
    "score",
    "comment",
    "channel",
    "locale",
    "created_at",
    "idempotency_key",
    "excluded",
)
# Our export's columns that are read back (the others are worked out again: segment,
# movement, theme; or are the source's own ids: person_id, response_id as the key).
OURS = {name: name for name in FIELDS if name != "idempotency_key"}
# Delighted's export headers (case-insensitive), and those that are its own bookkeeping.
DELIGHTED = {
    "response id": "idempotency_key",
    "email": "email",
    "person email": "email",
    "name": "name",
    "person name": "name",
    "score": "score",
    "comment": "comment",
    "created at": "created_at",
    "response timestamp": "created_at",
    "date": "created_at",
}
DELIGHTED_SKIPPED = frozenset(
    {
        "person id",
        "survey type",
        "permalink",
        "updated at",
        "notes",
        "tags",
        "delighted source",
        "additional answers",
    }
)
_INTEGER = re.compile(r"-?[0-9]{1,18}")
_PROPERTY_LABEL = re.compile(r"(?i)^propert(?:y|ies)[:.]\s*")


@dataclass(frozen=True)
class SourceRow:
    """One CSV record: the line it starts on and the batch row it makes."""

    line: int
    row: dict[str, Any]


@dataclass(frozen=True)
class Plan:
    """Which column feeds which field; property columns by their property name."""

    fields: dict[int, str]
    properties: dict[int, str]
    key_prefix: str | None  # the idempotency key is prefix + the key column, else a hash
    channel: str | None
    undefang: bool


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """`column=field` pairs; Invalid names what is wrong."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, target = pair.partition("=")
        target = target.strip()
        if not sep or not column:
            raise Invalid(f"{pair!r} is not column=field", {"map": [pair]})
        if target not in FIELDS and not (
            target.startswith(PROPERTY_PREFIX) and len(target) > len(PROPERTY_PREFIX)
        ):
            raise Invalid(
                f"unknown field {target!r}: one of {', '.join(FIELDS)} or property.<name>",
                {"map": [pair]},
            )
        mapping[column] = target
    return mapping


def plan_columns(header: list[str], fmt: str, mapping: dict[str, str] | None = None) -> Plan:
    """The plan of a file from its header row."""
    fields: dict[int, str] = {}
    properties: dict[int, str] = {}
    if fmt == "ours":
        for i, name in enumerate(header):
            if name in OURS:
                fields[i] = OURS[name]
            elif name == "response_id":
                fields[i] = "idempotency_key"
            elif name.startswith(PROPERTY_PREFIX):
                properties[i] = name[len(PROPERTY_PREFIX) :]
        plan = Plan(fields, properties, "flywheel:", None, undefang=True)
    elif fmt == "delighted":
        for i, name in enumerate(header):
            low = name.strip().lower()
            if low in DELIGHTED:
                fields[i] = DELIGHTED[low]
            elif low and low not in DELIGHTED_SKIPPED:
                properties[i] = _PROPERTY_LABEL.sub("", name.strip()) or name.strip()
        plan = Plan(fields, properties, "delighted:", "import", undefang=False)
    elif fmt == "mapping":
        if not mapping:
            raise Invalid("the mapping format needs --map column=field", {"map": []})
        where = {name: i for i, name in enumerate(header)}
        missing = [column for column in mapping if column not in where]
        if missing:
            raise Invalid(f"no such columns: {', '.join(missing)}", {"map": missing})
        for column, target in mapping.items():
            if target.startswith(PROPERTY_PREFIX):
                properties[where[column]] = target[len(PROPERTY_PREFIX) :]
            else:
                fields[where[column]] = target
        plan = Plan(fields, properties, "", "import", undefang=False)
    else:
        raise Invalid(f"unknown format {fmt!r}", {"format": list(FORMATS)})
    named = set(fields.values())
    if "score" not in named or not named & {"external_id", "email"}:
        raise Invalid(
            "the file needs a score column and an external_id or email column",
            {"columns": header},
        )
    return plan


def read_rows(
    lines: Iterable[str], fmt: str, *, mapping: dict[str, str] | None, survey_id: int | None
) -> Iterator[SourceRow]:
    """Each record of a CSV text after its header, as a batch row with its starting line."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise Invalid("the file is empty", {})
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    plan = plan_columns(header, fmt, mapping)
    if survey_id is None and "survey_id" not in plan.fields.values():
        raise Invalid("name the survey (--survey) or map a survey_id column", {"survey": []})
    line = reader.line_num + 1
    for record in reader:
        if any(cell.strip() for cell in record):
            yield SourceRow(line, batch_row(record, plan, survey_id))
        line = reader.line_num + 1


def batch_row(record: list[str], plan: Plan, survey_id: int | None) -> dict[str, Any]:
    """One record as the batch takes a row: values the loader will check, typed where CSV
    text stands for a number, a boolean or a time."""
    values: dict[str, str] = {}
    for i, target in plan.fields.items():
        if i < len(record) and record[i] != "":
            values[target] = _undefanged(record[i]) if plan.undefang else record[i]
    person = {k: values[k] for k in ("external_id", "email", "name") if k in values}
    row: dict[str, Any] = {"person": person, "survey_id": survey_id}
    if survey_id is None:
        row["survey_id"] = _number(values.get("survey_id"))
    row["score"] = _number(values.get("score"))
    for name in ("comment", "locale"):
        if name in values:
            row[name] = values[name]
    row["channel"] = plan.channel or values.get("channel") or "import"
    if "created_at" in values:
        row["created_at"] = _time(values["created_at"])
    if "excluded" in values:
        row["excluded"] = {"true": True, "false": False}.get(values["excluded"].lower(), "?")
    properties = {
        name: _property(record[i], plan.undefang)
        for i, name in plan.properties.items()
        if i < len(record) and record[i] != ""
    }
    if plan.properties:
        # The file's property columns are the answer's whole snapshot, even when all empty.
        row["properties"] = properties
        if properties:
            person["properties"] = properties
    key = values.get("idempotency_key")
    if key is not None and plan.key_prefix is not None:
        row["idempotency_key"] = (plan.key_prefix + key)[:255]
    else:
        digest = hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode())
        row["idempotency_key"] = "row:" + digest.hexdigest()
    return row


def _undefanged(cell: str) -> str:
    """Our CSV export prefixes a text cell a spreadsheet would run as a formula; the stored
    text is without it."""
    if cell.startswith(DEFANG_PREFIX) and cell[1:2] and cell[1] in FORMULA_STARTS:
        return cell[1:]
    return cell


def _number(value: str | None) -> Any:
    """An integer where the text is one; else the text, for the loader to refuse."""
    if value is None:
        return None
    text = value.strip()
    return int(text) if _INTEGER.fullmatch(text) else value


def _time(value: str) -> str:
    """ISO 8601 text for the loader: unix seconds (Delighted's API and some of its exports)
    become a UTC time, and a trailing ' UTC' is read as UTC."""
    text = value.strip()
    if _INTEGER.fullmatch(text):
        try:
            return datetime.fromtimestamp(int(text), UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            return value
    if text.upper().endswith(" UTC"):
        text = text[:-4].strip() + "+00:00"
    return text


def _property(cell: str, undefang: bool) -> Any:
    """CSV holds text: a number or a boolean written by an export is read back as one. A
    cell our export defanged was text ("-1" among plan names), and stays text."""
    if undefang and _undefanged(cell) != cell:
        return _undefanged(cell)
    if _INTEGER.fullmatch(cell) and str(int(cell)) == cell:
        return int(cell)
    if cell in ("true", "false"):
        return cell == "true"
    try:
        number = float(cell)
    except ValueError:
        return cell
    return number if math.isfinite(number) and repr(number) == cell else cell
