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


def property_name(name: str, field: str, *, in_json_path: bool = True) -> str:
    """A property name to look up, checked: never NUL, which neither database compares (SQLite
    ends a JSON path at it, PostgreSQL refuses it in text); inside a JSON path (metrics,
    weights) neither a quote nor a backslash, which SQLite's paths cannot escape and would
    read as another name. The export looks names up by key and takes those."""
    if "\x00" in name:
        raise Invalid(f"{field} property names cannot hold NUL", {field: ["bad name"]})
    if in_json_path and ('"' in name or "\\" in name):
        raise Invalid(
            f"{field} property names cannot hold quotes or backslashes", {field: ["bad name"]}
        )
    return name


def parse_property_ref(value: str, field: str) -> str:
    """'property:mrr' -> 'mrr'."""
    if not value.startswith(PREFIX) or len(value) == len(PREFIX):
        raise Invalid(
            f"{field} must look like property:<name>", {field: ["expected property:<name>"]}
        )
    return property_name(value[len(PREFIX) :], field)


def weight_of(session: Session, ref: str) -> ColumnElement[float]:
    """The `weight=property:<name>` parameter (NPS metrics, movement) as each answer's weight."""
    return numeric_property(session, parse_property_ref(ref, "weight"), "weight")


def numeric_property(session: Session, name: str, field: str) -> ColumnElement[float]:
    """`properties[name]` of the answer as a float; NULL when absent or not a JSON number.

    The JSON type is tested first, in each database's own words: a plain cast of a text value
    such as "fifty" fails on PostgreSQL and silently gives 0 on SQLite.
    """
    property_name(name, field)
    props = SurveyResponse.properties
    if session.get_bind().dialect.name == "postgresql":
        is_number = func.json_typeof(props[name]) == "number"
    else:
        # Quoted, so that dots in a name are not read as a path.
        is_number = func.json_type(props, f'$."{name}"').in_(("integer", "real"))
    return case((is_number, cast(props[name].as_float(), Float)), else_=null())
