"""surveys: invitation counters per survey and delivery state, kept by triggers

Revision ID: 0019_surveys
Revises: 0018_movement
Create Date: 2026-12-06 22:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_surveys"
down_revision = "0018_movement"
branch_labels = None
depends_on = None

_KEY = "survey_id, kind, status, bounced, responded, slot"
# The counted key of one invitation row (NEW or OLD); surveys/email/invitation_counts.py
# writes the same two CASEs for its check and rebuild.


def _bounced(row: str) -> str:
    return f"CASE WHEN {row}.error LIKE 'bounce: %' THEN 1 ELSE 0 END"


def _responded(row: str) -> str:
    return f"CASE WHEN {row}.responded_at IS NULL THEN 0 ELSE 1 END"


def _change(row: str, delta: int, slot: str) -> str:
    return f"""
    INSERT INTO invitation_counts ({_KEY}, invitations)
    VALUES ({row}.survey_id, {row}.kind, {row}.status, {_bounced(row)}, {_responded(row)},
            {slot}, {delta})
    ON CONFLICT ({_KEY})
    DO UPDATE SET invitations = invitation_counts.invitations + ({delta});"""


# An update fires only when it moves the row to another counted key: claims, leases and a
# retry's new error text change nothing counted.
_KEY_CHANGED = (
    "OLD.survey_id <> NEW.survey_id OR OLD.kind <> NEW.kind OR OLD.status <> NEW.status"
    f" OR ({_bounced('OLD')}) <> ({_bounced('NEW')})"
    f" OR ({_responded('OLD')}) <> ({_responded('NEW')})"
)
_COLUMNS = "survey_id, kind, status, error, responded_at"


def _pg_keys(rows: str, sign: int) -> str:
    """The counted key of every row of a transition table, with +1 or -1."""
    return (
        f"SELECT survey_id, kind, status, {_bounced(rows)} AS bounced,"
        f" {_responded(rows)} AS responded, {sign} AS n FROM {rows}"
    )


def _pg_apply(keys: str) -> str:
    return f"""
    INSERT INTO invitation_counts ({_KEY}, invitations)
    SELECT survey_id, kind, status, bounced, responded, mine, sum(n) FROM ({keys}) AS k
    GROUP BY survey_id, kind, status, bounced, responded HAVING sum(n) <> 0
    ON CONFLICT ({_KEY})
    DO UPDATE SET invitations = invitation_counts.invitations + EXCLUDED.invitations;"""


# On PostgreSQL once per statement, over its transition tables: a row trigger's upsert on
# the same counter row for each of 200,000 rows inserted in one transaction leaves a chain
# of row versions that every later upsert walks (the cost grows with the square of the rows).
# An update nets its old and new keys, so a claim or a lease writes nothing.
_PG_FUNCTION = f"""
CREATE FUNCTION invitation_counts_keep() RETURNS trigger AS $$
DECLARE
  mine integer := pg_backend_pid() % 32;
BEGIN
  IF TG_OP = 'INSERT' THEN {_pg_apply(_pg_keys("new_rows", 1))}
  ELSIF TG_OP = 'DELETE' THEN {_pg_apply(_pg_keys("old_rows", -1))}
  ELSE {_pg_apply(_pg_keys("new_rows", 1) + " UNION ALL " + _pg_keys("old_rows", -1))}
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
_PG_TRIGGERS = [
    "CREATE TRIGGER invitations_counted_added AFTER INSERT ON invitations"
    " REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION invitation_counts_keep()",
    "CREATE TRIGGER invitations_counted_removed AFTER DELETE ON invitations"
    " REFERENCING OLD TABLE AS old_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION invitation_counts_keep()",
    "CREATE TRIGGER invitations_counted_changed AFTER UPDATE ON invitations"
    " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION invitation_counts_keep()",
]
_SQLITE_TRIGGERS = [
    "CREATE TRIGGER invitations_counted_added AFTER INSERT ON invitations BEGIN"
    + _change("NEW", 1, "0")
    + " END",
    "CREATE TRIGGER invitations_counted_removed AFTER DELETE ON invitations BEGIN"
    + _change("OLD", -1, "0")
    + " END",
    f"CREATE TRIGGER invitations_counted_changed AFTER UPDATE OF {_COLUMNS} ON invitations"
    f" WHEN {_KEY_CHANGED} BEGIN"
    + _change("OLD", -1, "0")
    + _change("NEW", 1, "0")
    + " END",
]


def upgrade() -> None:
    op.add_column("surveys", sa.Column("counts_checked_at", sa.DateTime(), nullable=True))
    op.create_table(
        "invitation_counts",
        sa.Column("survey_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("bounced", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("responded", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("invitations", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("survey_id", "kind", "status", "bounced", "responded", "slot"),
        sqlite_with_rowid=False,
    )
    op.execute(
        f"INSERT INTO invitation_counts ({_KEY}, invitations)"
        f" SELECT survey_id, kind, status, {_bounced('invitations')},"
        f" {_responded('invitations')}, 0, count(*) FROM invitations"
        f" GROUP BY survey_id, kind, status, {_bounced('invitations')},"
        f" {_responded('invitations')}"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for trigger in _PG_TRIGGERS:
            op.execute(trigger)
    else:
        for trigger in _SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in ("added", "removed", "changed"):
            op.execute(f"DROP TRIGGER invitations_counted_{name} ON invitations")
        op.execute("DROP FUNCTION invitation_counts_keep()")
    else:
        for name in ("added", "removed", "changed"):
            op.execute(f"DROP TRIGGER invitations_counted_{name}")
    op.drop_table("invitation_counts")
    # A plain DROP COLUMN (SQLite 3.35+): a batch rebuild of `surveys` would cascade.
    op.drop_column("surveys", "counts_checked_at")
