"""triage: tags, notes and follow-ups on responses, the project's follow-up settings, and
theme edits (rename, merge, hide) with the friction points' hidden and merged-into columns

Revision ID: 0013_triage
Revises: 0012_digests
Create Date: 2026-12-06 19:26:46.129125
"""

import sqlalchemy as sa
from alembic import op


revision = "0013_triage"
down_revision = "0012_digests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follow_up_settings",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("sla_hours", sa.JSON(), nullable=False),
        sa.Column("owner_property", sa.String(length=255), nullable=True),
        sa.Column("scanned_until_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_follow_up_settings_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_follow_up_settings")),
    )
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_tags_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_tags_project_id_name")),
    )
    op.create_table(
        "follow_ups",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("contacted_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_follow_ups_owner_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_follow_ups_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_follow_ups_response_id_survey_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_follow_ups")),
    )
    op.create_index("ix_follow_ups_owner", "follow_ups", ["owner_id", "status"])
    op.create_index(
        "ix_follow_ups_project_status", "follow_ups", ["project_id", "status", "due_at"]
    )

    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_notes_author_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_notes_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_notes_response_id_survey_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    op.create_index("ix_notes_response", "notes", ["response_id", "id"])

    op.create_table(
        "response_tags",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_response_tags_response_id_survey_responses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_response_tags_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("response_id", "tag_id", name=op.f("pk_response_tags")),
    )
    op.create_index("ix_response_tags_tag", "response_tags", ["tag_id", "response_id"])

    op.create_table(
        "theme_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("other_terms", sa.JSON(), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_theme_edits_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_theme_edits")),
    )
    op.create_index("ix_theme_edits_project", "theme_edits", ["project_id", "id"])
    # Plain ADD COLUMNs: a batch rebuild of friction_points on SQLite would drop the table and
    # cascade to its assignments.
    op.add_column(
        "friction_points",
        sa.Column("hidden", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("friction_points", sa.Column("merged_into_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("friction_points", "merged_into_id")
    op.drop_column("friction_points", "hidden")
    op.drop_index("ix_theme_edits_project", table_name="theme_edits")
    op.drop_table("theme_edits")
    op.drop_index("ix_response_tags_tag", table_name="response_tags")

    op.drop_table("response_tags")
    op.drop_index("ix_notes_response", table_name="notes")

    op.drop_table("notes")
    op.drop_index("ix_follow_ups_project_status", table_name="follow_ups")
    op.drop_index("ix_follow_ups_owner", table_name="follow_ups")

    op.drop_table("follow_ups")
    op.drop_table("tags")
    op.drop_table("follow_up_settings")
