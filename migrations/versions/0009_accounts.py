"""accounts: team-app users, their memberships (roles per project) and one-time links

Revision ID: 0009_accounts
Revises: 0008_property_values
Create Date: 2026-11-24 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_accounts"
down_revision = "0008_property_values"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("signed_in_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_memberships_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint("user_id", "project_id", name=op.f("uq_memberships_user_id_project_id")),
    )
    op.create_index("ix_memberships_project", "memberships", ["project_id", "role"])
    op.create_table(
        "one_time_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_one_time_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_time_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_one_time_links_token_hash")),
    )
    op.create_index("ix_one_time_links_user", "one_time_links", ["user_id", "purpose"])
    # Existing projects keep showing emails to every member, as the API always has. A plain
    # ADD COLUMN: a batch rebuild of `projects` on SQLite would drop the table, and with
    # foreign keys on, that drop would cascade to every row of every project.
    op.add_column(
        "projects",
        sa.Column("hide_emails_from_viewers", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+), for the reason given in upgrade().
    op.drop_column("projects", "hide_emails_from_viewers")
    op.drop_index("ix_one_time_links_user", table_name="one_time_links")
    op.drop_table("one_time_links")
    op.drop_index("ix_memberships_project", table_name="memberships")
    op.drop_table("memberships")
    op.drop_table("users")
