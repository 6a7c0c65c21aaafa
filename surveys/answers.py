"""Recording answers: the one function every door (API, widget, email link) calls.

Score validation, "survey closed", idempotency and "one invitation or display, one response"
live here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from surveys import events, people, projects, segment_changes
from surveys.clock import to_naive_utc
from surveys.database.inserts import insert_or_ignore
from surveys.database.prepared import PreparedSelect, PreparedWrite
from surveys.errors import Conflict, Invalid, NotFound, PersonErased, SurveyClosed
from surveys.memo import memo
from surveys.models import Person, Project, Survey, SurveyResponse
from surveys.people import HeldPerson
from surveys.period_answers import count_answer, recount
from surveys.person_locks import deleted_meanwhile, share_person
from surveys.response_context import (
    ResponseContext,
    attach_contexts,
    context_of,
    fresh_context,
    previous_score_of,
)
from surveys.segments import is_valid_score

MAX_COMMENT = 5000
RESPONSE_CHANNELS = ("api", "email", "widget", "link", "import")


@dataclass(frozen=True)
class Answer:
    survey_id: int | None
    score: int | None
    channel: str = "api"
    comment: str | None = None
    locale: str | None = None
    created_at: datetime | None = None
    properties: dict[str, Any] | None = None
    idempotency_key: str | None = None
    invitation_id: int | None = None
    display_id: int | None = None
    category: str | None = None
    page_url: str | None = None


def check_comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    if len(comment) > MAX_COMMENT:
        raise Invalid(
            f"comment is longer than {MAX_COMMENT} characters",
            {"comment": [f"at most {MAX_COMMENT} characters"]},
        )
    return comment


def check_answer(
    session: Session,
    project_id: int,
    answer: Answer,
    surveys: dict[int, Survey | None] | None = None,
) -> Survey | None:
    """The rules every answer meets before it is stored, whichever door or batch brings it:
    channel, comment, score, the survey's project and whether it is open. A batch passes
    `surveys`, the surveys it has read by id, so that its rows read each survey once."""
    if not _check_fields(answer):
        return None
    if surveys is None:
        surveys = {}
    if answer.survey_id not in surveys:
        surveys[answer.survey_id] = session.get(Survey, answer.survey_id)
    survey = surveys[answer.survey_id]
    _check_survey(answer, project_id, survey)
    return survey


def _check_fields(answer: Answer) -> bool:
    """The rules an answer meets on its own; returns whether it names a survey to check."""
    if answer.channel not in RESPONSE_CHANNELS:
        raise Invalid(f"unknown channel {answer.channel!r}", {"channel": ["unknown channel"]})
    check_comment(answer.comment)
    if answer.survey_id is None:
        # Free-form feedback: a comment without a score, outside any survey.
        if answer.score is not None:
            raise Invalid("a score needs a survey_id", {"survey_id": ["required with a score"]})
        if not answer.comment or not answer.comment.strip():
            raise Invalid("feedback needs a comment", {"comment": ["must not be empty"]})
        return False
    if answer.score is not None and not is_valid_score(answer.score):
        raise Invalid("score must be an integer from 0 to 10", {"score": ["must be 0–10"]})
    return True


def _check_survey(answer: Answer, project_id: int, survey: Any) -> None:
    """The survey (an object or a row with `project_id` and `active`) is the project's and,
    for a live answer, open."""
    if survey is None or survey.project_id != project_id:
        raise NotFound(f"survey {answer.survey_id} not found", {"survey_id": answer.survey_id})
    # History may be imported into a closed survey; live answers may not.
    if not survey.active and answer.created_at is None:
        raise SurveyClosed(f"survey {answer.survey_id} is closed", {"survey_id": answer.survey_id})


def _existing(session: Session, project_id: int, answer: Answer) -> SurveyResponse | None:
    if answer.idempotency_key:
        found = session.scalar(
            select(SurveyResponse).where(
                SurveyResponse.project_id == project_id,
                SurveyResponse.idempotency_key == answer.idempotency_key,
            )
        )
        if found is not None:
            return found
    for column, value in (
        (SurveyResponse.invitation_id, answer.invitation_id),
        (SurveyResponse.display_id, answer.display_id),
    ):
        if value is not None:
            found = session.scalar(select(SurveyResponse).where(column == value))
            if found is not None:
                return found
    return None


def _response_values(
    project_id: int, person: Person | HeldPerson, answer: Answer, now: datetime
) -> dict[str, Any]:
    """Every column of a new answer's row but its id."""
    return {
        "project_id": project_id,
        "survey_id": answer.survey_id,
        "person_id": person.id,
        "score": answer.score,
        "comment": answer.comment,
        "channel": answer.channel,
        "locale": answer.locale or person.locale,
        "category": answer.category,
        "page_url": answer.page_url,
        "excluded": False,
        "properties": dict(
            answer.properties if answer.properties is not None else person.properties
        ),
        "idempotency_key": answer.idempotency_key,
        "invitation_id": answer.invitation_id,
        "display_id": answer.display_id,
        "created_at": to_naive_utc(answer.created_at) if answer.created_at else now,
        "updated_at": now,
    }


def record_answer(
    session: Session,
    project_id: int,
    person: Person,
    answer: Answer,
    *,
    now: datetime,
    held: bool = False,
) -> tuple[SurveyResponse, bool]:
    """Store an answer; returns (response, created).

    A repeated Idempotency-Key returns the first response unchanged. A second answer to the
    same invitation or display updates that response: one invitation, one response.
    `held`: the caller already holds the person row (`person_locks`), as `find_person(...,
    share=True)` or inserting them in this transaction does.
    """
    check_answer(session, project_id, answer)
    if not held:
        share_person(session, person.id)
    existing = _existing(session, project_id, answer)
    if existing is not None:
        if answer.idempotency_key and existing.idempotency_key == answer.idempotency_key:
            return existing, False
        rescored = answer.score is not None and answer.score != existing.score
        if answer.score is not None:
            existing.score = answer.score
        if answer.comment is not None:
            existing.comment = answer.comment
        existing.updated_at = now
        with deleted_meanwhile(f"response {existing.id} not found"):
            session.flush()
        if rescored:
            zone = _zone(session, project_id)
            seen = segment_changes.watch(
                session, project_id, zone, existing.survey_id, person.id, existing.created_at
            )
            recount(session, zone, existing)
            segment_changes.settle(session, seen, existing, now)
        events.record(session, project_id, events.RESPONSE_UPDATED, existing.id, now)
        return existing, False
    response = SurveyResponse(**_response_values(project_id, person, answer, now))
    with deleted_meanwhile(f"person {person.id} not found", PersonErased):
        stored = insert_or_ignore(session, response)
    if stored is None:
        # A concurrent request with the same key, invitation or display won the race: answer
        # as if this one had come second.
        if _existing(session, project_id, answer) is None:
            raise Conflict("the answer conflicts with a stored one; retry")
        return record_answer(session, project_id, person, answer, now=now, held=True)
    zone = _zone(session, project_id)
    seen = segment_changes.watch(
        session, project_id, zone, stored.survey_id, person.id, stored.created_at
    )
    count_answer(session, zone, stored)
    segment_changes.settle(session, seen, stored, now)
    events.record(session, project_id, events.RESPONSE_CREATED, stored.id, now)
    return stored, True


class AnsweredProject(Protocol):
    """What recording an answer reads of its project: a `Project` of the session, or the
    read-only row of its columns that the API's authentication read
    (`projects.secret_key_row`)."""

    id: int
    time_zone: str
    events_wanted: list[str] | None


def record_answer_for(
    session: Session,
    project: AnsweredProject,
    who: dict[str, Any],
    answer: Answer,
    *,
    now: datetime,
) -> tuple[SurveyResponse, bool]:
    """Store an answer for the person `who` matches (by id, external_id or email), creating
    them when new; returns (response, created). The response carries its `context`
    (previous segment and movement; a new answer has no theme yet).

    A person matched by external_id or email and erased by a concurrent request before the
    answer was stored is created again, as if the erasure had come first; one named by id
    is NotFound.
    """
    try:
        return _record_for(session, project, who, answer, now=now)
    except PersonErased:
        if who.get("id") is not None:
            raise
    return _record_for(session, project, who, answer, now=now)


def _record_for(
    session: Session,
    project: AnsweredProject,
    who: dict[str, Any],
    answer: Answer,
    *,
    now: datetime,
) -> tuple[SurveyResponse, bool]:
    project_id = project.id
    if _is_plain(answer):
        plain = _record_plain(session, project, who, answer, now=now)
        if plain is not None:
            return plain, True
    if not isinstance(project, Project):
        # The general path reads the project through the session (`session.get`): the row
        # becomes the session's object, without a second query. The session holds a clean
        # object only weakly, so `project` keeps it until the path returns.
        project = projects.attach(session, project)
    person, new_person = _match(session, project_id, who)
    response, created = record_answer(session, project_id, person, answer, now=now, held=True)
    if created:
        response.context = fresh_context(session, response, first_answer=new_person)
    else:
        attach_contexts(session, project_id, [response])
    return response, created


@dataclass
class StoredAnswer:
    """A new answer's row as stored, for the door that answers with it: what
    `record_answer_for` returns for a plain answer instead of a `SurveyResponse` (the same
    attributes, without the ORM's object)."""

    id: int
    project_id: int
    survey_id: int | None
    person_id: int
    score: int | None
    comment: str | None
    channel: str
    locale: str | None
    category: str | None
    page_url: str | None
    excluded: bool
    properties: dict[str, Any]
    idempotency_key: str | None
    invitation_id: int | None
    display_id: int | None
    created_at: datetime
    updated_at: datetime
    context: ResponseContext | None = None


def _is_plain(answer: Answer) -> bool:
    """A new answer to a survey that nothing stored already may stand for: no idempotency key,
    invitation or display to look up first. It takes `_record_plain`; the rest the general
    path, which also settles the rare races `_record_plain` hands back."""
    return (
        answer.survey_id is not None
        and answer.idempotency_key is None
        and answer.invitation_id is None
        and answer.display_id is None
    )


@memo(maxsize=4)
def _answer_insert(dialect: str) -> PreparedWrite:
    """Built once per dialect: the INSERT runs on every answer through the API."""
    return PreparedWrite(
        insert(SurveyResponse).returning(SurveyResponse.id),
        [c.key for c in SurveyResponse.__table__.columns if c.key != "id"],
    )


@memo(maxsize=1)
def _survey_state() -> PreparedSelect:
    """A survey's project and state, compiled once (a new person's answer reads it)."""
    return PreparedSelect(
        select(Survey.project_id, Survey.active).where(
            Survey.id == bindparam("survey_id", type_=Survey.id.type)
        )
    )


_SURVEY_ID = bindparam("survey_id", type_=Survey.id.type)
# Read with the person, in the statement that matches and holds them: their answer's survey
# (whose project and state the rules check), their previous score (the answer's context) and
# whether they answered the survey after the answer's time (which period rows it relinks:
# `period_answers.count_answer`), by the (survey, person, time) index.
_BESIDE_PERSON = (
    select(Survey.project_id).where(Survey.id == _SURVEY_ID).scalar_subquery().label("s_project"),
    select(Survey.active).where(Survey.id == _SURVEY_ID).scalar_subquery().label("s_active"),
    previous_score_of(Person.id).label("previous_score"),
    select(SurveyResponse.id)
    .where(
        SurveyResponse.survey_id == _SURVEY_ID,
        SurveyResponse.person_id == Person.id,
        SurveyResponse.created_at > bindparam("created_at", type_=SurveyResponse.created_at.type),
    )
    .exists()
    .label("answered_since"),
)


@dataclass(frozen=True)
class _SurveyState:
    project_id: int | None
    active: bool | None


def _record_plain(
    session: Session,
    project: AnsweredProject,
    who: dict[str, Any],
    answer: Answer,
    *,
    now: datetime,
) -> StoredAnswer | None:
    """`record_answer_for` of a plain answer (`_is_plain`) in compiled statements, without
    ORM objects: the same rules in the same order (the person matched and held, the
    answer's own rules, its survey), the same rows written. A returning person's match also
    reads the survey's state and their previous score. None, having written nothing, when a
    concurrent request created the person first (the general path then matches them).
    """
    project_id = project.id
    created_at = to_naive_utc(answer.created_at) if answer.created_at else now
    found = people.find_held_person(
        session,
        project_id,
        who,
        _BESIDE_PERSON,
        {"survey_id": answer.survey_id, "created_at": created_at},
    )
    if found is not None:
        person, previous, answered_since = found, found.previous_score, found.answered_since
        survey: Any = _SurveyState(found.s_project, found.s_active)
        if survey.project_id is None:
            survey = None
        _check_fields(answer)
    else:
        if not (who.get("external_id") or who.get("email")):
            return None  # the general path says what is wrong with `who`
        row = people.insert_person_row(session, project_id, who, trusted=True, now=now)
        if row is None:
            return None
        person = HeldPerson.of(row)
        previous, answered_since = None, False  # a person created now has no answers
        _check_fields(answer)
        rows = _survey_state().rows(session, {"survey_id": answer.survey_id})
        survey = rows[0] if rows else None
    _check_survey(answer, project_id, survey)
    values = _response_values(project_id, person, answer, now)
    with deleted_meanwhile(f"person {person.id} not found", PersonErased):
        (response_id,) = _answer_insert(session.get_bind().dialect.name).returning(session, values)
    stored = StoredAnswer(id=response_id, **values)
    # The project's zone cuts the periods and its `events_wanted` says which events anyone
    # listens to.
    listening = project.events_wanted or ()
    seen = None
    if events.SEGMENT_CHANGED in listening:
        seen = segment_changes.watch(
            session, project_id, project.time_zone, stored.survey_id, person.id, created_at
        )
    count_answer(session, project.time_zone, stored, answered_since=bool(answered_since))
    segment_changes.settle(session, seen, stored, now)
    if events.RESPONSE_CREATED in listening:
        events.append(session, project_id, events.RESPONSE_CREATED, stored.id, now)
    stored.context = (
        context_of(stored.score, previous)
        if stored.score is not None
        else fresh_context(session, stored)
    )
    return stored


def _match(session: Session, project_id: int, who: dict[str, Any]) -> tuple[Person, bool]:
    """(person, created now), the person held for the answer that points at them: found
    with a key-share lock, or inserted by this transaction."""
    person = people.find_person(session, project_id, who, share=True)
    if person is not None:
        return person, False
    if who.get("external_id") or who.get("email"):
        created = people.create_person(session, project_id, who, trusted=True)
        if created is not None:
            return created, True
    # Invalid, or created by a concurrent request meanwhile: the general path says which.
    person, _ = people.upsert_person(session, project_id, who, trusted=True)
    share_person(session, person.id)
    return person, False


def _zone(session: Session, project_id: int) -> str:
    project = session.get(Project, project_id)
    return project.time_zone if project is not None else "UTC"


def get_response(session: Session, project_id: int, response_id: int) -> SurveyResponse:
    response = session.get(SurveyResponse, response_id)
    if response is None or response.project_id != project_id:
        raise NotFound(f"response {response_id} not found")
    return response


def update_response(
    session: Session, project_id: int, response_id: int, changes: dict[str, Any], *, now: datetime
) -> SurveyResponse:
    response = get_response(session, project_id, response_id)
    share_person(session, response.person_id)
    if "comment" in changes:
        response.comment = check_comment(changes["comment"])
    reexcluded = "excluded" in changes and bool(changes["excluded"]) != response.excluded
    if "excluded" in changes:
        response.excluded = bool(changes["excluded"])
    response.updated_at = now
    with deleted_meanwhile(f"response {response_id} not found"):
        session.flush()
    if reexcluded:
        zone = _zone(session, project_id)
        seen = segment_changes.watch(
            session, project_id, zone, response.survey_id, response.person_id, response.created_at
        )
        recount(session, zone, response)
        segment_changes.settle(session, seen, response, now)
    events.record(session, project_id, events.RESPONSE_UPDATED, response.id, now)
    return response
