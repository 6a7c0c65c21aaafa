"""Every foreign key the database follows when the service deletes rows is indexed.

Deleting a row makes the database look for the rows whose foreign key points at it, to
cascade or to check. Without an index leading with that key it reads the whole child table
for each row deleted: erasing one person at a million period answers read all of them
(70-80 ms on SQLite and PostgreSQL alike, before revision 0022), and an answer's theme
assignments and alert events were found the same way.
"""

from sqlalchemy import create_engine, inspect

# Parents whose rows the service never deletes (a project, a survey and a user stay; a survey
# is archived): a key pointing at one of them needs no index for deletes.
NEVER_DELETED = {"projects", "surveys", "users"}


def _leading_columns(inspector, table: str) -> set[str]:
    keys = [inspector.get_pk_constraint(table)["constrained_columns"]]
    keys += [i["column_names"] for i in inspector.get_indexes(table)]
    keys += [u["column_names"] for u in inspector.get_unique_constraints(table)]
    return {columns[0] for columns in keys if columns}


def test_every_key_of_a_deleted_parent_leads_an_index(database_url):
    engine = create_engine(database_url)
    try:
        inspector = inspect(engine)
        unindexed, followed = [], 0
        for table in inspector.get_table_names():
            leading = _leading_columns(inspector, table)
            for key in inspector.get_foreign_keys(table):
                if key["referred_table"] in NEVER_DELETED:
                    continue
                followed += 1
                if key["constrained_columns"][0] not in leading:
                    unindexed.append(f"{table}.{key['constrained_columns'][0]}")
    finally:
        engine.dispose()
    assert followed >= 15  # the schema's keys were read
    assert unindexed == []
