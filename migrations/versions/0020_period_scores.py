"""period scores: on PostgreSQL kept once per statement instead of once per row

Revision ID: 0020_period_scores
Revises: 0019_surveys
Create Date: 2026-12-07 03:50:00.000000
"""

from alembic import op

revision = "0020_period_scores"
down_revision = "0019_surveys"
branch_labels = None
depends_on = None

_KEY = "survey_id, unit, period, score, slot"


def _keys(rows: str, sign: int) -> str:
    """The counted key of every row of a transition table, with +1 or -1."""
    return f"SELECT survey_id, unit, period, score, {sign} AS n FROM {rows}"


def _apply(keys: str) -> str:
    return f"""
    INSERT INTO period_scores ({_KEY}, people)
    SELECT survey_id, unit, period, score, mine, sum(n) FROM ({keys}) AS k
    GROUP BY survey_id, unit, period, score HAVING sum(n) <> 0
    ON CONFLICT ({_KEY})
    DO UPDATE SET people = period_scores.people + EXCLUDED.people;"""


# Once per statement, over its transition tables. The row trigger of 0017 upserted the same
# few counter rows for every period answer: in one transaction (a batch of 10,000 answers,
# an import) each upsert left a row version that every later one walked, and a batch took
# longer with every batch before it (a 100,000-answer import ran at 557 answers/s). An
# update nets its old and new keys: a link, which changes no score, writes nothing.
_FUNCTION = f"""
CREATE FUNCTION period_scores_keep_rows() RETURNS trigger AS $$
DECLARE
  mine integer := pg_backend_pid() % 32;
BEGIN
  IF TG_OP = 'INSERT' THEN {_apply(_keys("new_rows", 1))}
  ELSIF TG_OP = 'DELETE' THEN {_apply(_keys("old_rows", -1))}
  ELSE {_apply(_keys("new_rows", 1) + " UNION ALL " + _keys("old_rows", -1))}
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
# A trigger with transition tables takes one event and no column list.
TRIGGERS = {
    "period_answers_keep_scores": "INSERT",
    "period_answers_keep_scores_removed": "DELETE",
    "period_answers_keep_scores_changed": "UPDATE",
}
_TABLES = {
    "INSERT": "NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
    "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
}
# What 0017 and 0018 left: a row trigger on the score.
_ROW_FUNCTION = """
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
_ROW_TRIGGER = """
CREATE TRIGGER period_answers_keep_scores
AFTER INSERT OR UPDATE OF score OR DELETE ON period_answers
FOR EACH ROW EXECUTE FUNCTION period_scores_keep()
"""


def upgrade() -> None:
    # SQLite keeps its row triggers: there a trigger's upsert finds the one current row.
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER period_answers_keep_scores ON period_answers")
    op.execute("DROP FUNCTION period_scores_keep()")
    op.execute(_FUNCTION)
    for name, event in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON period_answers"
            f" REFERENCING {_TABLES[event]}"
            " FOR EACH STATEMENT EXECUTE FUNCTION period_scores_keep_rows()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON period_answers")
    op.execute("DROP FUNCTION period_scores_keep_rows()")
    op.execute(_ROW_FUNCTION)
    op.execute(_ROW_TRIGGER)
