"""The in-product widget's domain: visits (person upsert, eligibility, display), answers,
dismissals and free-form feedback, all through the same rules and `record_answer` as every door.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    bindparam,
    select,
)
from sqlalchemy.orm import Session

from surveys import eligibility
from surveys.answers import Answer, record_answer
from surveys.clock import to_naive_utc
from surveys.errors import Conflict, Invalid, NotFound
from surveys.keys import verify_user_hash
from surveys.models import Display, Person, Project, Survey, SurveyResponse
from surveys.people import normalise_email, upsert_person
from surveys.scoring import segment_of
from surveys.texts import base_locale, followup_text, question_text
from surveys.widget_history import histories

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


@dataclass(frozen=True)
class Visit:
    show: bool
    reason: str
    retry_after: int | None
    locale: str
    display_id: int | None = None
    survey: Survey | None = None
    question: str | None = None


def resolve_visitor(
    session: Session, project: WidgetProject, identity: Identity, *, identity_secret: str
) -> Visitor:
    """Upsert the person a visit speaks for.

    On a project that requires identity verification, an external_id without a valid user_hash
    is ignored: the visitor is served anonymously and cannot read or change that person.
    """
    verified = True
    if identity.external_id:
        verified = not project.require_identity_verification or verify_user_hash(
            identity_secret, identity.external_id, identity.user_hash
        )
        if verified:
            data = {k: v for k, v in identity.fields.items() if k in IDENTITY_FIELDS}
            data["external_id"] = identity.external_id
            return Visitor(_upsert(session, project.id, data), identified=True, verified=True)
    if not identity.anonymous_id:
        raise Invalid(
            "a visit needs an anonymous_id or an external_id",
            {"anonymous_id": ["required without a (verified) external_id"]},
        )
    data = {"external_id": ANONYMOUS_PREFIX + identity.anonymous_id}
    if identity.fields.get("locale"):
        data["locale"] = identity.fields["locale"]
    person = _upsert(session, project.id, data)
    if not person.anonymous and person.external_id.startswith(ANONYMOUS_PREFIX):
        person.anonymous = True
        session.flush()
    return Visitor(person, identified=False, verified=verified)


def _unchanged(person: Person, data: dict[str, Any]) -> bool:
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


@functools.cache
def _person_statement() -> Select:
    # Built once: on the widget's hot path, building a statement costs more than running it.
    return select(Person).where(
        Person.project_id == bindparam("project_id", type_=Integer()),
        Person.external_id == bindparam("external_id", type_=String()),
    )


@functools.cache
def _surveys_statement() -> Select:
    return (
        select(Survey)
        .where(Survey.project_id == bindparam("project_id", type_=Integer()))
        .order_by(Survey.id)
    )


def _upsert(session: Session, project_id: int, data: dict[str, Any]) -> Person:
    """Upsert by external_id, writing nothing when the page view brings nothing new: most
    visits repeat what the person's last visit said."""
    person = session.scalar(
        _person_statement(), {"project_id": project_id, "external_id": data["external_id"]}
    )
    if person is not None and _unchanged(person, data):
        return person
    person, _ = upsert_person(session, project_id, data)
    return person


def _candidates(session: Session, project_id: int, survey_id: int | None) -> list[Survey]:
    if survey_id is not None:
        survey = session.get(Survey, survey_id)
        if survey is None or survey.project_id != project_id:
            raise NotFound(f"survey {survey_id} not found", {"survey_id": survey_id})
        return [survey]
    surveys = list(session.scalars(_surveys_statement(), {"project_id": project_id}))
    # Active widget surveys first, so the reason reported is the most telling one.
    return sorted(surveys, key=lambda s: (not s.active, "widget" not in (s.channels or ()), s.id))


def _rules(survey: Survey) -> eligibility.SurveyRules:
    return eligibility.SurveyRules(
        survey_id=survey.id,
        active=survey.active,
        channels=tuple(survey.channels or ()),
        min_age_days=survey.min_age_days,
        cadence_days=survey.cadence_days,
        dismiss_backoff_days=survey.dismiss_backoff_days,
        sample_rate=survey.sample_rate,
        daily_response_cap=survey.daily_response_cap,
    )


def visit(
    session: Session,
    project: WidgetProject,
    person: Person,
    *,
    now: datetime,
    locale: str | None = None,
    survey_id: int | None = None,
    force: bool = False,
) -> Visit:
    """Decide whether the person sees a survey now; when so, create (or resume) its display."""
    loc = person.locale or locale
    surveys = _candidates(session, project.id, survey_id)
    if not surveys:
        day = int(eligibility.DAY.total_seconds())
        return Visit(False, "no_survey", day, base_locale(loc))
    known, open_ids = histories(session, person, surveys, now=now)
    decisions = [
        eligibility.decide(
            _rules(s), known[s.id], throttle_days=project.throttle_days, now=now, force=force
        )
        for s in surveys
    ]
    chosen = eligibility.first_shown(decisions)
    if chosen is None:
        first = decisions[0]
        return Visit(False, first.reason, first.recheck_seconds(now), base_locale(loc))
    survey, decision = surveys[chosen], decisions[chosen]
    display_id = open_ids.get(survey.id) if decision.resume else None
    if display_id is None:
        display = Display(
            project_id=project.id, survey_id=survey.id, person_id=person.id, created_at=now
        )
        session.add(display)
        session.flush()
        display_id = display.id
    return Visit(
        True,
        decision.reason,
        None,
        base_locale(loc),
        display_id=display_id,
        survey=survey,
        question=question_text(survey.question, survey.product_name, loc),
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
