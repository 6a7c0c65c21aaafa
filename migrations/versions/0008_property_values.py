"""properties: repair values stored before every door checked them

Revision ID: 0008_property_values
Revises: 0007_people_trusted
Create Date: 2026-12-06 04:00:00.000000

Until then a property could be stored that breaks every later read of its project: `Infinity`
or `NaN` (SQLite's JSON functions call the whole text malformed, so every export and property
metric failed), a number past 64 bits (the typed export), NUL (PostgreSQL refuses it as text)
or an unpaired surrogate (not UTF-8). Such a value becomes null and such a name is dropped.
Only rows whose text could hold one are read, by a cheap test in SQL.
"""

import json
import math
import re

import sqlalchemy as sa
from alembic import op

revision = "0008_property_values"
down_revision = "0007_people_trusted"
branch_labels = None
depends_on = None

TABLES = ("people", "survey_responses")
LARGEST = 2**63 - 1
BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
# What the JSON text of a bad value contains: Python writes `Infinity`, `NaN`, escapes NUL
# and surrogates as \u, big floats with `e+`, and a number past 64 bits has 19 digits or more.
MARKERS = ("Infinity", "NaN", "\\u", "e+")
DIGITS = 19
CHUNK = 500


def _usable(value):
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, (int, float)):
        return math.isfinite(value) and abs(value) <= LARGEST
    if isinstance(value, str):
        return not BAD_TEXT.search(value)
    return True


def _repaired(properties):
    """The properties with unusable values as null and unusable names dropped; None when
    nothing needs repair."""
    if not isinstance(properties, dict):
        return None
    changed = any(BAD_TEXT.search(key) or not _usable(v) for key, v in properties.items())
    if not changed:
        return None
    return {
        key: value if _usable(value) else None
        for key, value in properties.items()
        if not BAD_TEXT.search(key)
    }


def _candidates(dialect, text):
    if dialect == "postgresql":
        return text.regexp_match("Infinity|NaN|\\\\u|e\\+|[0-9]{%d}" % DIGITS)
    digits = sa.literal("*" + "[0-9]" * DIGITS + "*")
    return sa.or_(*(sa.func.instr(text, marker) > 0 for marker in MARKERS), text.op("GLOB")(digits))


def upgrade() -> None:
    bind = op.get_bind()
    for name in TABLES:
        table = sa.table(name, sa.column("id", sa.Integer), sa.column("properties", sa.JSON))
        text = sa.cast(table.c.properties, sa.Text)
        last = 0
        while True:
            rows = bind.execute(
                sa.select(table.c.id, text)
                .where(table.c.id > last, _candidates(bind.dialect.name, text))
                .order_by(table.c.id)
                .limit(CHUNK)
            ).all()
            if not rows:
                break
            for row_id, stored in rows:
                # Python's parser takes Infinity and NaN, which is what is being repaired.
                fixed = _repaired(json.loads(stored))
                if fixed is not None:
                    bind.execute(
                        table.update().where(table.c.id == row_id).values(properties=fixed)
                    )
            last = rows[-1][0]


def downgrade() -> None:
    # A repaired value cannot be restored, and the old code reads the repaired rows.
    pass
