"""speed: period answers in person order with the score; people per period and score

Revision ID: 0017_speed
Revises: 0016_bulk
Create Date: 2026-12-06 19:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_speed"
down_revision = "0016_bulk"
branch_labels = None
depends_on = None

# One row per (key, slot) changes by `delta`: an upsert, so a slot that has no row yet gets one.
_PG_FUNCTION = """
CREATE FUNCTION period_scores_keep() RETURNS trigger AS $$
DECLARE
  mine integer := pg_backend_pid() % 32;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO period_scores (survey_id, unit, period, score, slot, people)
    VALUES (OLD.survey_id, OLD.unit, OLD.period, OLD.score, mine, -1)
    ON CONFLICT (survey_id, unit, period, score, slot)
    DO UPDATE SET people = period_scores.people - 1;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO period_scores (survey_id, unit, period, score, slot, people)
    VALUES (NEW.survey_id, NEW.unit, NEW.period, NEW.score, mine, 1)
    ON CONFLICT (survey_id, unit, period, score, slot)
    DO UPDATE SET people = period_scores.people + 1;
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
_PG_TRIGGER = """
CREATE TRIGGER period_answers_keep_scores
AFTER INSERT OR UPDATE OR DELETE ON period_answers
FOR EACH ROW EXECUTE FUNCTION period_scores_keep()
"""


def _sqlite_change(row: str, delta: int) -> str:
    return f"""
    INSERT INTO period_scores (survey_id, unit, period, score, slot, people)
    VALUES ({row}.survey_id, {row}.unit, {row}.period, {row}.score, 0, {delta})
    ON CONFLICT (survey_id, unit, period, score, slot)
    DO UPDATE SET people = people + ({delta});"""


_SQLITE_TRIGGERS = [
    "CREATE TRIGGER period_answers_added AFTER INSERT ON period_answers BEGIN"
    + _sqlite_change("NEW", 1)
    + " END",
    "CREATE TRIGGER period_answers_removed AFTER DELETE ON period_answers BEGIN"
    + _sqlite_change("OLD", -1)
    + " END",
    "CREATE TRIGGER period_answers_changed AFTER UPDATE ON period_answers BEGIN"
    + _sqlite_change("OLD", -1)
    + _sqlite_change("NEW", 1)
    + " END",
]


def upgrade() -> None:
    # NPS over a range of periods counts each person's latest answer: the row of their last
    # period, read person by person from this index instead of sorting every row.
    op.create_index(
        "ix_period_answers_person",
        "period_answers",
        ["survey_id", "unit", "person_id", "period", "score"],
        unique=False,
    )
    op.create_table(
        "period_scores",
        sa.Column("survey_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("survey_id", "unit", "period", "score", "slot"),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO period_scores (survey_id, unit, period, score, slot, people)"
        " SELECT survey_id, unit, period, score, 0, count(*) FROM period_answers"
        " GROUP BY survey_id, unit, period, score"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        for trigger in _SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER period_answers_keep_scores ON period_answers")
        op.execute("DROP FUNCTION period_scores_keep()")
    else:
        for name in ("added", "removed", "changed"):
            op.execute(f"DROP TRIGGER period_answers_{name}")
    op.drop_table("period_scores")
    op.drop_index("ix_period_answers_person", table_name="period_answers")
