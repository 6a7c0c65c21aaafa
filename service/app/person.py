"""A person's page: their properties and their answers across periods, newest first."""

from __future__ import annotations

from flask import render_template

from service.app.shell import bp, team
from service.app.triage import page_path, triage_of
from service.db import db
from surveys.people import get_person
from surveys.periods import period_of
from surveys.response_context import response_contexts
from surveys.response_filters import ResponseFilters, list_newest_responses

# More answers than a person gives in decades of quarterly surveys and in-product feedback.
ANSWERS_SHOWN = 500


@bp.get("/people/<int:person_id>")
def person(person_id: int):  # noqa: ANN201
    project = team().project
    found = get_person(db(), project.id, person_id)
    answers = list_newest_responses(
        db(), project.id, ResponseFilters(person_id=found.id), limit=ANSWERS_SHOWN
    ).items
    return render_template(
        "app/person.html",
        person=found,
        answers=answers,
        contexts=response_contexts(db(), project.id, answers),
        periods={
            a.id: period_of(a.created_at, "quarter", project.time_zone).label for a in answers
        },
        sees_emails=team().sees_emails,
        triage=triage_of(project.id, answers),
        here=page_path(),
    )
