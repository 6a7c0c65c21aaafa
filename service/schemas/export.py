"""Schemas of the export queries: the response filters plus format, pii, excel, properties."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from service.schemas.metrics import MetricsArgs
from service.schemas.movement import MovementArgs
from service.schemas.responses import ResponseFilterArgs
from surveys.export.responses import FORMATS, MAX_PROPERTY_COLUMNS

FORMAT_DESCRIPTION = (
    "csv (RFC 4180, UTF-8, formula cells defanged), ndjson (one JSON object per line), "
    "xlsx (Excel workbook) or parquet (typed, for pandas and warehouses)."
)


class PropertyNames(fields.String):
    """Comma-separated property names; empty means none."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> tuple[str, ...]:
        text = super()._deserialize(value, attr, data, **kwargs)
        names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
        if len(names) > MAX_PROPERTY_COLUMNS:
            raise ValidationError(f"at most {MAX_PROPERTY_COLUMNS} property names")
        if any(len(n) > 100 for n in names):
            raise ValidationError("property names are 1–100 characters")
        return names


class ExportFormatArgs(Schema):
    format = fields.String(
        load_default="csv",
        validate=validate.OneOf(FORMATS),
        metadata={"description": FORMAT_DESCRIPTION},
    )


class ExportResponsesArgs(ExportFormatArgs, ResponseFilterArgs):
    pii = fields.Boolean(
        load_default=True,
        metadata={"description": "false leaves out the email and name columns."},
    )
    excel = fields.Boolean(
        load_default=False,
        metadata={"description": "CSV only: start with a UTF-8 BOM so Excel reads UTF-8."},
    )
    properties = PropertyNames(
        metadata={
            "description": "Which property.<name> columns, comma-separated, in this order "
            "(empty: none). Default: every key found in the exported responses."
        }
    )


class ExportMetricsArgs(ExportFormatArgs, MetricsArgs):
    pass


class ExportMovementArgs(ExportFormatArgs, MovementArgs):
    pass
