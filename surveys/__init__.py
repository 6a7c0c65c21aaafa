"""The domain of Flywheel: models, scoring, statistics, periods and the rules of each door.

Nothing here imports Flask or `service`; functions that touch the database take the session
first and never commit.
"""
