"""`property:<name>` parameters, and a snapshot property read as a number in SQL.

Weights (NPS metrics, movement) and revenue at risk (friction points) all read a numeric
property of the answer's snapshot; a value that is not a JSON number counts as no value, on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Float, case, cast, func, null
from sqlalchemy.orm import Session

from surveys.errors import Invalid
from surveys.models import SurveyResponse

PREFIX = "property:"


def parse_property_ref(value: str, field: str) -> str:
    """'property:mrr' -> 'mrr'."""
    if not value.startswith(PREFIX) or len(value) == len(PREFIX):
        raise Invalid(
            f"{field} must look like property:<name>", {field: ["expected property:<name>"]}
        )
    return value[len(PREFIX) :]


def weight_of(session: Session, ref: str) -> ColumnElement[float]:
    """The `weight=property:<name>` parameter (NPS metrics, movement) as each answer's weight."""
    return numeric_property(session, parse_property_ref(ref, "weight"), "weight")


def numeric_property(session: Session, name: str, field: str) -> ColumnElement[float]:
    """`properties[name]` of the answer as a float; NULL when absent or not a JSON number.

    The JSON type is tested first, in each database's own words: a plain cast of a text value
    such as "fifty" fails on PostgreSQL and silently gives 0 on SQLite.
    """
    if '"' in name or "\\" in name:
        raise Invalid(f"{field} property names cannot hold quotes", {field: ["bad name"]})
    props = SurveyResponse.properties
    if session.get_bind().dialect.name == "postgresql":
        is_number = func.json_typeof(props[name]) == "number"
    else:
        # Quoted, so that dots in a name are not read as a path.
        is_number = func.json_type(props, f'$."{name}"').in_(("integer", "real"))
    return case((is_number, cast(props[name].as_float(), Float)), else_=null())
