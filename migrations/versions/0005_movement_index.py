"""movement: covering index on (survey, person, time, score, excluded)

Revision ID: 0005_movement
Revises: 0001_initial
Create Date: 2026-11-22 23:55:00.000000
"""

from alembic import op

revision = "0005_movement"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Movement and NPS read each person's answers to a survey in time order and need only the
    # score and the excluded flag: with both in the index the scan never touches the table.
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_responses_survey_person_time")
        batch_op.create_index(
            "ix_responses_survey_person_time",
            ["survey_id", "person_id", "created_at", "score", "excluded"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_responses_survey_person_time")
        batch_op.create_index(
            "ix_responses_survey_person_time",
            ["survey_id", "person_id", "created_at"],
            unique=False,
        )
