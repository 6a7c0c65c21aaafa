"""speed: period answers in person order per survey and unit, with the score

Revision ID: 0017_speed
Revises: 0009_accounts
Create Date: 2026-12-06 19:40:00.000000
"""

from alembic import op

revision = "0017_speed"
down_revision = "0009_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NPS over a range of periods counts each person's latest answer: the row of their last
    # period, read person by person from this index instead of sorting every row.
    op.create_index(
        "ix_period_answers_person",
        "period_answers",
        ["survey_id", "unit", "person_id", "period", "score"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_period_answers_person", table_name="period_answers")
