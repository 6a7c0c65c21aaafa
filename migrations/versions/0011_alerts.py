"""alerts: alert rules per project and each match of a rule, sent once

Revision ID: 0011_alerts
Revises: 0010_webhooks
Create Date: 2026-12-06 19:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_alerts"
down_revision = "0010_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("comment_required", sa.Boolean(), nullable=False),
        sa.Column("property_key", sa.String(length=100), nullable=True),
        sa.Column("property_value", sa.String(length=1000), nullable=True),
        sa.Column("revenue_property", sa.String(length=100), nullable=True),
        sa.Column("revenue_min", sa.Float(), nullable=True),
        sa.Column("destination", sa.String(length=16), nullable=False),
        sa.Column("url_sealed", sa.Text(), nullable=True),
        sa.Column("url_hint", sa.String(length=200), nullable=True),
        sa.Column("emails", sa.JSON(), nullable=False),
        sa.Column("group_seconds", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("settled_to", sa.Integer(), nullable=False),
        sa.Column("examined_to", sa.Integer(), nullable=False),
        sa.Column("theme_run_id", sa.Integer(), nullable=True),
        sa.Column("theme_checked_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("last_status", sa.String(length=16), nullable=True),
        sa.Column("last_sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_alert_rules_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
    )
    op.create_index("ix_alert_rules_project", "alert_rules", ["project_id", "id"])
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name=op.f("fk_alert_events_rule_id_alert_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_alert_events_response_id_survey_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
        sa.UniqueConstraint("rule_id", "subject", name=op.f("uq_alert_events_rule_id_subject")),
    )
    op.create_index(
        "ix_alert_events_rule_status", "alert_events", ["rule_id", "status", "occurred_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_alert_events_rule_status", table_name="alert_events")
    op.drop_table("alert_events")
    op.drop_index("ix_alert_rules_project", table_name="alert_rules")
    op.drop_table("alert_rules")
