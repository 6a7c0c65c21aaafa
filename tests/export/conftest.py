"""Export fixtures: a project with hostile, multilingual data, and the expected rows read from
the database by the ORM and the API's own movement function (not by the export code)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from service.db import db
from surveys.accounts.roles import Role
from surveys.answers import Answer, record_answer
from surveys.models import FollowUp, Note, Person, ResponseTag, Survey, SurveyResponse, Tag, User
from surveys.response_context import response_contexts
from surveys.segments import segment_of
from tests.answers import answer
from tests.app.conftest import add_user

TRICKY = [
    '=HYPERLINK("http://evil.test","click")',
    "+1 555 0100",
    "-2 points for support",
    "@SUM(A1:A2)",
    "\tindented by a tab",
    "\rcarriage return first",
    'Quotes "inside", commas, and\na newline\r\nand CRLF',
    "Экспорт ломает кириллицу — совсем",
    "导出功能经常失败，请修复",
    "Love it 🚀👍🏽 — ça marche",
]
BASE_COLUMNS = [
    "response_id",
    "created_at",
    "updated_at",
    "survey_id",
    "survey_name",
    "person_id",
    "external_id",
    "email",
    "name",
    "score",
    "segment",
    "comment",
    "channel",
    "locale",
    "excluded",
    "previous_segment",
    "movement",
    "theme",
    "tags",
    "notes",
    "follow_up_status",
    "follow_up_owner",
    "follow_up_due_at",
    "follow_up_reason",
]
TEXT_COLUMNS = {
    "survey_name",
    "external_id",
    "email",
    "name",
    "comment",
    "locale",
    "theme",
    "tags",
    "notes",
    "follow_up_owner",
    "follow_up_reason",
}


@pytest.fixture
def seeded(app, api, other_api):
    """Two surveys, people with unicode names, movement up/down/stayed/new, an excluded
    answer, free-form feedback without a survey, typed and oddly named properties."""
    survey = api.post("/api/v1/surveys", json={"name": "Quarterly «NPS» 📈"}).json
    second = api.post("/api/v1/surveys", json={"name": "=Onboarding"}).json
    people = [
        ("ann", "ann@example.com", "Анна Петрова"),
        ("li", "li@example.com", "李小龙"),
        ("=cmd", "x@example.com", "@mention 🚀"),
        ("bob", None, None),
    ]
    for ext, email, name in people:
        r = api.post("/api/v1/people", json={"external_id": ext, "email": email, "name": name})
        assert r.status_code in (200, 201), r.json
    sid = survey["id"]
    props = [
        {"plan": "pro", "mrr": 49, "beta": True, "seats": 3, 'odd "key"': "x"},
        {"plan": "free", "mrr": 12.5, "beta": False, "seats": 1},
        {"plan": "-1", "mrr": 0, "mixed": True},
        {"mixed": "yes", "note": "=1+1"},
    ]
    first = answer(
        api, sid, "ann", 3, "2025-01-10T10:00:00Z", comment=TRICKY[0], properties=props[0]
    )
    answer(api, sid, "ann", 9, "2025-04-10T10:00:00.123456Z", comment=TRICKY[7], locale="ru")
    answer(api, sid, "li", 10, "2025-01-11T10:00:00Z", comment=TRICKY[8], locale="zh",
           properties=props[1], channel="email")  # fmt: skip
    answer(api, sid, "li", 10, "2025-04-11T10:00:00Z", comment=TRICKY[6], channel="email")
    answer(api, sid, "=cmd", 9, "2025-01-12T10:00:00Z", comment=TRICKY[1], properties=props[2])
    excluded = answer(api, sid, "=cmd", 0, "2025-02-12T10:00:00Z", comment=TRICKY[2])
    api.patch(f"/api/v1/responses/{excluded['id']}", json={"excluded": True})
    answer(api, sid, "=cmd", 5, "2025-04-12T10:00:00Z", comment=TRICKY[3], properties=props[3])
    answer(api, sid, "bob", 7, "2025-05-01T00:00:00Z", comment=TRICKY[4], channel="link")
    answer(api, second["id"], "bob", 8, "2025-05-02T00:00:00Z", comment=TRICKY[5])
    last = answer(api, second["id"], "ann", 6, "2025-06-30T23:59:59Z", comment=TRICKY[9])
    with app.app_context():
        session = db()
        bob = session.scalar(select(Person).where(Person.external_id == "bob"))
        record_answer(
            session,
            bob.project_id,
            bob,
            Answer(
                survey_id=None,
                score=None,
                comment="free-form: the export button is hidden",
                channel="widget",
                properties={},
            ),  # fmt: skip
            now=datetime(2025, 5, 3, 8, 0, 0),
        )
        session.commit()
    _triage(app, api, first["id"], last["id"])
    # Another project's data, which must never appear.
    other = other_api.post("/api/v1/surveys", json={"name": "Secret survey"}).json
    answer(other_api, other["id"], "spy", 0, "2025-02-01T00:00:00Z", comment="other project")
    return {"survey": survey, "second": second}


def _triage(app, api, first: int, last: int) -> None:
    """Tags (one named like a formula), notes with a newline and a comma, and a resolved
    follow-up on the first answer; an open one with an owner on the last."""
    add_user(app, api.keys.id, "cx@acme.test", Role.EDITOR, None)
    tags = [api.post("/api/v1/tags", json={"name": n}).json["id"] for n in ("=sum", "Billing")]
    for tag in tags:
        assert api.put(f"/api/v1/responses/{first}/tags/{tag}").status_code == 200
    for text in ("Called back,\nrefund sent", "Второй звонок"):
        r = api.post(
            f"/api/v1/responses/{first}/notes", json={"text": text, "author_email": "cx@acme.test"}
        )
        assert r.status_code == 201, r.json
    r = api.patch(
        f"/api/v1/responses/{first}/follow-up",
        json={"status": "resolved", "reason": "-refunded", "due_at": "2025-01-12T10:00:00Z"},
    )
    assert r.status_code == 200, r.json
    r = api.patch(f"/api/v1/responses/{last}/follow-up", json={"owner_email": "cx@acme.test"})
    assert r.status_code == 200, r.json


def _triage_values(session, response_id: int) -> dict:
    """The triage columns of one response, read by the ORM."""
    tags = session.execute(
        select(Tag.name)
        .join(ResponseTag, ResponseTag.tag_id == Tag.id)
        .where(ResponseTag.response_id == response_id)
    ).scalars()
    names = sorted(tags, key=str.lower)
    notes = session.execute(
        select(User.email, Note.text)
        .join(User, User.id == Note.author_id)
        .where(Note.response_id == response_id)
        .order_by(Note.id)
    ).all()
    f = session.get(FollowUp, response_id)
    owner = session.get(User, f.owner_id).email if f and f.owner_id else None
    return {
        "tags": ", ".join(names) or None,
        "notes": "\n".join(f"{email}: {text}" for email, text in notes) or None,
        "follow_up_status": f.status if f else None,
        "follow_up_owner": owner,
        "follow_up_due_at": iso(f.due_at) if f and f.due_at else None,
        "follow_up_reason": f.reason if f else None,
    }


def iso(value: datetime) -> str:
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def expected_rows(app, project_id: int, ids=None) -> list[dict]:
    """Every response of the project as typed values, from the ORM and `response_contexts`."""
    with app.app_context():
        session = db()
        stmt = select(SurveyResponse).where(SurveyResponse.project_id == project_id)
        responses = session.scalars(stmt.order_by(SurveyResponse.id)).all()
        if ids is not None:
            responses = [r for r in responses if r.id in ids]
        contexts = response_contexts(session, project_id, responses)
        people = {p.id: p for p in session.scalars(select(Person))}
        surveys = {s.id: s for s in session.scalars(select(Survey))}
        keys = sorted({k for r in responses for k in r.properties})
        rows = []
        for r in responses:
            person, ctx = people[r.person_id], contexts[r.id]
            row = {
                "response_id": r.id,
                "created_at": iso(r.created_at),
                "updated_at": iso(r.updated_at),
                "survey_id": r.survey_id,
                "survey_name": surveys[r.survey_id].name if r.survey_id else None,
                "person_id": r.person_id,
                "external_id": person.external_id,
                "email": person.email,
                "name": person.name,
                "score": r.score,
                "segment": segment_of(r.score),
                "comment": r.comment,
                "channel": r.channel,
                "locale": r.locale,
                "excluded": r.excluded,
                "previous_segment": ctx.previous_segment,
                "movement": ctx.movement,
                "theme": ctx.theme,
                **_triage_values(session, r.id),
            }
            row.update({f"property.{k}": r.properties.get(k) for k in keys})
            rows.append(row)
        return rows


def as_utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
