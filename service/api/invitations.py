"""The email outbox: invitations, ad hoc sends, per-survey counts, schedules, unsubscribes."""

from __future__ import annotations

from dataclasses import asdict

from service.api.base import api_blueprint
from service.auth import current_project
from service.db import db
from service.pagination import PageArgs, decode_cursor, page_response, page_schema
from service.schemas.invitations import (
    AdHocResultSchema,
    AdHocSchema,
    InvitationListArgs,
    InvitationSchema,
    InvitationStatsSchema,
    PersonScheduleSchema,
    RatesArgs,
    RatesSchema,
    UnsubscribeInSchema,
    UnsubscribeSchema,
)
from surveys.clock import utcnow
from surveys.email import delivery, outbox, rates, unsubscribes
from surveys.people import get_person

bp = api_blueprint(
    "invitations", __name__, "Email surveys: the outbox, schedules and unsubscribes."
)


@bp.route("/invitations", methods=["GET"])
@bp.arguments(InvitationListArgs, location="query")
@bp.response(200, page_schema(InvitationSchema, "InvitationPage"))
def list_invitations(args):
    """List invitations (the outbox), oldest first; filter by survey, person or status."""
    page = delivery.list_invitations(
        db(),
        current_project().id,
        limit=args["limit"],
        after=decode_cursor(args["cursor"]),
        survey_id=args.get("survey_id"),
        status=args.get("status"),
        person_id=args.get("person_id"),
    )
    return page_response(page, InvitationSchema())


@bp.route("/invitations/<int:invitation_id>", methods=["GET"])
@bp.response(200, InvitationSchema)
def read_invitation(invitation_id):
    """Read one invitation."""
    return delivery.get_invitation(db(), current_project().id, invitation_id)


@bp.route("/surveys/<int:survey_id>/invitations", methods=["POST"])
@bp.arguments(AdHocSchema)
@bp.response(201, AdHocResultSchema)
def invite_now(data, survey_id):
    """Invite people now (ad hoc), outside the cadence.

    Unsubscribed, bounced and address-less people are skipped (with a reason); so are people
    inside the fatigue guard unless `force` is true.
    """
    result = outbox.invite_now(
        db(), current_project(), survey_id, data["person_ids"], utcnow(), force=data["force"]
    )
    db().commit()
    return {"invitations": result.invitations, "skipped": result.skipped}


@bp.route("/surveys/<int:survey_id>/invitations/stats", methods=["GET"])
@bp.response(200, InvitationStatsSchema)
def invitation_stats(survey_id):
    """Counts of a survey's invitations by state, responses and the response rate."""
    return asdict(delivery.counts(db(), current_project().id, survey_id))


@bp.route("/surveys/<int:survey_id>/invitations/rates", methods=["GET"])
@bp.arguments(RatesArgs, location="query")
@bp.response(200, RatesSchema)
def invitation_rates(args, survey_id):
    """The email response rate per period: of the invitations sent in each period (by when
    they were sent, in the project's time zone), how many were answered. Reminders are not
    counted. The team app's overview shows the same figures."""
    found = rates.survey_rates(
        db(),
        current_project(),
        survey_id,
        args["group_by"],
        args.get("since"),
        args.get("until"),
        utcnow(),
    )
    return {
        "buckets": [
            {
                "key": period.label,
                "start": period.start,
                "end": period.end,
                "sent": rate.sent,
                "responded": rate.responded,
                "response_rate": rate.rate,
            }
            for period, rate in found
        ]
    }


@bp.route("/people/<int:person_id>/schedule", methods=["GET"])
@bp.response(200, PersonScheduleSchema)
def person_schedule(person_id):
    """When each email survey is next due for this person, or why it is not."""
    project = current_project()
    person = get_person(db(), project.id, person_id)
    plans = outbox.person_schedule(db(), project, person, utcnow())
    return {"person_id": person.id, "surveys": [asdict(p) for p in plans]}


@bp.route("/unsubscribes", methods=["GET"])
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_schema(UnsubscribeSchema, "UnsubscribePage"))
def list_unsubscribes(args):
    """People who unsubscribed from survey email."""
    page = unsubscribes.list_unsubscribed(
        db(), current_project().id, limit=args["limit"], after=decode_cursor(args["cursor"])
    )
    return page_response(page, UnsubscribeSchema())


@bp.route("/unsubscribes", methods=["POST"])
@bp.arguments(UnsubscribeInSchema)
@bp.response(201, UnsubscribeSchema)
@bp.alt_response(200, schema=UnsubscribeSchema, description="An existing person.")
def add_unsubscribe(data):
    """Unsubscribe a person by `person_id`, `external_id` or `email`.

    An unknown email is stored as an unsubscribed person (201), so adding them later keeps
    them unsubscribed. Their scheduled invitations are cancelled.
    """
    person, created = unsubscribes.add_unsubscribe(db(), current_project().id, data, utcnow())
    db().commit()
    return person, 201 if created else 200
