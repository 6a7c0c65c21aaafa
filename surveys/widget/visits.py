"""The in-product widget's domain: visits (person upsert, eligibility, display), answers,
dismissals and free-form feedback, all through the same rules and `record_answer` as every door.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, String, bindparam, insert, select
from sqlalchemy.orm import Session

from surveys.answers import Answer, record_answer
from surveys.clock import to_naive_utc
from surveys.database.durability import commit_without_flush_wait
from surveys.database.prepared import PreparedWrite
from surveys.errors import Conflict, Invalid, NotFound
from surveys.keys import verify_user_hash
from surveys.memo import memo
from surveys.models import Display, Person, Project, Survey, SurveyResponse
from surveys.people import insert_person_row, may_change, normalise_email, upsert_person
from surveys.segments import segment_of
from surveys.texts import base_locale, followup_text, question_text
from surveys.widget import eligibility
from surveys.widget.history import (
    SurveyState,
    VisitorRow,
    VisitorState,
    read_visitor,
    state_of,
    visitor_state,
)

ANONYMOUS_PREFIX = "anon:"
# What an identified visit may set on the person; never `id` (that would pick any row).
IDENTITY_FIELDS = ("external_id", "email", "name", "locale", "created_at", "properties")
_MISSING = object()


@dataclass(frozen=True)
class WidgetProject:
    """The few project settings the widget reads, detached so they can be cached per key."""

    id: int
    throttle_days: int
    require_identity_verification: bool
    allowed_origins: tuple[str, ...]
    identity_salt: str

    @classmethod
    def of(cls, project: Project) -> WidgetProject:
        return cls(
            id=project.id,
            throttle_days=project.throttle_days,
            require_identity_verification=project.require_identity_verification,
            allowed_origins=tuple(project.allowed_origins or ()),
            identity_salt=project.identity_salt,
        )


@dataclass(frozen=True)
class Identity:
    """Who the browser says it is: an anonymous id from localStorage and/or the host's user."""

    anonymous_id: str | None = None
    external_id: str | None = None
    user_hash: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Visitor:
    person: Person
    identified: bool
    # False when an external_id came without a valid user_hash on a project that requires one.
    verified: bool


class Visit(NamedTuple):
    show: bool
    reason: str
    retry_after: int | None
    locale: str
    identified: bool
    verified: bool
    display_id: int | None = None
    survey_id: int | None = None
    product_name: str | None = None
    question: str | None = None


class Claim(NamedTuple):
    """What a visit may write on the person it speaks for, and how far it is trusted."""

    data: dict[str, Any]  # always with external_id
    identified: bool
    verified: bool
    # Signed with a valid user_hash: may change what the server wrote (`people.may_change`).
    trusted: bool = False


def claim(project: WidgetProject, identity: Identity, *, identity_secret: str) -> Claim:
    """Which person a visit speaks for.

    On a project that requires identity verification, an external_id without a valid user_hash
    is ignored: the visitor is served anonymously and cannot read or change that person. On
    one that does not, it is taken, but changes only a person the widget itself made unless
    the user_hash is valid.
    """
    verified = True
    if identity.external_id:
        signed = verify_user_hash(identity_secret, identity.external_id, identity.user_hash)
        verified = signed or not project.require_identity_verification
        if verified:
            data = {k: v for k, v in identity.fields.items() if k in IDENTITY_FIELDS}
            data["external_id"] = identity.external_id
            return Claim(data, identified=True, verified=True, trusted=signed)
    if not identity.anonymous_id:
        raise Invalid(
            "a visit needs an anonymous_id or an external_id",
            {"anonymous_id": ["required without a (verified) external_id"]},
        )
    data = {"external_id": ANONYMOUS_PREFIX + identity.anonymous_id}
    if identity.fields.get("locale"):
        data["locale"] = identity.fields["locale"]
    return Claim(data, identified=False, verified=verified)


def resolve_visitor(
    session: Session, project: WidgetProject, identity: Identity, *, identity_secret: str
) -> Visitor:
    """Upsert the person a visit speaks for (see `claim`)."""
    who = claim(project, identity, identity_secret=identity_secret)
    return Visitor(_upsert(session, project.id, who), who.identified, who.verified)


def _unchanged(person: Person | VisitorRow, data: dict[str, Any]) -> bool:
    for name, value in data.items():
        if name == "email":
            value = normalise_email(value)
        elif name == "created_at":
            value = to_naive_utc(value) if value else None
        elif name == "properties":
            known = person.properties or {}
            if any(known.get(k, _MISSING) != v for k, v in (value or {}).items()):
                return False
            continue
        if getattr(person, name) != value:
            return False
    return True


def _is_current(person: Person | VisitorRow, who: Claim) -> bool:
    """True when the visit brings nothing new it may write: most visits repeat what the last
    one said, and an unsigned one may write nothing on a person the server wrote."""
    if not may_change(person, who.trusted):
        return True
    return (
        _unchanged(person, who.data)
        and (who.identified or person.anonymous)
        and (person.trusted or not who.trusted)
    )


@memo()
def _person_statement() -> Select:
    # Built once: on the widget's hot path, building a statement costs more than running it.
    return select(Person).where(
        Person.project_id == bindparam("project_id", type_=Integer()),
        Person.external_id == bindparam("external_id", type_=String()),
    )


def _upsert(session: Session, project_id: int, who: Claim) -> Person:
    """Upsert by external_id, writing nothing when the page view brings nothing new."""
    person = session.scalar(
        _person_statement(), {"project_id": project_id, "external_id": who.data["external_id"]}
    )
    if person is not None and _is_current(person, who):
        return person
    return _write_person(session, project_id, who)


def _write_person(session: Session, project_id: int, who: Claim) -> Person:
    """Create the person or bring them up to date (`upsert_person` finds them itself)."""
    person, _ = upsert_person(session, project_id, who.data, trusted=who.trusted)
    if not who.identified and not person.anonymous:
        person.anonymous = True
        session.flush()
    return person


def _create_visitor(
    session: Session, project_id: int, who: Claim, now: datetime
) -> VisitorRow | None:
    """A first visit: one compiled INSERT, whose values are the new person's row. None when
    another request created the same person meanwhile: the general upsert has then run, and
    the caller reads the state."""
    # Committed by itself on the thread's kept connection: nothing else the visit writes needs
    # to share its transaction, and the display, if any, follows the same way.
    row = insert_person_row(
        session,
        project_id,
        who.data,
        trusted=who.trusted,
        now=now,
        anonymous=not who.identified,
        at_once=True,
    )
    if row is None:
        _write_person(session, project_id, who)
        return None
    # `_fields`: the named tuple's documented list of its fields, underscored only so as not
    # to clash with one.
    return VisitorRow(**{name: row[name] for name in VisitorRow._fields})


def _require_survey(survey_ids: list[int | None], survey_id: int | None) -> None:
    """NotFound when the visit names a survey the project does not have."""
    if survey_id is not None and survey_id not in survey_ids:
        raise NotFound(f"survey {survey_id} not found", {"survey_id": survey_id})


def _candidates(surveys: list[SurveyState], survey_id: int | None) -> list[SurveyState]:
    if survey_id is not None:
        _require_survey([s.rules.survey_id for s in surveys], survey_id)
        return [s for s in surveys if s.rules.survey_id == survey_id]
    # Active widget surveys first, so the reason reported is the most telling one.
    return sorted(
        surveys,
        key=lambda s: (not s.rules.active, "widget" not in s.rules.channels, s.rules.survey_id),
    )


def _state(
    session: Session, project_id: int, who: Claim, *, now: datetime, survey_id: int | None
) -> VisitorState:
    """The visitor and their history, upserting the person first only when the visit brings
    something new."""
    external_id = who.data["external_id"]
    read = read_visitor(session, project_id, external_id, now=now)
    if read.person is None:
        # Before the person is written, which commits at once: a visit that
        # fails leaves nobody behind.
        _require_survey([row.survey_id for row in read.rows], survey_id)
        # The read found the surveys without the person: a person created now has no
        # history, so those rows are their state, with no second read.
        created = _create_visitor(session, project_id, who, now)
        if created is not None:
            return state_of(created, read)
    elif _is_current(read.person, who):
        return state_of(read.person, read)
    else:
        # The row just read says the person is out of date: write without looking them up a
        # second time.
        _write_person(session, project_id, who)
    state = visitor_state(session, project_id, external_id, now=now)
    assert state is not None  # written just now, in this transaction
    return state


@memo()
def _display_insert() -> PreparedWrite:
    """Compiled once: a display is written by the visit that shows a survey."""
    return PreparedWrite(
        insert(Display.__table__).returning(Display.__table__.c.id),
        ["project_id", "survey_id", "person_id", "created_at"],
    )


def visit(
    session: Session,
    project: WidgetProject,
    identity: Identity,
    *,
    identity_secret: str,
    now: datetime,
    locale: str | None = None,
    survey_id: int | None = None,
    force: bool = False,
) -> Visit:
    """Upsert the visitor, decide whether they see a survey now and, when so, create (or resume)
    its display. A page view that repeats the last one reads one statement and writes nothing.

    What a visit writes (the person as the page describes them, a display) the next page view
    sends again, so its commit need not wait for the disk (`commit_without_flush_wait`).
    """
    result = _visit(session, project, identity, identity_secret, now, locale, survey_id, force)
    commit_without_flush_wait(session)
    return result


def _visit(
    session: Session,
    project: WidgetProject,
    identity: Identity,
    identity_secret: str,
    now: datetime,
    locale: str | None,
    survey_id: int | None,
    force: bool,
) -> Visit:
    who = claim(project, identity, identity_secret=identity_secret)
    state = _state(session, project.id, who, now=now, survey_id=survey_id)
    person = state.person
    loc = base_locale(person.locale or locale)

    def no(reason: str, retry_after: int) -> Visit:
        return Visit(False, reason, retry_after, loc, who.identified, who.verified)

    surveys = _candidates(state.surveys, survey_id)
    if not surveys:
        return no("no_survey", int(eligibility.DAY.total_seconds()))
    decisions = [
        eligibility.decide(
            s.rules, s.history, throttle_days=project.throttle_days, now=now, force=force
        )
        for s in surveys
    ]
    chosen = eligibility.first_shown(decisions)
    if chosen is None:
        first = decisions[0]
        return no(first.reason, first.recheck_seconds(now))
    survey, decision = surveys[chosen], decisions[chosen]
    display_id = survey.open_display_id if decision.resume else None
    if display_id is None:
        values = {
            "project_id": project.id,
            "survey_id": survey.rules.survey_id,
            "person_id": person.id,
            "created_at": now,
        }
        # In the transaction of the person's update when the visit wrote one; else by itself
        # on the kept connection, as the new person's row was.
        (display_id,) = _display_insert().returning_at_once(session, values)
    return Visit(
        True,
        decision.reason,
        None,
        loc,
        who.identified,
        who.verified,
        display_id=display_id,
        survey_id=survey.rules.survey_id,
        product_name=survey.product_name,
        question=question_text(survey.question, survey.product_name, person.locale or locale),
    )


def _display(session: Session, project_id: int, display_id: int) -> Display:
    display = session.get(Display, display_id)
    if display is None or display.project_id != project_id:
        raise NotFound("display not found")
    return display


@dataclass(frozen=True)
class WidgetAnswer:
    response: SurveyResponse
    segment: str | None
    followup: str | None


def answer(
    session: Session,
    project_id: int,
    display_id: int,
    *,
    score: int | None,
    comment: str | None,
    locale: str | None,
    now: datetime,
) -> WidgetAnswer:
    """Record the score (and later the comment) of one display: one display, one response."""
    if score is None and comment is None:
        raise Invalid("send a score or a comment", {"score": ["score or comment is required"]})
    if comment is not None and not comment.strip():
        raise Invalid("comment must not be empty", {"comment": ["must not be empty"]})
    display = _display(session, project_id, display_id)
    if score is None:
        has_response = session.scalar(
            select(SurveyResponse.id).where(SurveyResponse.display_id == display.id)
        )
        if has_response is None:
            raise Conflict("answer the score before the comment", {"display": "unanswered"})
    person = session.get(Person, display.person_id)
    response, _ = record_answer(
        session,
        project_id,
        person,
        Answer(
            survey_id=display.survey_id,
            score=score,
            comment=comment,
            channel="widget",
            locale=locale,
            display_id=display.id,
        ),
        now=now,
    )
    if display.responded_at is None:
        display.responded_at = now
    session.flush()
    segment = segment_of(response.score)
    followup = None
    if segment is not None:
        survey = session.get(Survey, display.survey_id)
        followup = followup_text(survey.followup, survey.product_name, segment.value, locale)
    return WidgetAnswer(response, segment.value if segment else None, followup)


def dismiss(session: Session, project_id: int, display_id: int, *, now: datetime) -> Display:
    """Closing without answering: starts the dismissal backoff. Idempotent; a no-op once
    answered (closing the thank-you card is not a dismissal)."""
    display = _display(session, project_id, display_id)
    if display.responded_at is None and display.dismissed_at is None:
        display.dismissed_at = now
        session.flush()
    return display


def feedback(
    session: Session,
    project_id: int,
    person: Person,
    *,
    comment: str,
    category: str | None,
    page_url: str | None,
    locale: str | None,
    now: datetime,
) -> SurveyResponse:
    """Free-form in-product feedback: a response without survey or score, so it counts in no
    NPS but is clustered with the comments."""
    response, _ = record_answer(
        session,
        project_id,
        person,
        Answer(
            survey_id=None,
            score=None,
            comment=comment,
            channel="widget",
            locale=locale,
            category=category,
            page_url=page_url,
        ),
        now=now,
    )
    return response


def token_lifetime() -> timedelta:
    """How long a display token stays valid: a tab left open over a long weekend."""
    return timedelta(days=7)
