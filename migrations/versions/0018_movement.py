"""movement: period answers carry the previous period's score and weight, and the rise

Revision ID: 0018_movement
Revises: 0017_speed
Create Date: 2026-12-06 23:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_movement"
down_revision = "0017_speed"
branch_labels = None
depends_on = None

_COLUMNS = ("weight", "prev_score", "prev_weight", "rise")
_PAIR = ["survey_id", "unit", "period", "prev_score", "score", "weight", "prev_weight"]
_RISE = ["survey_id", "unit", "period", "rise", "person_id", "prev_score", "score", "response_id"]

# The period_scores triggers of 0017 fire on UPDATE OF score only: the links written here
# change no score, and firing on them would count every linked row out and in again.
_PG_TRIGGER = """
CREATE TRIGGER period_answers_keep_scores
AFTER INSERT OR UPDATE OF score OR DELETE ON period_answers
FOR EACH ROW EXECUTE FUNCTION period_scores_keep()
"""
_PG_TRIGGER_0017 = _PG_TRIGGER.replace("UPDATE OF score", "UPDATE")


def _sqlite_changed(of: str) -> str:
    change = (
        "INSERT INTO period_scores (survey_id, unit, period, score, slot, people)"
        " VALUES ({row}.survey_id, {row}.unit, {row}.period, {row}.score, 0, {delta})"
        " ON CONFLICT (survey_id, unit, period, score, slot)"
        " DO UPDATE SET people = people + ({delta});"
    )
    return (
        f"CREATE TRIGGER period_answers_changed AFTER UPDATE{of} ON period_answers BEGIN "
        + change.format(row="OLD", delta=-1)
        + " "
        + change.format(row="NEW", delta=1)
        + " END"
    )


def _triggers(of: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER period_answers_keep_scores ON period_answers")
        op.execute(_PG_TRIGGER if of else _PG_TRIGGER_0017)
    else:
        op.execute("DROP TRIGGER period_answers_changed")
        op.execute(_sqlite_changed(of))


def upgrade() -> None:
    # Plain ALTER TABLE, also on SQLite: a batch copy of the table would drop its triggers.
    op.add_column("period_answers", sa.Column("weight", sa.Float(), nullable=True))
    op.add_column("period_answers", sa.Column("prev_score", sa.Integer(), nullable=True))
    op.add_column("period_answers", sa.Column("prev_weight", sa.Float(), nullable=True))
    op.add_column("period_answers", sa.Column("rise", sa.Integer(), nullable=True))
    op.create_index("ix_period_answers_pair", "period_answers", _PAIR, unique=False)
    op.create_index("ix_period_answers_rise", "period_answers", _RISE, unique=False)
    _triggers(" OF score")
    # The new columns are empty: every project reads the answers themselves until the
    # worker has rebuilt its rows (`period_answers.rebuild`).
    op.execute("UPDATE projects SET periods_zone = NULL")


def downgrade() -> None:
    _triggers("")
    op.drop_index("ix_period_answers_rise", table_name="period_answers")
    op.drop_index("ix_period_answers_pair", table_name="period_answers")
    for name in reversed(_COLUMNS):
        op.drop_column("period_answers", name)
