"""Where a visit's writes go. The thread's kept connection runs in autocommit: a new
visitor's person and display, and a returning visitor's new display, are each committed by
itself there, without a session transaction (the pool's checkout, on PostgreSQL its
pre-ping, BEGIN, SET LOCAL, COMMIT). A visit that updates the person keeps its display in
that transaction."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, event, select

from surveys.models import Display, Person
from tests.widget.conftest import Widget


@pytest.fixture
def checkouts(app, widget, survey) -> list[int]:
    assert widget.customer("u-warm").status_code == 200  # the key's settings now cached
    seen: list[int] = []
    event.listen(app.extensions["db_engine"].pool, "checkout", lambda *_: seen.append(1))
    return seen


def _stored(database_url: str, external_id: str) -> tuple[int, int]:
    """(people, displays) of the external id, read on a connection of its own."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            ids = conn.scalars(select(Person.id).where(Person.external_id == external_id)).all()
            displays = conn.scalars(select(Display.id).where(Display.person_id.in_(ids))).all()
    finally:
        engine.dispose()
    return len(ids), len(displays)


def test_a_new_visitor_is_written_without_a_session_transaction(widget, checkouts, database_url):
    shown = widget.customer("u-new", locale="de")
    assert shown.status_code == 200 and shown.json["show"] is True, shown.json
    assert checkouts == []
    assert _stored(database_url, "u-new") == (1, 1)  # committed, seen from elsewhere
    again = widget.customer("u-new", locale="de")
    assert again.json["display_token"] == shown.json["display_token"]  # resumed
    assert checkouts == [] and _stored(database_url, "u-new") == (1, 1)


def test_a_changed_visitor_is_written_in_one_session_transaction(widget, checkouts, database_url):
    assert widget.customer("u-moved", locale="de").json["show"] is True
    answer = widget.customer("u-moved", locale="fr")
    assert answer.status_code == 200, answer.json
    assert checkouts == [1]  # the person's update, through the session
    assert _stored(database_url, "u-moved") == (1, 1)


def test_a_new_visitor_naming_an_unknown_survey_leaves_nobody_behind(widget, survey, database_url):
    assert widget.customer("u-warm").status_code == 200  # the key's settings now cached
    answer = widget.customer("u-lost", survey_id=survey["id"] + 1000)
    assert answer.status_code == 404, answer.json
    assert answer.json["error"]["details"] == {"survey_id": survey["id"] + 1000}
    assert _stored(database_url, "u-lost") == (0, 0)
    assert widget.customer("u-lost", survey_id=survey["id"]).json["show"] is True


def test_first_visits_at_once_make_one_person(app, project, survey, database_url):
    """Eight first visits of the same visitor at the same moment, each on its own thread and
    so its own kept connection: one inserts the person, the others find their insert skipped
    and take the general upsert. Every visit is answered, one person is stored, and each
    token names a display of theirs."""
    barrier = threading.Barrier(8)
    answers: list = []

    def first_visit() -> None:
        widget = Widget.of(app.test_client(), project)
        barrier.wait()
        answers.append(widget.customer("u-rush"))

    threads = [threading.Thread(target=first_visit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200] * 8, [a.json for a in answers]
    assert all(a.json["show"] is True for a in answers), [a.json for a in answers]
    people, displays = _stored(database_url, "u-rush")
    assert people == 1 and 1 <= displays <= 8
