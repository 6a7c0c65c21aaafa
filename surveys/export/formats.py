"""Export columns and the streaming text writers: CSV (RFC 4180, quoted, defanged) and NDJSON.

A writer takes the columns and an iterator of row batches (sequences in column order, as the
database hands them over) and yields bytes, one chunk per batch: nothing holds more than a
batch. Values arrive in their final text form (ISO times, 'true'/'false'); typed formats
convert them with `typed_value`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

# Kinds: "int", "float", "bool", "time" (ISO 8601 text), "str" (a value Flywheel chose, such as
# a segment) and "text" (typed by a person or a customer's system, so it may be hostile).
KINDS = ("int", "float", "bool", "time", "str", "text")
# What a spreadsheet would run as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DEFANG_PREFIX = "'"
UTF8_BOM = "\ufeff".encode()

Batch = Sequence[Sequence[Any]]


@dataclass(frozen=True)
class Column:
    name: str
    kind: str


def defang(value: Any) -> Any:
    """Prefix text a spreadsheet would run as a formula with an apostrophe."""
    if value.__class__ is str and value and value[0] in FORMULA_STARTS:
        return DEFANG_PREFIX + value
    return value


def defanged_rows(columns: Sequence[Column], batch: Batch) -> Iterable[Sequence[Any]]:
    """The batch with its text cells defanged; rows that need nothing are passed through."""
    text = [i for i, c in enumerate(columns) if c.kind == "text"]
    starts = FORMULA_STARTS
    for row in batch:
        for i in text:
            v = row[i]
            if v.__class__ is str and v and v[0] in starts:
                break
        else:
            yield row
            continue
        fixed = list(row)
        for i in text:
            fixed[i] = defang(fixed[i])
        yield fixed


def typed_value(kind: str, value: Any) -> Any:
    """A cell as the Python value typed formats want (the database may hand over text)."""
    if value is None:
        return None
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return value in (1, "true")
    if kind in ("str", "text") and value.__class__ is not str:
        return str(value)
    return value


def csv_chunks(
    columns: Sequence[Column],
    batches: Iterable[Batch],
    *,
    excel: bool = False,
    defanged: bool = False,
) -> Iterator[bytes]:
    """RFC 4180 CSV (CRLF, quotes doubled) in UTF-8; `excel` adds the BOM Excel looks for.

    Text cells are defanged here unless the rows come `defanged` already (by the database).
    Every field is quoted: a spreadsheet that splits on another separator (`;` in many
    locales) would otherwise cut `ok;=cmd()` into a second cell that starts a formula.
    Numbers too, as the database may hand a number over as text (PostgreSQL's JSON values).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow([c.name for c in columns])
    head = buffer.getvalue().encode()
    yield (UTF8_BOM + head) if excel else head
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(batch if defanged else defanged_rows(columns, batch))
        yield buffer.getvalue().encode()


def ndjson_chunks(columns: Sequence[Column], batches: Iterable[Batch]) -> Iterator[bytes]:
    """One JSON object per line, typed values, exact text (JSON needs no defanging)."""
    names = [c.name for c in columns]
    kinds = [c.kind for c in columns]
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for batch in batches:
        lines = [
            dumps({n: typed_value(k, v) for n, k, v in zip(names, kinds, row, strict=True)})
            for row in batch
        ]
        if lines:
            yield ("\n".join(lines) + "\n").encode()
