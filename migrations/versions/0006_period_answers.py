"""period answers: each person's counted answer per survey and period, kept as answers arrive

Revision ID: 0006_period_answers
Revises: 0005_movement
Create Date: 2026-11-23 02:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_period_answers"
down_revision = "0005_movement"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "period_answers",
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_period_answers_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_period_answers_response_id_survey_responses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_period_answers_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "survey_id", "unit", "period", "person_id", name=op.f("pk_period_answers")
        ),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_period_answers_response", "period_answers", ["response_id"])
    # Existing projects start with no rows and a null zone: the worker builds their rows on
    # its next pass, and movement reads the answers themselves until then.
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("periods_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("periods_zone")
    op.drop_index("ix_period_answers_response", table_name="period_answers")
    op.drop_table("period_answers")
