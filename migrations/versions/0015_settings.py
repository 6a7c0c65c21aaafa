"""settings: two-factor seeds sealed at rest (users.totp_secret grows to hold a sealed value)

Revision ID: 0015_settings
Revises: 0013_triage
Create Date: 2026-12-06 19:45:00.000000

The seeds are sealed with the app's SECRET_KEY, which `flask --app wsgi db upgrade` hands to
the migration (service/migrate.py). Run without it (Alembic's own command line), the values
stay plain: the app reads a plain seed and seals it at the user's next good code.
"""

import sqlalchemy as sa
from alembic import context, op

from surveys.accounts import totp
from surveys.sealed import is_sealed

revision = "0015_settings"
down_revision = "0013_triage"
branch_labels = None
depends_on = None

USERS = sa.table(
    "users", sa.column("id", sa.Integer), sa.column("totp_secret", sa.String)
)


def _secret_key() -> str | None:
    return context.config.attributes.get("secret_key")


def _resize(length: int) -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "users",
            "totp_secret",
            type_=sa.String(length=length),
            existing_type=sa.String(),
            existing_nullable=True,
        )
        return
    # SQLite changes a column's type only by rebuilding the table, and dropping `users` with
    # foreign keys on would cascade to every membership: a new column takes the values, the
    # old one is dropped, the new one takes its name (all in place).
    op.add_column("users", sa.Column("totp_secret_resized", sa.String(length=length)))
    op.execute("UPDATE users SET totp_secret_resized = totp_secret")
    op.drop_column("users", "totp_secret")
    op.execute("ALTER TABLE users RENAME COLUMN totp_secret_resized TO totp_secret")


def _rewrite(change) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(USERS.c.id, USERS.c.totp_secret).where(USERS.c.totp_secret.is_not(None))
    ).all()
    for user_id, stored in rows:
        new = change(stored)
        if new != stored:
            bind.execute(USERS.update().where(USERS.c.id == user_id).values(totp_secret=new))


def upgrade() -> None:
    _resize(255)
    key = _secret_key()
    if key is not None:
        sealer = totp.sealer(key)
        _rewrite(lambda stored: stored if is_sealed(stored) else sealer.seal(stored))


def downgrade() -> None:
    key = _secret_key()
    if key is not None:
        sealer = totp.sealer(key)
        _rewrite(lambda stored: totp.open_secret(sealer, stored))
    sealed = op.get_bind().execute(
        sa.select(sa.func.count()).select_from(USERS).where(USERS.c.totp_secret.like("fw1:%"))
    ).scalar()
    if sealed:
        raise RuntimeError(
            f"{sealed} two-factor seeds are sealed; run the downgrade through "
            "`flask --app wsgi db downgrade`, which knows SECRET_KEY, to open them"
        )
    _resize(64)
