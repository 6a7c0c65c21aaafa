"""The visitor's state comes from one prepared statement run straight on the DBAPI connection:
its rows must be what SQLAlchemy's own execution gives, on SQLite and PostgreSQL, outside a
transaction and inside one (where it sees the transaction's writes)."""

from __future__ import annotations

from sqlalchemy import select

from service.db import db
from surveys.clock import utcnow
from surveys.models import Person
from surveys.widget_history import _statement, visitor_state


def test_prepared_rows_equal_sqlalchemy_rows(app, widget, survey, api):
    token = widget.customer("u-1", properties={"plan": "pro"}).json["display_token"]
    widget.post("dismissals", {"display_token": token})
    widget.customer("u-2")
    api.post("/api/v1/surveys", json={"name": "Second", "daily_response_cap": 5})
    now = utcnow()
    prepared = _statement()
    with app.app_context():
        project_id = db().scalar(select(Person.project_id).where(Person.external_id == "u-1"))
        db().rollback()
        for external_id in ("u-1", "u-2", "nobody"):
            params = {"project_id": project_id, "external_id": external_id, "midnight": now}
            expected = [tuple(row) for row in db().execute(prepared.statement, params)]
            assert [tuple(row) for row in prepared.rows(db(), params)] == expected
            assert db().in_transaction()  # the comparison above began one: rows read in it
            db().rollback()
            assert [tuple(row) for row in prepared.rows(db(), params)] == expected


def test_state_sees_the_transactions_own_writes(app, widget, survey):
    widget.customer("u-1")
    with app.app_context():
        session = db()
        person = session.scalar(select(Person).where(Person.external_id == "u-1"))
        person.locale = "ru"
        session.flush()
        assert visitor_state(session, person.project_id, "u-1", now=utcnow()).person.locale == "ru"
        session.rollback()
        assert visitor_state(session, person.project_id, "u-1", now=utcnow()).person.locale is None
